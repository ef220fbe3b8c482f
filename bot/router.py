"""The command router: features register commands, button actions, free-text interpreters,
dialogs and jobs here, and :class:`bot.core.Learnbot` dispatches neutral events to them.

Handlers have explicit signatures (``handler(ctx, args)``), no argument injection.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import AppConfig
from bot.dialogs import Dialog
from bot.events import Event
from bot.i18n import Translator
from bot.messages import Message
from bot.outbox import Destination, Planned
from storage.models import Person

if TYPE_CHECKING:
    from bot.core import Learnbot

Reply = Message | list[Message] | None
CommandHandler = Callable[["Context", str], Awaitable[Reply]]
ActionHandler = Callable[["Context", str], Awaitable[Reply]]
Interpreter = Callable[["Context", str], Awaitable[Reply]]
"""Free-text interpreter: returns a reply if the text was meant for it, ``None`` otherwise."""
JoinHandler = Callable[["Context"], Awaitable[Reply]]
HomeSection = Callable[["Context"], Awaitable[list[Message]]]
FileHandler = Callable[["Context"], Awaitable[Reply]]
"""Handles a :class:`bot.events.FileShared` (``ctx.event``); ``None`` lets the next one try."""
Job = Callable[["Learnbot", AsyncSession, dict[str, Any]], Awaitable[str]]
"""A scheduled job: gets the app, a session and its ``args`` from app.yaml; returns a summary."""


class Feature(Protocol):
    """A feature as the core sees it: anything with ``register(router)`` (normally a package
    under ``bot/features/``). The composition root hands the list to :class:`bot.core.Learnbot`."""

    def register(self, router: Router) -> None: ...


HELP_WORDS = {"help", "menu", "commands", "aide", "commandes", "ayuda", "menú", "comandos"}
GREETINGS = {
    "hi", "hello", "hey", "hiya", "good morning", "good afternoon", "good evening", "hi there",
    "bonjour", "salut", "coucou", "bonsoir", "hola", "buenos días", "buenos dias", "buenas",
    "buenas tardes", "buenas noches", "hi learnbot", "hello learnbot", "hola learnbot", "bonjour learnbot",
}  # fmt: skip


def _bare(text: str) -> str:
    return " ".join(text.lower().strip("!.?¡¿ 👋🙂😊").split())


def is_help_word(text: str) -> bool:
    """``help``, ``aide``, ``ayuda``, ``?`` and the like: a request for the general help."""
    return _bare(text) in HELP_WORDS or text.strip() in {"?", "¿?"}


def is_greeting(text: str) -> bool:
    """``hi``, ``bonjour``, ``hola 👋``: a greeting deserves a greeting, not the command list."""
    return _bare(text) in GREETINGS or text.strip() == "👋"


@dataclass(slots=True)
class Context:
    """Everything a handler may use for one event: the event, the person, a session (committed
    by the core after the handler returns) and the app's services."""

    app: Learnbot
    event: Event
    session: AsyncSession
    person: Person

    @property
    def t(self) -> Translator:
        """The person's language and formats (their choice, platform, office, English)."""
        return self.app.translator_for(self.person)

    def _(self, message: str, /, **values: object) -> str:
        """``message`` in the person's language, with ``{name}`` fields filled from ``values``."""
        return self.t._(message, **values)

    def ngettext(self, singular: str, plural: str, n: int, /, **values: object) -> str:
        """The singular or plural text for ``n`` in the person's language (``{n}`` available)."""
        return self.t.ngettext(singular, plural, n, **values)

    @property
    def now(self) -> datetime:
        return self.app.clock.now()

    @property
    def config(self) -> AppConfig:
        return self.app.config

    @property
    def is_learning_manager(self) -> bool:
        """A learning manager of some office, or an org admin (who may do what managers do)."""
        return bool(self.managed_offices)

    @property
    def is_org_admin(self) -> bool:
        return bool(self.app.config.is_org_admin(self.person.email))

    @property
    def managed_offices(self) -> frozenset[str]:
        """The office ids this person acts for as a manager (every office for an org admin)."""
        return frozenset(self.app.config.managed_office_ids(self.person.email))

    def manages(self, office_id: str | None) -> bool:
        """Whether a manager-only action on ``office_id`` is within this person's scope."""
        return self.app.config.office(office_id).id in self.managed_offices

    async def send(
        self, destination: Destination, message: Message, key: str, *, expires_at: datetime | None = None
    ) -> list[Planned]:
        """Plan a proactive message through the outbox (delivered after this event commits),
        until ``expires_at`` (default: by its kind, see :func:`bot.outbox.default_deadline`)."""
        return await self.app.plan(
            self.session, destination=destination, message=message, key=key, expires_at=expires_at
        )


@dataclass(frozen=True, slots=True)
class Subcommand:
    command: str
    name: str
    handler: CommandHandler
    help: str
    usage: str = ""
    managers_only: bool = False
    private: bool = False
    """Its answers carry personal data: the core marks them :attr:`Message.private`."""


