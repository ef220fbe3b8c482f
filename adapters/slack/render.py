"""Render neutral messages as Slack Block Kit, always within Slack's limits.

Escaping rule (decided here, once, for every block):

* Everything that Slack parses as ``mrkdwn`` is escaped (``&`` -> ``&amp;``, ``<`` -> ``&lt;``,
  ``>`` -> ``&gt;``): message text, Text paragraphs, link-card titles and descriptions, field
  labels and values, notes. Nobody, not even a feature that pastes user text into its own
  sentence, can produce ``<!channel>``, ``<@U…>`` or a ``<https://evil|harmless label>`` link.
* The bot's own formatting survives: ``*bold*``, ``_italic_``, `` `code` `` need no escaping, and a
  neutral link written ``[label](https://…)`` in a markdown Text or Note becomes a real Slack
  link. A Text with ``markdown=False`` is shown as ``plain_text`` (no formatting at all).
* ``plain_text`` objects (headers, button labels, form labels, options) are not parsed by Slack,
  so they are passed verbatim and cannot inject anything.

Limits: long content is split (Text over 3000 characters becomes several sections, Fields over
10 items several sections, Buttons over 25 several action rows) or truncated with "…" (a
link-card description keeps its title link, so the reader can still follow it); a message over
50 blocks (100 in a view) ends with a note saying what was left out. Nothing is ever rejected.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from bot.messages import (
    Block,
    Button,
    Buttons,
    Divider,
    Fields,
    Form,
    FormField,
    Header,
    LinkCard,
    Message,
    Note,
    Text,
)

logger = logging.getLogger(__name__)

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
SECTION_TEXT = 3000
HEADER_TEXT = 150
BUTTON_TEXT = 75
BUTTON_VALUE = 2000
ACTION_ID = 255
URL = 3000
FIELDS_PER_SECTION = 10
FIELD_TEXT = 2000
CONTEXT_TEXT = 3000
ACTIONS_PER_BLOCK = 25
ALT_TEXT = 2000
NOTIFICATION_TEXT = 3000
MODAL_TITLE = 24
MODAL_BUTTON = 24
INPUT_LABEL = 2000
INPUT_MAX_LENGTH = 3000
OPTIONS = 100
OPTION_TEXT = 75
OPTION_VALUE = 150
PRIVATE_METADATA = 3000

FORM_CALLBACK_ID = "learnbot_form"
INPUT_ACTION_ID = "value"
LINK_ACTION_PREFIX = "link:"
"""Action ids of URL buttons: Slack reports their clicks too, and the adapter ignores them."""
_SUFFIX = "::"
"""Two buttons in one block may share a neutral action id (``nudge.done`` for two courses);
Slack wants unique ids per block, so the second gets ``nudge.done::1`` and the suffix is
stripped when the click comes back."""

_MD_LINK = re.compile(r"\[([^\]\n]+)\]\(((?:https?://|mailto:)[^\s)]+)\)")
_PARTIAL_ENTITY = re.compile(r"&[a-z]{0,4}$")
_SAFE_URL = re.compile(r"^(https?://|mailto:)\S+$")


# -- text --------------------------------------------------------------------------------------
def escape(text: str) -> str:
    """Slack's three control characters, escaped so user text is only ever text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def link(url: str, label: str) -> str:
    """A Slack link ``<url|label>``; a URL that is not http(s)/mailto is shown as text only."""
    if not _SAFE_URL.match(url) or len(url) > URL:
        return escape(label)
    safe_url = escape(url).replace("|", "%7C")
    return f"<{safe_url}|{escape(label).replace('|', '¦')}>"


def mrkdwn(text: str) -> str:
    """Escape ``text`` and turn the bot's ``[label](url)`` links into Slack links."""
    escaped = escape(text)
    return _MD_LINK.sub(lambda m: link(unescape(m.group(2)), unescape(m.group(1))), escaped)


