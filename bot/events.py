"""Neutral inbound events.

Adapters translate platform payloads (Slack events, Teams activities, console lines) into
these small dataclasses; the core never reads a raw payload. ``raw`` may ride along for
logging and debugging only.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from bot.untrusted import strip_bidi


@dataclass(frozen=True, slots=True)
class Actor:
    """Who did something, as the platform knows them.

    ``platform`` is ``"slack"``, ``"teams"`` or ``"console"``; ``user_id`` is the platform's own
    id (a Slack ``U…`` id, a Teams AAD object id, or the email in the console). The profile
    fields are filled in when the adapter knows them; the core links the actor to one person
    record across platforms by email.
    """

    platform: str
    user_id: str
    email: str | None = None
    display_name: str | None = None
    timezone: str | None = None
    locale: str | None = None
    workspace_id: str | None = None
    office_label: str | None = None
    """The office the platform's directory gives (a profile field named in app.yaml), if any."""

    def __post_init__(self) -> None:
        if self.display_name:
            object.__setattr__(self, "display_name", strip_bidi(self.display_name))


@dataclass(frozen=True, slots=True)
class Conversation:
    """Where an event happened: a direct message with the bot or a channel."""

    id: str
    is_direct: bool = True
    channel_name: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """Base of every inbound event.

    ``event_id`` is the platform's id for this delivery (Slack ``event_id``, Teams activity id);
    when set, the core handles each id once, so a platform retry does nothing the second time.
    """

    actor: Actor
    conversation: Conversation
    event_id: str | None = None
    raw: Any = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class CommandInvoked(Event):
    """A command such as ``/skillshare offer Excel`` (``name="skillshare"``, ``text="offer Excel"``)."""

    name: str
    text: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "text", strip_bidi(self.text))  # see bot.untrusted


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageReceived(Event):
    """Free text typed to the bot (a DM, or an @mention in a channel)."""

    text: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "text", strip_bidi(self.text))  # see bot.untrusted


@dataclass(frozen=True, slots=True, kw_only=True)
class ButtonPressed(Event):
    """A button click (Slack block_actions, Teams Action.Submit/Execute, ``!N`` in the console)."""

    action_id: str
    value: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "value", strip_bidi(self.value))  # form fields arrive here


@dataclass(frozen=True, slots=True, kw_only=True)
class MemberJoined(Event):
    """Someone joined a workspace/team the bot is in, or installed the bot."""


@dataclass(frozen=True, slots=True, kw_only=True)
class HomeOpened(Event):
    """The person opened the bot's home (Slack App Home; other platforms may reuse it)."""


class FileTooLarge(Exception):
    """A shared file is bigger than the core asked for; nothing more was downloaded."""


@dataclass(frozen=True, slots=True, kw_only=True)
class FileShared(Event):
    """Someone sent the bot a file (a Slack file share in a DM, a Teams personal-chat file).

    The core decides whether it wants the bytes before any are downloaded: ``fetch(max_bytes)``
    downloads them (with the platform's credentials, inside the adapter) and raises
    :class:`FileTooLarge` past ``max_bytes``."""

    name: str
    size: int
    fetch: Callable[[int], Awaitable[bytes]] = field(compare=False, repr=False)
    text: str = ""
