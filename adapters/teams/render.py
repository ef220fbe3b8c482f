"""Render neutral messages as Teams activities carrying an Adaptive Card (schema 1.5).

Two Teams facts shape this module:

* The whole activity must stay under about 40 KB, or Teams refuses it, and Teams counts the
  JSON in UTF-16 (two bytes a character, four for an emoji), so the size guard does too. A
  message that grows too long (a big report, say) is shortened, element by element, with a
  note saying so; it never fails.
* TextBlocks and FactSet values are Adaptive Cards markdown, a small subset: ``**bold**``,
  ``_italic_``, ``[links](url)`` and lists (``- item`` / ``1. item`` lines); a single newline
  is no line break. Text a person typed (a skill, a course title from an import) must not turn
  into formatting, links or mentions, so exactly those constructs are backslash-escaped in it,
  and nothing else: "I'm Learnbot." stays as written. Text the bot writes may use the neutral
  markup (``*bold*``, ``_italic_``, ``<https://url|label>``, ``• item`` lines), which becomes
  Teams markdown here.

Files: the manifest says ``supportsFiles: false`` and Teams does not take ``data:`` URIs, so
a named file (a learning day's ``.ics``) becomes an "Add to calendar" link to Learnbot's own
``/calendar/...`` route when the deployment has a public URL, and is left out otherwise.
"""

from __future__ import annotations

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
"""Teams rejects messages over ~40 KB (the whole activity, card included, counted in UTF-16)."""
CALENDAR_ROUTE = "/calendar/"
"""Where ``learnbot serve`` serves calendar files (``learnbot.calendar``)."""
_CALENDAR_FILE = re.compile(r"^learning-day-\d+\.ics$")
MAX_TEXT_CHARS = 8_000
"""No single paragraph gets longer than this; the size check trims the rest."""
SHORTENED_NOTE = "(This message was too long for Teams and has been shortened.)"

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!<>~|])")
"""What ``unescape`` reads back after a backslash (a superset of what ``escape`` writes)."""
_INLINE_SPECIAL = re.compile(r"([\\`*\[\]])|(?<!\w)_|_(?!\w)")
_TAG = re.compile(r"<(?=[A-Za-z/!?])([^<>\n]*)(>?)")
_LINE_START = re.compile(r"^([ \t]*)(?:([-+*>#])|(\d+)([.)]))", re.MULTILINE)
_BULLET = re.compile(r"^[ \t]*(?:•|·|‣|◦)[ \t]+", re.MULTILINE)
_SLACK_LINK = re.compile(r"<(https?://[^|>\s]+)(?:\|([^>]*))?>")
_BOLD = re.compile(r"(?<![\w*])\*(?!\s)([^*\n]+?)(?<!\s)\*(?![\w*])")
_CODE = re.compile(r"`([^`\n]+)`")


def escape(text: str) -> str:
    """Backslash-escape what Adaptive Cards markdown would read as markup, and only that, so
    ``text`` shows exactly as typed.

    Inline: emphasis (``*``, ``_`` at a word's edge, never inside ``snake_case``), links
    (``[``, ``]``), code (`````), backslashes and a ``<`` that opens a tag (no ``<at>`` mention
    or HTML); at a line start: list, quote and heading markers (``-``, ``+``, ``*``, ``1.``,
    ``>``, ``#``). Full stops, brackets, ``!`` and the rest stay as they are."""
    text = _INLINE_SPECIAL.sub(lambda m: "\\" + m.group(0), text)
    text = _TAG.sub(lambda m: "\\<" + m.group(1) + ("\\>" if m.group(2) else ""), text)
    return _LINE_START.sub(_escape_line_start, text)


def _escape_line_start(match: re.Match[str]) -> str:
    indent, marker, number, dot = match.groups()
    return f"{indent}\\{marker}" if marker else f"{indent}{number}\\{dot}"


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
            common["errorMessage"] = form.required.replace("{label}", field.label.lower())
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
            shown = bot_markdown(block.text) if block.markdown else escape(block.text)
            body.append(_text_block(layout(shown)))
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
            body.append(_text_block(layout(bot_markdown(block.text)), isSubtle=True, size="Small"))
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