def clip(text: str, limit: int, ellipsis: str = "…") -> str:
    """Cut escaped mrkdwn to ``limit`` characters without breaking an entity or a link."""
    if len(text) <= limit:
        return text
    cut = text[: limit - len(ellipsis)]
    opening = cut.rfind("<")
    if opening > cut.rfind(">"):
        cut = cut[:opening]
    cut = _PARTIAL_ENTITY.sub("", cut)
    space = cut.rfind(" ")
    if space > len(cut) - 40 and space > 0:
        cut = cut[:space]
    return cut.rstrip() + ellipsis


def clip_plain(text: str, limit: int) -> str:
    text = text.strip() or "…"
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def split(text: str, limit: int = SECTION_TEXT) -> list[str]:
    """Split escaped mrkdwn into pieces of at most ``limit``, at paragraph, line or word
    boundaries, never inside a ``<…>`` link."""
    pieces: list[str] = []
    rest = text
    while len(rest) > limit:
        window = rest[:limit]
        cut = -1
        for separator in ("\n\n", "\n", " "):
            cut = window.rfind(separator)
            if cut > limit // 2:
                break
        if cut <= 0:
            cut = limit
        opening = window.rfind("<", 0, cut)
        if opening > window.rfind(">", 0, cut) and opening > 0:
            cut = opening
        entity = _PARTIAL_ENTITY.search(window[:cut])
        if entity and entity.start() > 0:
            cut = entity.start()
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return [piece for piece in pieces if piece]


# -- blocks ------------------------------------------------------------------------------------
def _plain(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": clip_plain(text, limit)}


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _text_blocks(block: Text) -> list[dict[str, Any]]:
    if not block.text.strip():
        return []
    if not block.markdown:
        return [
            {"type": "section", "text": {"type": "plain_text", "text": piece}}
            for piece in _split_plain(block.text)
        ]
    return [_section(piece) for piece in split(mrkdwn(block.text))]


def _split_plain(text: str) -> list[str]:
    return [
        text[i : i + SECTION_TEXT]
        for i in range(0, len(text), SECTION_TEXT)
        if text[i : i + SECTION_TEXT].strip()
    ]


def _link_card(block: LinkCard) -> list[dict[str, Any]]:
    title = f"*{link(block.url, clip_plain(block.title, 500))}*"
    text = title
    if block.description.strip():
        room = SECTION_TEXT - len(title) - 1
        text = f"{title}\n{clip(escape(block.description.strip()), room)}"
    section = _section(text)
    if block.image_url and _SAFE_URL.match(block.image_url) and len(block.image_url) <= URL:
        section["accessory"] = {
            "type": "image",
            "image_url": block.image_url,
            "alt_text": clip_plain(block.title, ALT_TEXT),
        }
    blocks = [section]
    if block.source.strip():
        blocks.append(
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": clip(escape(block.source), CONTEXT_TEXT)}],
            }
        )
    return blocks


def _fields(block: Fields) -> list[dict[str, Any]]:
    rendered = []
    for label, value in block.items:
        head = f"*{clip(escape(label.strip() or ' '), 200)}*\n" if label.strip() else ""
        body = escape(value) if value.strip() else "—"
        rendered.append({"type": "mrkdwn", "text": head + clip(body, FIELD_TEXT - len(head))})
    return [
        {"type": "section", "fields": rendered[i : i + FIELDS_PER_SECTION]}
        for i in range(0, len(rendered), FIELDS_PER_SECTION)
    ]


def strip_action_suffix(action_id: str) -> str:
    return action_id.split(_SUFFIX, 1)[0]


