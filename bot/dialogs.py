"""Multi-turn conversations whose state lives in the database.

A person has at most one open dialog. Any replica can continue it, a restart loses nothing,
and an idle dialog expires with a friendly note. Features register a :class:`Dialog` with the
router and move between named steps with :func:`save`; :func:`finish` ends it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import ENGLISH, Translator
from bot.messages import Message, plain
from storage.models import DialogState

if TYPE_CHECKING:
    from bot.router import Context, Reply


@dataclass(frozen=True, slots=True)
class Dialog:
    """A named conversation: ``on_text`` gets each typed reply with the stored state, and
    ``on_action`` each press of a button whose id is in ``actions`` (``ctx, state, action_id,
    value``).

    The core resumes, expires and cancels every dialog the same way, whether the person types
    or presses a button: a press on a dialog's button when that dialog is no longer open gets
    "that conversation has ended" with ``restart_hint``, an idle one the expiry note.
    ``topic`` names it in the expiry note ("your skillshare offer"); ``restart_hint`` tells
    the person how to begin again.
    """

    name: str
    topic: str
    restart_hint: str
    on_text: Callable[[Context, DialogState, str], Awaitable[Reply]]
    on_action: Callable[[Context, DialogState, str, str], Awaitable[Reply]] | None = None
    actions: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if self.actions and self.on_action is None:
            raise ValueError(f"dialog {self.name} has button actions but no on_action")


CANCEL_WORDS = frozenset(
    {"cancel", "stop", "quit", "exit", "annuler", "arrêter", "arreter", "cancelar", "salir"}
)
"""Typed in a conversation, these drop it, in the three languages."""


async def cancel(
    session: AsyncSession, person_id: int, dialog: Dialog, *, dm: bool = False, t: Translator = ENGLISH
) -> Message:
    """End ``dialog`` without saving anything (typed "cancel" or a Cancel button). ``topic``
    and ``restart_hint`` are message ids (``N_``), said in the person's language ``t``."""
    await finish(session, person_id)
    return plain(t._("Cancelled {topic}; nothing was saved.", topic=t._(dialog.topic)), dm=dm)


def ended(dialog: Dialog, t: Translator = ENGLISH) -> Message:
    """The answer to a button of a dialog that is no longer open."""
    return plain(t._("That conversation has ended.") + " " + t._(dialog.restart_hint), dm=True)


async def current(session: AsyncSession, person_id: int) -> DialogState | None:
    return await session.get(DialogState, person_id)


async def save(
    session: AsyncSession,
    person_id: int,
    dialog: str,
    step: str,
    data: dict[str, Any],
    now: datetime,
    idle: timedelta,
) -> DialogState:
    """Start or advance a dialog. Starting one replaces any other open dialog."""
    state = await session.get(DialogState, person_id)
    if state is None:
        state = DialogState(
            person_id=person_id,
            dialog=dialog,
            step=step,
            data=dict(data),
            updated_at=now,
            expires_at=now + idle,
        )
        session.add(state)
    else:
        state.dialog, state.step, state.data = dialog, step, dict(data)
        state.updated_at, state.expires_at = now, now + idle
    await session.flush()
    return state


async def finish(session: AsyncSession, person_id: int) -> None:
    state = await session.get(DialogState, person_id)
    if state is not None:
        await session.delete(state)
        await session.flush()


async def expired(session: AsyncSession, now: datetime, limit: int = 500) -> list[DialogState]:
    result = await session.scalars(
        select(DialogState).where(DialogState.expires_at <= now).order_by(DialogState.expires_at).limit(limit)
    )
    return list(result)
