"""Making text from feeds, web pages and people safe and short enough to post in a channel.

Renderers escape ``&``, ``<`` and ``>`` for their platform, but text that came from outside is
also cleaned *before it is stored*: a page title such as ``<!channel> read this`` or
``@everyone`` must never be able to ping a whole channel, whatever renderer shows it later.
"""

from __future__ import annotations

import re
import warnings
from datetime import timedelta

import isodate
from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u206f]")
_INVISIBLE_ELEMENTS = ("script", "style", "noscript", "template", "head", "iframe", "object")
_SPACE = re.compile(r"\s+")
_SLACK_SPECIAL = re.compile(r"<\s*[!@#]")
_MASS_MENTION = re.compile(r"@(?=(channel|here|everyone|all|team)\b)", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"“'])")

ZERO_WIDTH_SPACE = "\u200b"


def defang(text: str) -> str:
    """Break mass mentions (``@channel``, ``<!here>``) so no platform treats them as pings."""
    text = _SLACK_SPECIAL.sub(lambda m: "‹" + m.group(0)[1:].lstrip(), text)
    return _MASS_MENTION.sub("@" + ZERO_WIDTH_SPACE, text)


def html_to_text(text: str) -> str:
    """The text a browser would show for an HTML fragment (a feed summary, a title).

    BeautifulSoup's tolerant parser reads it: ``<script>`` and ``<style>`` contents never become
    text, entities are decoded once, and a ``<`` that opens no tag (``a < b``) stays text, where
    a regex ate everything up to the next ``>``."""
    if "<" not in text and "&" not in text:
        return text
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)  # a bare URL is fine
        soup = BeautifulSoup(text, "html.parser")
    for element in soup(_INVISIBLE_ELEMENTS):
        element.decompose()
    return soup.get_text(" ")


def clean(text: str | None, limit: int) -> str:
    """Plain, single-line, defanged text of at most ``limit`` characters (HTML removed)."""
    if not text:
        return ""
    text = html_to_text(text)
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
    """Seconds from ``itunes:duration`` / ``media:content duration``: ``"00:18:43"``, ``"18:43"``,
    ``"1123"`` or ISO 8601 (``"PT18M43S"``, read by isodate). Anything else is unknown (``None``),
    never a guess."""
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    if text[:1] in {"P", "p"}:
        return _iso_duration(text)
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


def _iso_duration(text: str) -> int | None:
    try:
        duration = isodate.parse_duration(text.upper(), as_timedelta_if_possible=True)
    except (isodate.ISO8601Error, ValueError, OverflowError):
        return None
    if not isinstance(duration, timedelta):  # years or months: no fixed length
        return None
    seconds = int(duration.total_seconds())
    return seconds if seconds > 0 else None


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