def _button(button: Button, index: int, used: set[str]) -> dict[str, Any]:
    rendered: dict[str, Any] = {"type": "button", "text": _plain(button.label, BUTTON_TEXT)}
    if button.url and _SAFE_URL.match(button.url) and len(button.url) <= URL:
        action_id = f"{LINK_ACTION_PREFIX}{index}"
        rendered["url"] = button.url
    else:
        action_id = button.action_id[: ACTION_ID - 6] or "noop"
        if action_id in used:
            action_id = f"{action_id}{_SUFFIX}{index}"
        if button.value:
            if len(button.value) > BUTTON_VALUE:
                logger.warning(
                    "button %r: value longer than %s characters was cut", button.label, BUTTON_VALUE
                )
            rendered["value"] = button.value[:BUTTON_VALUE]
    used.add(action_id)
    rendered["action_id"] = action_id
    if button.style in ("primary", "danger"):
        rendered["style"] = button.style
    return rendered


def _buttons(block: Buttons) -> list[dict[str, Any]]:
    blocks = []
    for start in range(0, len(block.buttons), ACTIONS_PER_BLOCK):
        used: set[str] = set()
        chunk = block.buttons[start : start + ACTIONS_PER_BLOCK]
        elements = [_button(button, start + i, used) for i, button in enumerate(chunk)]
        blocks.append({"type": "actions", "elements": elements})
    return blocks


def _note(block: Note) -> list[dict[str, Any]]:
    if not block.text.strip():
        return []
    return [
        {"type": "context", "elements": [{"type": "mrkdwn", "text": clip(mrkdwn(block.text), CONTEXT_TEXT)}]}
    ]


def _form_in_message(block: Form) -> list[dict[str, Any]]:
    """A form outside a button reply cannot open a modal (Slack needs a click's trigger), so the
    message says what it asks and how to answer step by step instead."""
    names = ", ".join(escape(field.label) for field in block.fields)
    text = f"*{escape(block.title)}* — {names}. {escape(block.step_by_step)}"
    return [_section(clip(text, SECTION_TEXT))]


def render_block(block: Block) -> list[dict[str, Any]]:
    if isinstance(block, Header):
        return [{"type": "header", "text": _plain(block.text, HEADER_TEXT)}] if block.text.strip() else []
    if isinstance(block, Text):
        return _text_blocks(block)
    if isinstance(block, LinkCard):
        return _link_card(block)
    if isinstance(block, Fields):
        return _fields(block) if block.items else []
    if isinstance(block, Buttons):
        return _buttons(block) if block.buttons else []
    if isinstance(block, Divider):
        return [{"type": "divider"}]
    if isinstance(block, Note):
        return _note(block)
    if isinstance(block, Form):
        return _form_in_message(block)
    raise TypeError(f"unknown block {type(block).__name__}")


def _cap(blocks: list[dict[str, Any]], limit: int) -> list[dict[str, Any]]:
    if len(blocks) <= limit:
        return blocks
    kept = blocks[: limit - 1]
    left = len(blocks) - len(kept)
    logger.info("message of %s blocks shortened to %s", len(blocks), limit)
    note = f"…and {left} more item(s) not shown here. Type `/learning home` to see everything."
    return [*kept, {"type": "context", "elements": [{"type": "mrkdwn", "text": note}]}]


def render_blocks(blocks: list[Block], limit: int = MAX_MESSAGE_BLOCKS) -> list[dict[str, Any]]:
    rendered = [item for block in blocks for item in render_block(block)]
    return _cap(rendered, limit)


def render_message(message: Message) -> tuple[str, list[dict[str, Any]]]:
    """``(text, blocks)`` for chat.postMessage / postEphemeral / response_url: ``text`` is the
    escaped notification fallback Slack shows in notifications and screen readers."""
    text = clip(escape(message.text.strip()), NOTIFICATION_TEXT) or "…"
    blocks = render_blocks(message.blocks)
    if not blocks and message.text.strip():
        blocks = [_section(piece) for piece in split(escape(message.text))][:MAX_MESSAGE_BLOCKS]
    return text, blocks


def render_home(messages: list[Message]) -> dict[str, Any]:
    """The App Home tab: every section the core returned, one after another."""
    blocks: list[dict[str, Any]] = []
    for index, message in enumerate(messages):
        if index:
            blocks.append({"type": "divider"})
        rendered = render_blocks(message.blocks, MAX_VIEW_BLOCKS)
        blocks.extend(rendered or [_section(clip(escape(message.text), SECTION_TEXT))])
    return {"type": "home", "blocks": _cap(blocks, MAX_VIEW_BLOCKS)}


