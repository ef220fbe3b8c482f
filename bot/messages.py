"""The neutral outbound message model.

A message is plain ``text`` (the notification/fallback text every platform needs) plus a few
simple blocks that each adapter renders natively (Block Kit, Adaptive Cards, terminal text).
Messages are stored in the outbox as JSON, so every block is a plain dataclass that pydantic's
``TypeAdapter`` can (de)serialise with the ``kind`` discriminator.

User-provided text is kept verbatim here; escaping is the renderer's job because each platform
escapes differently.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import Field, TypeAdapter


@dataclass(slots=True)
class Header:
    text: str
    kind: Literal["header"] = "header"


@dataclass(slots=True)
class Text:
    """A paragraph. ``markdown`` allows *bold*, _italic_ and links written by the bot itself."""

    text: str
    markdown: bool = True
    kind: Literal["text"] = "text"


@dataclass(slots=True)
class LinkCard:
    """A titled link with an optional one-line description and image (weekly picks, courses)."""

    title: str
    url: str
    description: str = ""
    source: str = ""
    image_url: str = ""
    kind: Literal["link"] = "link"


@dataclass(slots=True)
class Fields:
    """Label/value pairs shown compactly (a summary, a report row)."""

    items: list[tuple[str, str]]
    kind: Literal["fields"] = "fields"


@dataclass(slots=True)
class Button:
    """A button: ``action_id`` routes the press in the core, ``value`` carries its argument."""

    label: str
    action_id: str
    value: str = ""
    style: Literal["default", "primary", "danger"] = "default"
    url: str = ""


@dataclass(slots=True)
class Buttons:
    buttons: list[Button]
    kind: Literal["buttons"] = "buttons"


@dataclass(slots=True)
class Divider:
    kind: Literal["divider"] = "divider"


@dataclass(slots=True)
class Note:
    """Small print under a message (a hint, a source, a timestamp); Slack calls it "context"."""

    text: str
    kind: Literal["context"] = "context"


@dataclass(slots=True)
class FormField:
    """One input of a :class:`Form`. ``kind`` ``choice`` shows ``options``."""

    name: str
    label: str
    kind: Literal["text", "long_text", "choice"] = "text"
    options: list[str] = field(default_factory=list)
    initial: str = ""
    optional: bool = False
    max_length: int = 200


@dataclass(slots=True)
class Form:
    """A form filled in one go: a Slack modal, an Adaptive Card with inputs in Teams.

    Offered as a faster alternative to a step-by-step conversation, never instead of it (the
    console shows it as text). Its submission comes back as a ``ButtonPressed`` with
    ``action_id=submit_action_id`` and ``value`` = a JSON object of field name -> text.
    In Slack a form can only open in answer to a button press (Slack needs the click's
    trigger), so put it in the reply to a button such as "Use a form instead".
    """

    title: str
    submit_action_id: str
    fields: list[FormField]
    submit_label: str = "Submit"
    step_by_step: str = "Reply here step by step."
    """Said where the form cannot open (a Slack message, the console), in the reader's language."""
    required: str = "Please fill in {label}."
    """A required field left empty (Teams checks it on the card); ``{label}`` is the field's label."""
    kind: Literal["form"] = "form"


Block = Annotated[
    Header | Text | LinkCard | Fields | Buttons | Divider | Note | Form, Field(discriminator="kind")
]


@dataclass(slots=True)
class Message:
    """What the bot says.

    ``dm`` asks the adapter to deliver a reply in the person's direct conversation with the bot
    even when the command was typed in a channel (multi-turn conversations happen in a DM).
    ``private`` marks a reply that carries personal data (course status, RSVP names, one's own
    offers, a report): an adapter must never show it in a shared channel. It goes to the
    person privately (Slack ephemeral or DM, the Teams personal chat) with at most
    :data:`PRIVATE_POINTER` left in the channel; if that is impossible, :data:`PRIVATE_FAILED`
    is shown instead of the content.
    ``attachments`` holds named files such as an ``.ics`` invitation (name -> text content).
    ``replaces_pressed``, on a reply to a button, asks the adapter to show it *in place of* the
    message whose button was pressed (Slack ``replace_original``, Teams ``updateActivity``), so
    a reminder's Done / Remind later buttons can't be pressed twice; where the platform can't
    (the console, a press with no message to update) it is an ordinary reply.
    """

    text: str
    blocks: list[Block] = field(default_factory=list)
    dm: bool = False
    attachments: dict[str, str] = field(default_factory=dict)
    private: bool = False
    replaces_pressed: bool = False

    def to_json(self) -> dict[str, Any]:
        return _MESSAGE_ADAPTER.dump_python(self, mode="json")

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Message:
        return _MESSAGE_ADAPTER.validate_python(data)


_MESSAGE_ADAPTER: TypeAdapter[Message] = TypeAdapter(Message)


def plain(text: str, *, dm: bool = False, private: bool = False, replaces_pressed: bool = False) -> Message:
    """A message that is just a paragraph of text."""
    return Message(text=text, blocks=[Text(text)], dm=dm, private=private, replaces_pressed=replaces_pressed)


def personal(*messages: Message) -> list[Message]:
    """Mark replies as carrying personal data (see :attr:`Message.private`)."""
    for message in messages:
        message.private = True
    return list(messages)


PRIVATE_POINTER = "I've sent you the details privately."
PRIVATE_FAILED = (
    "That answer is personal, so I won't post it here, and I couldn't reach you privately. "
    "Open a chat with me (or install me for yourself) and ask again there."
)
