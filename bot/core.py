"""The core's one entry point, :meth:`Learnbot.handle`, and the services features share.

Adapters construct neutral events and call ``await app.handle(event)``; they get neutral
:class:`~bot.messages.Message` replies back and render them. Scheduled work calls
:meth:`Learnbot.run_job`. Nothing here knows which chat platform is on the other side.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import dialogs
from bot.clock import Clock, SystemClock
from bot.config import AppConfig
from bot.errors import Abandoned, UserError
from bot.events import (
    ButtonPressed,
    CommandInvoked,
    Event,
    FileShared,
    HomeOpened,
    MemberJoined,
    MessageReceived,
)
from bot.help import help_text
from bot.i18n import ENGLISH, N_, Catalogues, Translator
from bot.messages import Message, personal, plain
from bot.outbox import Destination, Planned, enqueue
from bot.people import resolve_actor
from bot.router import Context, Feature, Reply, Router, is_greeting, is_help_word
from bot.scope import names_for
from storage.models import Person, SeenEvent

logger = logging.getLogger(__name__)

RecordReplies = Callable[[AsyncSession, list[Message]], Awaitable[None]]
"""A caller's hook run in the event's transaction, just before it commits, with the replies:
the inbox stores them there, so the event's changes and its replies commit together."""

SORRY = N_("Sorry, something went wrong on my side and nothing was changed. Please try again in a minute.")


