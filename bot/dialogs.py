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

from storage.models import DialogState

if TYPE_CHECKING:
    from bot.router import Context, Reply


@dataclass(frozen=True, slots=True)
class Dialog:
    """A named conversation: ``on_text`` gets each typed reply with the stored state.

    ``topic`` names it in the expiry note ("your skillshare offer"); ``restart_hint`` tells
    the person how to begin again.
    """

    name: str
    topic: str
    restart_hint: str
    on_text: Callable[[Context, DialogState, str], Awaitable[Reply]]


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