def layout(markdown: str) -> str:
    """Lines as Adaptive Cards shows them: ``• item`` lines become a list (``- item``), every
    other line its own paragraph (a single newline is no line break in a TextBlock)."""
    out: list[str] = []
    previous_item = False
    for line in markdown.split("\n"):
        if not line.strip():
            continue
        bullet = _BULLET.match(line)
        item = bullet is not None
        text = f"- {line[bullet.end() :]}" if bullet else line
        if out:
            out.append("\n" if item and previous_item else "\n\n")
        out.append(text)
        previous_item = item
    return "".join(out)


def _unlayout(markdown: str) -> str:
    """The neutral lines back from ``layout`` (for ``flatten``)."""
    return re.sub(r"^- ", "• ", markdown.replace("\n\n", "\n"), flags=re.MULTILINE)


def plain_text(text: str) -> str:
    """The bot's neutral markup as plain text, for the notification ``summary``: no ``*``,
    ``_`` or ``<url|label>`` left over."""
    text = _SLACK_LINK.sub(lambda m: m.group(2) or m.group(1), text)
    text = _CODE.sub(lambda m: m.group(1), text)
    text = _BOLD.sub(lambda m: m.group(1), text)
    text = re.sub(r"(?<![\w_])_(?!\s)([^_\n]+?)(?<!\s)_(?![\w_])", r"\1", text)
    return " ".join(text.split())


def _file_links(message: Message, public_url: str) -> list[dict[str, Any]]:
    """Calendar files as links to Learnbot's own route (never ``data:`` URIs); none when the
    message already links to the file or there is no public URL to link to."""
    if not public_url:
        return []
    shown = {b.url for block in message.blocks if isinstance(block, Buttons) for b in block.buttons if b.url}
    links = []
    for name in message.attachments:
        url = f"{public_url.rstrip('/')}{CALENDAR_ROUTE}{name}"
        if _CALENDAR_FILE.match(name) and url not in shown:
            links.append({"type": "Action.OpenUrl", "title": "Add to calendar", "url": url})
    return links


def render_activity(message: Message, *, public_url: str = "") -> dict[str, Any]:
    """A Bot Framework message activity (a dict in the Activity JSON schema) for ``message``.

    A message with no blocks is sent as markdown text; otherwise as one Adaptive Card with the
    fallback text, as plain text, for the ``summary`` (what notifications and old clients
    show). ``public_url`` (``LEARNBOT_PUBLIC_URL``) lets calendar files become links."""
    activity: dict[str, Any] = {"type": "message"}
    links = _file_links(message, public_url)
    if not message.blocks and not links:
        activity.update(text=_clip(layout(bot_markdown(message.text))), textFormat="markdown")
        return _fit(activity)
    body = card_body(message) if message.blocks else [_text_block(layout(bot_markdown(message.text)))]
    if links:
        body.append({"type": "ActionSet", "actions": links})
    activity["summary"] = _clip(plain_text(message.text), 200)
    activity["attachments"] = [{"contentType": CARD_CONTENT_TYPE, "content": adaptive_card(body)}]
    return _fit(activity)


def size_of(activity: dict[str, Any]) -> int:
    """The activity's size as Teams counts it: its JSON in UTF-16 bytes."""
    return len(json.dumps(activity, ensure_ascii=False).encode("utf-16-le"))


def _fit(activity: dict[str, Any]) -> dict[str, Any]:
    """Shorten ``activity`` until it is within Teams' size limit, saying so in the message."""
    if size_of(activity) <= MAX_ACTIVITY_BYTES:
        return activity
    if "text" in activity and "attachments" not in activity:
        budget = MAX_ACTIVITY_BYTES // 2 - 1_000
        while size_of(activity) > MAX_ACTIVITY_BYTES:
            activity["text"] = activity["text"][: max(budget, 0)].rstrip("\\") + "…\n\n" + SHORTENED_NOTE
            budget -= 1_000
        return activity
    body: list[dict[str, Any]] = activity["attachments"][0]["content"]["body"]
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
            lines.append(unescape(_unlayout(str(node.get("text", "")))))
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
        lines.append(unescape(_unlayout(str(activity["text"]))))

    for attachment in activity.get("attachments", []) or []:
        if attachment.get("contentType") == CARD_CONTENT_TYPE:
            _walk(attachment.get("content"), lines)
        elif attachment.get("name"):  # not sent by render_activity; kept for what others send
            lines.append(f"[attachment: {attachment['name']}]")
    return "\n".join(lines)