@dataclass(slots=True)
class Router:
    commands: dict[str, dict[str, Subcommand]] = field(default_factory=dict)
    command_help: dict[str, str] = field(default_factory=dict)
    actions: dict[str, ActionHandler] = field(default_factory=dict)
    interpreters: list[tuple[int, str, Interpreter]] = field(default_factory=list)
    dialogs: dict[str, Dialog] = field(default_factory=dict)
    dialog_actions: dict[str, Dialog] = field(default_factory=dict)
    """Button ids that resume a dialog (``Dialog.actions``), to the dialog they belong to."""
    join_handlers: list[JoinHandler] = field(default_factory=list)
    home_sections: list[tuple[int, HomeSection]] = field(default_factory=list)
    jobs: dict[str, Job] = field(default_factory=dict)
    private_actions: set[str] = field(default_factory=set)
    """Buttons whose answers carry personal data (marked private by the core)."""
    private_interpreters: set[str] = field(default_factory=set)
    file_handlers: list[FileHandler] = field(default_factory=list)

    def describe(self, command: str, text: str) -> None:
        """One line about a top-level command, shown in the general help."""
        self.command_help[command] = text
        self.commands.setdefault(command, {})

    def command(
        self,
        command: str,
        name: str,
        *,
        help: str,
        usage: str = "",
        managers_only: bool = False,
        private: bool = False,
    ) -> Callable[[CommandHandler], CommandHandler]:
        """Register ``/command name ...``. ``name=""`` handles the bare command. ``private``:
        every answer carries personal data and is never shown in a shared channel."""

        def register(handler: CommandHandler) -> CommandHandler:
            subs = self.commands.setdefault(command, {})
            if name in subs:
                raise ValueError(f"/{command} {name} is registered twice")
            subs[name] = Subcommand(command, name, handler, help, usage, managers_only, private)
            return handler

        return register

    def action(self, action_id: str, *, private: bool = False) -> Callable[[ActionHandler], ActionHandler]:
        """Register a button ``action_id`` (exact match, e.g. ``"nudge.done"``)."""

        def register(handler: ActionHandler) -> ActionHandler:
            if action_id in self.actions:
                raise ValueError(f"action {action_id} is registered twice")
            if action_id in self.dialog_actions:
                raise ValueError(
                    f"action {action_id} already belongs to dialog {self.dialog_actions[action_id].name}"
                )
            self.actions[action_id] = handler
            if private:
                self.private_actions.add(action_id)
            return handler

        return register

    def interpreter(
        self, name: str, priority: int = 50, *, private: bool = False
    ) -> Callable[[Interpreter], Interpreter]:
        """Register a free-text interpreter; lower priority numbers are asked first. ``private``:
        its answers carry personal data (marked private by the core)."""

        def register(handler: Interpreter) -> Interpreter:
            if private:
                self.private_interpreters.add(name)
            self.interpreters.append((priority, name, handler))
            self.interpreters.sort(key=lambda item: (item[0], item[1]))
            return handler

        return register

    def dialog(self, dialog: Dialog) -> Dialog:
        """Register a dialog and the button ids that resume it (``Dialog.actions``)."""
        if dialog.name in self.dialogs:
            raise ValueError(f"dialog {dialog.name} is registered twice")
        for action_id in sorted(dialog.actions):
            if action_id in self.actions:
                raise ValueError(f"action {action_id} of dialog {dialog.name} is also a plain action")
            if action_id in self.dialog_actions:
                other = self.dialog_actions[action_id].name
                raise ValueError(f"action {action_id} of dialog {dialog.name} already belongs to {other}")
        self.dialogs[dialog.name] = dialog
        for action_id in dialog.actions:
            self.dialog_actions[action_id] = dialog
        return dialog

    def on_file(self, handler: FileHandler) -> FileHandler:
        """Register a handler for files sent to the bot."""
        self.file_handlers.append(handler)
        return handler

    def on_member_joined(self, handler: JoinHandler) -> JoinHandler:
        self.join_handlers.append(handler)
        return handler

    def home_section(self, order: int) -> Callable[[HomeSection], HomeSection]:
        """A section of the person's home (Slack App Home, ``/learning home`` elsewhere)."""

        def register(handler: HomeSection) -> HomeSection:
            self.home_sections.append((order, handler))
            self.home_sections.sort(key=lambda item: item[0])
            return handler

        return register

    def job(self, name: str) -> Callable[[Job], Job]:
        def register(handler: Job) -> Job:
            if name in self.jobs:
                raise ValueError(f"job {name} is registered twice")
            self.jobs[name] = handler
            return handler

        return register

    def find(self, command: str, text: str) -> tuple[Subcommand | None, str]:
        """The subcommand for ``text`` and the rest of the text as its arguments."""
        subs = self.commands.get(command, {})
        first, _, rest = text.strip().partition(" ")
        sub = subs.get(first.lower())
        if sub is not None:
            return sub, rest.strip()
        if not text.strip() and "" in subs:
            return subs[""], ""
        return None, text.strip()
