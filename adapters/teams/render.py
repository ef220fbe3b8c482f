"""Render neutral messages as Teams activities carrying an Adaptive Card (schema 1.5).

Two Teams facts shape this module:

* The whole activity must stay under about 40 KB, or Teams refuses it. A message that grows
  too long (a big report, say) is shortened, element by element, with a note saying so; it
  never fails.
* TextBlocks and FactSet values are markdown. Text a person typed (a skill, a course title from
  an import) must not turn into formatting, links or mentions, so every markdown character in
  it is backslash-escaped. Text the bot writes may use the neutral markup (``*bold*``,
  ``_italic_``, ``<https://url|label>``), which becomes Teams markdown here.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any

from bot.messages import (
    Button,
    Buttons,
    Divider,
    Fields,
    Form,
    Header,
    LinkCard,
    Message,
    Note,
    Text,
)

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
MAX_ACTIVITY_BYTES = 40_000
"""Teams rejects messages over ~40 KB (the whole activity, card included)."""
MAX_TEXT_CHARS = 8_000
"""No single paragraph gets longer than this; the size check trims the rest."""
SHORTENED_NOTE = "(This message was too long for Teams and has been shortened.)"

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!<>~|])")
_SLACK_LINK = re.compile(r"<(https?://[^|>\s]+)(?:\|([^>]*))?>")
_BOLD = re.compile(r"(?<![\w*])\*(?!\s)([^*\n]+?)(?<!\s)\*(?![\w*])")
_CODE = re.compile(r"`([^`\n]+)`")


def escape(text: str) -> str:
    """Backslash-escape Teams markdown so ``text`` shows exactly as typed.

    Covers emphasis (``*``, ``_``, ``~``), links and images (``[``, ``]``, ``(``, ``)``, ``!``),
    headings, lists and quotes at a line start (``#``, ``-``, ``+``, ``1.``, ``>``) and ``<``
    (no ``<at>`` mention or HTML can be smuggled in)."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def unescape(text: str) -> str:
    """The text a person reads from the markdown this module writes: escapes resolved,
    emphasis markers dropped, links shown as ``label (url)`` (the tests compare against this)."""
    out: list[str] = []
    index, in_url = 0, False
    while index < len(text):
        char = text[index]
        if in_url:
            in_url = char != ")"
            out.append(char)
        elif char == "\\" and index + 1 < len(text) and _MARKDOWN_SPECIAL.match(text[index + 1]):
            index += 1
            out.append(text[index])
        elif char == "]" and text[index + 1 : index + 2] == "(":
            index += 1
            in_url = True
            out.append(" (")
        elif char == "[" or (char in "*_" and not _inside_word(text, index)):
            pass  # markup, not text
        else:
            out.append(char)
        index += 1
    return "".join(out)


def _inside_word(text: str, index: int) -> bool:
    """A ``*`` or ``_`` between two word characters is text (``snake_case``, a URL), not markup."""
    before = text[index - 1] if index > 0 else " "
    after = text[index + 1] if index + 1 < len(text) else " "
    return before.isalnum() and after.isalnum()


def bot_markdown(text: str) -> str:
    """The bot's own neutral markup as Teams markdown, everything else escaped.

    ``*bold*`` -> ``**bold**``, ``_italic_`` stays, ``` `code` ``` -> the text itself (card
    TextBlocks have no code spans). A link ``<https://x|label>`` is shown as ``label (https://x)``,
    which Teams turns into a clickable URL: bot text often carries text people typed, and a
    ``[label](url)`` link would let them disguise where a link goes.
    """
    pieces: list[str] = []
    position = 0
    for match in _SLACK_LINK.finditer(text):
        pieces.append(_format_plain(text[position : match.start()]))
        url, label = match.group(1), match.group(2)
        pieces.append(f"{escape(label)} ({url})" if label and label != url else url)
        position = match.end()
    pieces.append(_format_plain(text[position:]))
    return "".join(pieces)


def _format_plain(text: str) -> str:
    text = _CODE.sub(lambda m: m.group(1), text)
    out: list[str] = []
    position = 0
    for match in _BOLD.finditer(text):
        out.append(_italics(text[position : match.start()]))
        out.append(f"**{_italics(match.group(1))}**")
        position = match.end()
    out.append(_italics(text[position:]))
    return "".join(out)


def _italics(text: str) -> str:
    parts = re.split(r"(?<![\w_])_(?!\s)([^_\n]+?)(?<!\s)_(?![\w_])", text)
    out: list[str] = []
    for index, part in enumerate(parts):
        out.append(f"_{escape(part)}_" if index % 2 else escape(part))
    return "".join(out)


def _escape_url(url: str) -> str:
    return url.replace("(", "%28").replace(")", "%29").replace(" ", "%20")


def _clip(text: str, limit: int = MAX_TEXT_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _text_block(text: str, **extra: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "text": _clip(text), "wrap": True, **extra}


def _button(button: Button) -> dict[str, Any]:
    if button.url:
        return {"type": "Action.OpenUrl", "title": button.label[:80], "url": button.url}
    action: dict[str, Any] = {
        "type": "Action.Submit",
        "title": button.label[:80],
        "data": {"action_id": button.action_id, "value": button.value},
    }
    if button.style == "primary":
        action["style"] = "positive"
    elif button.style == "danger":
        action["style"] = "destructive"
    return action


def _form(form: Form) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = [_text_block(escape(form.title), weight="Bolder", size="Medium")]
    for field in form.fields:
        common: dict[str, Any] = {"id": field.name, "label": field.label, "isRequired": not field.optional}
        if not field.optional:
            common["errorMessage"] = f"Please fill in {field.label.lower()}."
        if field.kind == "choice":
            item: dict[str, Any] = {
                "type": "Input.ChoiceSet",
                **common,
                "style": "compact",
                "choices": [{"title": option, "value": option} for option in field.options],
            }
            if field.initial:
                item["value"] = field.initial
        else:
            item = {"type": "Input.Text", **common, "maxLength": field.max_length}
            if field.kind == "long_text":
                item["isMultiline"] = True
            if field.initial:
                item["value"] = field.initial
        items.append(item)
    items.append(
        {
            "type": "ActionSet",
            "actions": [
                {
                    "type": "Action.Submit",
                    "title": form.submit_label,
                    "style": "positive",
                    "data": {"action_id": form.submit_action_id, "form": True},
                }
            ],
        }
    )
    return items


def card_body(message: Message) -> list[dict[str, Any]]:
    """The card's body elements, one group per neutral block."""
    body: list[dict[str, Any]] = []
    for block in message.blocks:
        if isinstance(block, Header):
            body.append(_text_block(escape(block.text), size="Large", weight="Bolder"))
        elif isinstance(block, Text):
            body.append(_text_block(bot_markdown(block.text) if block.markdown else escape(block.text)))
        elif isinstance(block, LinkCard):
            title = f"[{escape(block.title)}]({_escape_url(block.url)})"
            items: list[dict[str, Any]] = [_text_block(title, weight="Bolder")]
            if block.source:
                items.append(_text_block(escape(block.source), isSubtle=True, spacing="None", size="Small"))
            if block.description:
                items.append(_text_block(escape(block.description), spacing="Small"))
            container: dict[str, Any] = {"type": "Container", "items": items}
            if block.image_url:
                container = {
                    "type": "ColumnSet",
                    "columns": [
                        {
                            "type": "Column",
                            "width": "auto",
                            "items": [{"type": "Image", "url": block.image_url, "size": "Small"}],
                        },
                        {"type": "Column", "width": "stretch", "items": items},
                    ],
                }
            body.append(container)
        elif isinstance(block, Fields):
            body.append(
                {
                    "type": "FactSet",
                    "facts": [
                        {"title": _clip(escape(label), 200), "value": _clip(escape(value), 2000)}
                        for label, value in block.items
                    ],
                }
            )
        elif isinstance(block, Buttons):
            if block.buttons:
                body.append({"type": "ActionSet", "actions": [_button(b) for b in block.buttons]})
        elif isinstance(block, Divider):
            body.append({"type": "Container", "separator": True, "spacing": "Medium", "items": []})
        elif isinstance(block, Note):
            body.append(_text_block(bot_markdown(block.text), isSubtle=True, size="Small"))
        elif isinstance(block, Form):
            body.extend(_form(block))
    return body


def adaptive_card(body: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": "1.5",
        "body": body,
        "msteams": {"width": "Full"},
    }


def _file_attachments(message: Message) -> list[dict[str, Any]]:
    """Named files (an .ics invitation) ride along as data-URI attachments."""
    files = []
    for name, content in message.attachments.items():
        mime = "text/calendar" if name.endswith(".ics") else "text/plain"
        encoded = base64.b64encode(content.encode("utf-8")).decode("ascii")
        files.append({"contentType": mime, "contentUrl": f"data:{mime};base64,{encoded}", "name": name})
    return files


def render_activity(message: Message) -> dict[str, Any]:
    """A Bot Framework message activity (a dict in the Activity JSON schema) for ``message``.

    A message with no blocks is sent as markdown text; otherwise as one Adaptive Card with the
    fallback text as the ``summary`` (what notifications and old clients show)."""
    activity: dict[str, Any] = {"type": "message"}
    files = _file_attachments(message)
    if not message.blocks:
        activity.update(text=_clip(bot_markdown(message.text)), textFormat="markdown")
        if files:
            activity["attachments"] = files
        return _fit(activity)
    card = adaptive_card(card_body(message))
    activity["summary"] = _clip(message.text, 200)
    activity["attachments"] = [{"contentType": CARD_CONTENT_TYPE, "content": card}, *files]
    return _fit(activity)


def size_of(activity: dict[str, Any]) -> int:
    return len(json.dumps(activity, ensure_ascii=False).encode("utf-8"))


def _fit(activity: dict[str, Any]) -> dict[str, Any]:
    """Shorten ``activity`` until it is within Teams' size limit, saying so in the message."""
    if size_of(activity) <= MAX_ACTIVITY_BYTES:
        return activity
    attachments = activity.get("attachments", [])
    # Files are the first thing to go: a file is useless when cut.
    cards = [a for a in attachments if a["contentType"] == CARD_CONTENT_TYPE]
    if len(cards) != len(attachments):
        activity["attachments"] = cards
        if not cards:
            del activity["attachments"]
    if "text" in activity and "attachments" not in activity:
        budget = MAX_ACTIVITY_BYTES - 1_000
        while size_of(activity) > MAX_ACTIVITY_BYTES:
            activity["text"] = activity["text"][: max(budget, 0)].rstrip("\\") + "…\n\n" + SHORTENED_NOTE
            budget -= 2_000
        return activity
    if not cards:
        return activity
    body: list[dict[str, Any]] = cards[0]["content"]["body"]
    note = _text_block(escape(SHORTENED_NOTE), isSubtle=True, size="Small")
    body.append(note)
    while size_of(activity) > MAX_ACTIVITY_BYTES and len(body) > 1:
        body.pop(-2)
    if size_of(activity) > MAX_ACTIVITY_BYTES:
        body[:] = [_text_block(escape(activity.get("summary", ""))), note]
    return activity


def _walk(node: Any, lines: list[str]) -> None:
    """Append the readable text of a card node (and its children) to ``lines``."""
    if isinstance(node, dict):
        kind = node.get("type", "")
        if kind == "TextBlock":
            lines.append(unescape(str(node.get("text", ""))))
        elif kind == "FactSet":
            for fact in node.get("facts", []):
                lines.append(f"{unescape(fact['title'])}: {unescape(fact['value'])}")
        elif kind.startswith("Action."):
            lines.append(f"[{node.get('title', '')}]")
        elif kind.startswith("Input."):
            lines.append(str(node.get("label", "")))
            for choice in node.get("choices", []):
                lines.append(str(choice.get("title", "")))
        for key in ("body", "items", "columns", "actions", "content"):
            if key in node:
                _walk(node[key], lines)
    elif isinstance(node, list):
        for item in node:
            _walk(item, lines)


def flatten(activity: dict[str, Any]) -> str:
    """Everything a person reads in ``activity``, as plain unescaped text, one item a line
    (card text, fact titles and values, input labels and choices, button titles)."""
    lines: list[str] = []
    if activity.get("text"):
        lines.append(unescape(str(activity["text"])))

    for attachment in activity.get("attachments", []) or []:
        if attachment.get("contentType") == CARD_CONTENT_TYPE:
            _walk(attachment.get("content"), lines)
        elif attachment.get("name"):
            lines.append(f"[attachment: {attachment['name']}]")
    return "\n".join(lines)