class Learnbot:
    """The bot: configuration, a session factory, a clock, the enabled platforms and the router.

    ``platforms`` are the chat platforms this process can deliver to (``slack``, ``teams``,
    ``console``); the outbox plans each proactive message for one of them. ``features`` come
    from the composition root (normally :data:`bot.features.FEATURES`): the core imports none.
    """

    def __init__(
        self,
        config: AppConfig,
        sessions: async_sessionmaker[AsyncSession],
        *,
        clock: Clock | None = None,
        platforms: Sequence[str] = ("console",),
        features: Iterable[Feature],
        catalogues: Catalogues | None = None,
    ) -> None:
        self.config = config
        self.sessions = sessions
        self.clock: Clock = clock or SystemClock()
        self.platforms = tuple(platforms)
        self.router = Router()
        self.outbox_ready = asyncio.Event()
        self.i18n = catalogues or Catalogues()
        for feature in features:
            feature.register(self.router)

    def translator_for(self, person: Person) -> Translator:
        """The person's language: their choice, their platform's locale, their office's, English."""
        office = self.config.office(person.office_id)
        return self.i18n.choose(person.language, person.locale, office.locale)

    # -- proactive messages -----------------------------------------------------------------
    async def plan(
        self,
        session: AsyncSession,
        *,
        destination: Destination,
        message: Message,
        key: str,
        not_before: datetime | None = None,
        expires_at: datetime | None = None,
    ) -> list[Planned]:
        planned = await enqueue(
            session,
            self.config,
            self.platforms,
            key=key,
            destination=destination,
            message=message,
            now=self.clock.now(),
            not_before=not_before,
            expires_at=expires_at,
        )
        self.outbox_ready.set()
        return planned

    # -- jobs -------------------------------------------------------------------------------
    async def run_job(self, name: str, args: dict[str, Any] | None = None) -> str:
        job = self.router.jobs.get(name)
        if job is None:
            known = ", ".join(sorted(self.router.jobs)) or "none"
            raise KeyError(f"no job named '{name}' (known jobs: {known})")
        async with self.sessions() as session, session.begin():
            summary = await job(self, session, dict(args or {}))
        logger.info("job %s: %s", name, summary)
        return summary

    # -- inbound events ---------------------------------------------------------------------
    async def handle(self, event: Event, *, record: RecordReplies | None = None) -> list[Message]:
        """Handle one inbound event and return the replies for the conversation it came from.

        ``record`` (the inbox's) runs in the event's transaction with the replies; it may raise
        :class:`Abandoned` to roll everything back."""
        t = self.i18n.choose(event.actor.locale, self.config.office(self.config.default_office).locale)
        async with self.sessions() as session:
            try:
                if event.event_id and not await self._first_time(session, event):
                    logger.info("event %s from %s already handled", event.event_id, event.actor.platform)
                    return []
                person = await resolve_actor(session, self.config, event.actor, self.clock.now())
                t = self.translator_for(person)
                ctx = Context(app=self, event=event, session=session, person=person)
                replies = _as_list(await self._dispatch(ctx))
                if record is not None:
                    await record(session, replies)
                await session.commit()
            except Abandoned:
                await session.rollback()
                raise
            except UserError as refusal:
                await session.rollback()
                return [plain(t._(refusal.message, **refusal.values))]
            except IntegrityError:
                await session.rollback()
                if event.event_id:
                    logger.info("event %s handled concurrently elsewhere", event.event_id)
                    return []
                logger.exception("conflict while handling %s", type(event).__name__)
                return [plain(t._(SORRY))]
            except Exception:
                await session.rollback()
                logger.exception("failed to handle %s", type(event).__name__)
                return [plain(t._(SORRY))]
        return replies

    async def _first_time(self, session: AsyncSession, event: Event) -> bool:
        assert event.event_id
        existing = await session.get(SeenEvent, (event.actor.platform, event.event_id))
        if existing is not None:
            return False
        session.add(
            SeenEvent(platform=event.actor.platform, event_id=event.event_id, seen_at=self.clock.now())
        )
        await session.flush()
        return True

    async def _dispatch(self, ctx: Context) -> Reply:
        event = ctx.event
        if isinstance(event, CommandInvoked):
            return await self.command(ctx, event.name, event.text)
        if isinstance(event, MessageReceived):
            return await self._message(ctx, event.text)
        if isinstance(event, ButtonPressed):
            dialog = self.router.dialog_actions.get(event.action_id)
            if dialog is not None:
                return await self._dialog_action(ctx, dialog, event)
            handler = self.router.actions.get(event.action_id)
            if handler is None:
                return plain(ctx._("That button no longer does anything. Type `help` to see what I can do."))
            reply = await handler(ctx, event.value)
            return personal(*_as_list(reply)) if event.action_id in self.router.private_actions else reply
        if isinstance(event, MemberJoined):
            replies: list[Message] = []
            for join_handler in self.router.join_handlers:
                replies.extend(_as_list(await join_handler(ctx)))
            return replies
        if isinstance(event, HomeOpened):
            return await self.home(ctx)
        if isinstance(event, FileShared):
            return await self._file(ctx)
        raise TypeError(f"unknown event type {type(event).__name__}")

    async def _file(self, ctx: Context) -> Reply:
        for handler in self.router.file_handlers:
            reply = await handler(ctx)
            if reply is not None:
                return reply
        return plain(
            ctx._("Thanks, but I can't do anything with files here. Type `help` to see what I can do.")
        )

    async def home(self, ctx: Context) -> list[Message]:
        sections: list[Message] = []
        for _order, section in self.router.home_sections:
            sections.extend(await section(ctx))
        return personal(*sections)  # a person's home is theirs alone

    async def command(self, ctx: Context, name: str, text: str) -> Reply:
        name = name.lstrip("/").lower()
        if name not in self.router.commands:
            return self.help_message(ctx, note=ctx._("I don't know the command `/{name}`.", name=name))
        sub, args = self.router.find(name, text)
        if sub is None:
            word = text.strip().split(" ", 1)[0]
            if word.lower() in {"help", ""}:
                return self.help_message(ctx, command=name)
            return self.help_message(
                ctx, command=name, note=ctx._("I don't know `/{command}`.", command=f"{name} {word}")
            )
        if sub.managers_only and not ctx.is_learning_manager:
            office = ctx.config.office(ctx.person.office_id)
            managers = ", ".join(await names_for(ctx.session, office.learning_managers))
            command = f"{name} {sub.name}"
            if managers:
                return plain(
                    ctx._(
                        "Sorry, only a learning manager can use `/{command}`. "
                        "Your learning manager ({managers}) can do it for you.",
                        command=command,
                        managers=managers,
                    )
                )
            return plain(ctx._("Sorry, only a learning manager can use `/{command}`.", command=command))
        reply = await sub.handler(ctx, args)
        return personal(*_as_list(reply)) if sub.private else reply

    async def _message(self, ctx: Context, text: str) -> Reply:
        text = text.strip()
        state = await dialogs.current(ctx.session, ctx.person.id)
        if state is not None:
            dialog = self.router.dialogs.get(state.dialog)
            if dialog is None or state.expires_at <= self.clock.now():
                await dialogs.finish(ctx.session, ctx.person.id)
                note = self.expiry_note(state.dialog, ctx.t)
                return [note, *_as_list(await self._command_or_free_text(ctx, text))]
            # In a conversation only "/..." is a command: an answer such as "Learning design"
            # must not be taken for "/learning design".
            if not text.startswith("/"):
                if text.lower() in dialogs.CANCEL_WORDS:
                    return await dialogs.cancel(ctx.session, ctx.person.id, dialog, t=ctx.t)
                return await dialog.on_text(ctx, state, text)
        return await self._command_or_free_text(ctx, text)

    async def _dialog_action(self, ctx: Context, dialog: dialogs.Dialog, event: ButtonPressed) -> Reply:
        """A button of ``dialog``: resume it if it is the person's open dialog, the same way as
        typed text; otherwise say it has ended (an idle one is ended here with the expiry note,
        so the expiry job won't repeat it). Another open dialog is left alone."""
        state = await dialogs.current(ctx.session, ctx.person.id)
        if state is None or state.dialog != dialog.name:
            return dialogs.ended(dialog, ctx.t)
        if state.expires_at <= self.clock.now():
            await dialogs.finish(ctx.session, ctx.person.id)
            return self.expiry_note(dialog.name, ctx.t)
        assert dialog.on_action is not None  # Dialog.__post_init__ checks it
        return await dialog.on_action(ctx, state, event.action_id, event.value)

    async def _command_or_free_text(self, ctx: Context, text: str) -> Reply:
        first = text.split(" ", 1)[0].lower()
        if text.startswith("/") or first in self.router.commands:
            name, _, rest = text.lstrip("/").partition(" ")
            return await self.command(ctx, name, rest)
        return await self._free_text(ctx, text)

    async def _free_text(self, ctx: Context, text: str) -> Reply:
        # Interpreters go first, even for "help": someone who just got a reminder and types
        # "help" may mean help with that course; an interpreter that knows so answers, and
        # everyone else gets the general help.
        if is_greeting(text):  # never an answer to anything: "hi" gets "hi", not a reminder
            return self.greeting(ctx)
        for _priority, name, interpreter in self.router.interpreters:
            reply = await interpreter(ctx, text)
            if reply is not None:
                return personal(*_as_list(reply)) if name in self.router.private_interpreters else reply
        if is_help_word(text):
            return self.help_message(ctx)
        return self.help_message(ctx, note=ctx._("Sorry, I didn't understand that."))

    def greeting(self, ctx: Context) -> Message:
        """A short friendly answer to "hi", in the person's language (the list is one `help` away)."""
        # Only in a direct conversation: a channel reply names nobody.
        named = ctx.person.display_name and ctx.event.conversation.is_direct
        first = ctx.person.display_name.split(" ")[0] if named else ""
        if first:
            return plain(ctx._("Hi {name}! 👋 How can I help? Type `help` to see what I can do.", name=first))
        return plain(ctx._("Hi! 👋 How can I help? Type `help` to see what I can do."))

    def expiry_note(self, dialog_name: str, t: Translator = ENGLISH) -> Message:
        dialog = self.router.dialogs.get(dialog_name)
        if dialog is None:
            return plain(t._("Our earlier conversation has ended."))
        minutes = self.config.dialog_idle_minutes
        said = t.ngettext(
            "We hadn't talked for {n} minute, so I set {topic} aside (nothing was saved).",
            "We hadn't talked for {n} minutes, so I set {topic} aside (nothing was saved).",
            minutes,
            topic=t._(dialog.topic),
        )
        return plain(f"{said} {t._(dialog.restart_hint)}")

    def help_message(self, ctx: Context | None, *, command: str | None = None, note: str = "") -> Message:
        manager = bool(ctx and ctx.is_learning_manager)
        t = ctx.t if ctx is not None else ENGLISH
        return help_text(t, self.router, self.config.bot_name, command=command, note=note, manager=manager)


def _as_list(reply: Reply) -> list[Message]:
    if reply is None:
        return []
    if isinstance(reply, Message):
        return [reply]
    return list(reply)
