"""Making text from feeds, web pages and people safe and short enough to post in a channel.

Renderers escape ``&``, ``<`` and ``>`` for their platform, but text that came from outside is
also cleaned *before it is stored*: a page title such as ``<!channel> read this`` or
``@everyone`` must never be able to ping a whole channel, whatever renderer shows it later.
"""

from __future__ import annotations

import html
import re

_TAGS = re.compile(r"<[^>]*>")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f]")
_SPACE = re.compile(r"\s+")
_SLACK_SPECIAL = re.compile(r"<\s*[!@#]")
_MASS_MENTION = re.compile(r"@(?=(channel|here|everyone|all|team)\b)", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"“'])")

ZERO_WIDTH_SPACE = "\u200b"


def defang(text: str) -> str:
    """Break mass mentions (``@channel``, ``<!here>``) so no platform treats them as pings."""
    text = _SLACK_SPECIAL.sub(lambda m: "‹" + m.group(0)[1:].lstrip(), text)
    return _MASS_MENTION.sub("@" + ZERO_WIDTH_SPACE, text)


def clean(text: str | None, limit: int) -> str:
    """Plain, single-line, defanged text of at most ``limit`` characters (HTML removed)."""
    if not text:
        return ""
    text = html.unescape(_TAGS.sub(" ", text))
    text = _SPACE.sub(" ", _CONTROL.sub("", text)).strip()
    return shorten(defang(text), limit)


def shorten(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:-–—")
    return (cut or text[: limit - 1]) + "…"


def one_line_summary(text: str | None, limit: int = 200) -> str:
    """The first sentence of a description (feeds often send several paragraphs)."""
    cleaned = clean(text, 2000)
    first = _SENTENCE_END.split(cleaned, 1)[0] if cleaned else ""
    return shorten(first, limit)


def parse_duration(value: str | int | None) -> int | None:
    """Seconds from ``itunes:duration`` / ``media:content duration``: ``"00:18:43"``, ``"18:43"``
    or ``"1123"``. Anything else is unknown (``None``), never a guess."""
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    parts = text.split(":")
    if len(parts) > 3 or not all(p.strip().isdigit() for p in parts):
        try:
            seconds = float(text)
        except ValueError:
            return None
        return int(seconds) if seconds > 0 else None
    total = 0
    for part in parts:
        total = total * 60 + int(part)
    return total or None


def format_duration(seconds: int | None) -> str:
    if not seconds:
        return ""
    minutes = round(seconds / 60)
    if minutes < 1:
        return "under a minute"
    if minutes < 60:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    return f"{hours} h {rest} min" if rest else f"{hours} h"