def find_form(message: Message) -> Form | None:
    return next((block for block in message.blocks if isinstance(block, Form)), None)


def _input(field: FormField) -> dict[str, Any]:
    element: dict[str, Any]
    if field.kind == "choice" and field.options:
        options = [
            {"text": _plain(option, OPTION_TEXT), "value": option[:OPTION_VALUE]}
            for option in field.options[:OPTIONS]
        ]
        element = {"type": "static_select", "action_id": INPUT_ACTION_ID, "options": options}
        initial = next((o for o in options if o["value"] == field.initial), None)
        if initial:
            element["initial_option"] = initial
    else:
        element = {
            "type": "plain_text_input",
            "action_id": INPUT_ACTION_ID,
            "multiline": field.kind == "long_text",
            "max_length": max(1, min(field.max_length, INPUT_MAX_LENGTH)),
        }
        if field.initial:
            element["initial_value"] = field.initial[: element["max_length"]]
    return {
        "type": "input",
        "block_id": field.name[:255],
        "label": _plain(field.label, INPUT_LABEL),
        "element": element,
        "optional": field.optional,
    }


def render_modal(message: Message, form: Form, private: dict[str, Any]) -> dict[str, Any]:
    """A modal for ``form``: the message's other blocks (an intro) above the inputs.

    ``private`` rides in ``private_metadata`` (the submit action id and where to answer)."""
    intro = render_blocks([b for b in message.blocks if not isinstance(b, Form | Buttons)], MAX_VIEW_BLOCKS)
    inputs = [_input(field) for field in form.fields]
    blocks = [*intro[: MAX_VIEW_BLOCKS - len(inputs)], *inputs][:MAX_VIEW_BLOCKS]
    metadata = json.dumps(private)
    if len(metadata) > PRIVATE_METADATA:
        raise ValueError("form metadata too long")
    return {
        "type": "modal",
        "callback_id": FORM_CALLBACK_ID,
        "title": _plain(form.title, MODAL_TITLE),
        "submit": _plain(form.submit_label, MODAL_BUTTON),
        "close": _plain("Cancel", MODAL_BUTTON),
        "private_metadata": metadata,
        "blocks": blocks,
    }


def form_values(view: dict[str, Any]) -> dict[str, str]:
    """Field name -> text from a view_submission's ``view.state.values``."""
    values: dict[str, str] = {}
    for block_id, actions in (view.get("state") or {}).get("values", {}).items():
        for action in actions.values():
            selected = action.get("selected_option") or {}
            values[block_id] = action.get("value") or selected.get("value") or ""
    return values


def flatten(blocks: list[dict[str, Any]], fallback: str = "") -> str:
    """What a person reads in these blocks, as plain text (links shown as ``label (url)``).
    Used to log what was shown and by tests that read what a person saw."""
    lines: list[str] = []

    def text_of(obj: dict[str, Any] | None) -> None:
        if obj and obj.get("text"):
            lines.append(_readable(obj["text"]))

    for block in blocks:
        kind = block.get("type")
        if kind in ("header", "section"):
            text_of(block.get("text"))
            for field in block.get("fields", []):
                text_of(field)
        elif kind == "context":
            for element in block.get("elements", []):
                text_of(element)
        elif kind == "actions":
            lines.append(
                "  ".join(f"[{el['text']['text']}]" for el in block.get("elements", []) if "text" in el)
            )
        elif kind == "input":
            text_of(block.get("label"))
    return "\n".join(lines) if lines else _readable(fallback)


_SLACK_LINK = re.compile(r"<([^|>]+)\|([^>]*)>")


def _readable(text: str) -> str:
    return unescape(_SLACK_LINK.sub(lambda m: f"{m.group(2)} ({m.group(1)})", text))
