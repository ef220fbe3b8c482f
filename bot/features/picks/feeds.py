"""Reading RSS/Atom documents into :class:`FeedEntry` values with feedparser.

feedparser (rather than an XML parser by hand) because real feeds are messy: it normalises
RSS 0.9x/1.0/2.0 and Atom, HTML in descriptions, odd date formats, and namespaces such as
``itunes:`` and Media RSS (``media:content``, ``media:thumbnail``) that TED's feeds use.
"""

from __future__ import annotations

import calendar
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import feedparser

from bot.features.picks.text import clean, one_line_summary, parse_duration

logger = logging.getLogger(__name__)


class MalformedFeed(ValueError):
    """The document is not a feed feedparser can read any entries from."""


@dataclass(frozen=True, slots=True)
class FeedEntry:
    guid: str
    url: str
    title: str
    speaker: str
    duration_seconds: int | None
    summary: str
    image_url: str
    published_at: datetime | None


def parse_feed(body: bytes, *, source_name: str = "", base_url: str = "") -> list[FeedEntry]:
    """Every usable entry in ``body``. Raises :class:`MalformedFeed` when nothing is readable;
    a feed with small flaws but readable entries is accepted (feedparser's "bozo" flag)."""
    # We keep only plain text (``clean`` strips every tag), so feedparser's HTML sanitising and
    # relative-URI rewriting inside HTML content would be work thrown away (~10% of parse time).
    # ``base_url`` (where the feed was fetched) makes relative entry links absolute.
    headers = {"content-location": base_url} if base_url else None
    parsed = feedparser.parse(
        body, sanitize_html=False, resolve_relative_uris=False, response_headers=headers
    )
    if parsed.bozo and not parsed.entries:
        reason = getattr(parsed, "bozo_exception", None) or "not RSS or Atom"
        raise MalformedFeed(f"not a readable feed ({reason})")
    if not parsed.entries and not parsed.get("feed"):
        raise MalformedFeed("not a readable feed (no channel and no entries)")
    if parsed.bozo:
        logger.info("feed %s has flaws but was read: %s", source_name, parsed.get("bozo_exception"))
    entries = []
    for raw in parsed.entries:
        entry = _entry(raw)
        if entry is not None:
            entries.append(entry)
    return entries


def _entry(raw: Any) -> FeedEntry | None:
    url = str(raw.get("link") or "")
    if not url:
        url = next((str(e.get("href")) for e in raw.get("enclosures", []) if e.get("href")), "")
    if not url.startswith(("http://", "https://")):
        return None
    speaker = clean(raw.get("author"), 200)
    title = clean(raw.get("title"), 500)
    # TED titles read "What we learn | Speaker Name"; the speaker is shown separately.
    head, sep, tail = title.rpartition(" | ")
    if sep and (not speaker or tail.strip().lower() == speaker.lower()):
        title, speaker = head.strip(), speaker or tail.strip()
    if not title:
        return None
    return FeedEntry(
        guid=str(raw.get("id") or url)[:700],
        url=url,
        title=title,
        speaker=speaker,
        duration_seconds=_duration(raw),
        summary=one_line_summary(raw.get("summary") or raw.get("subtitle")),
        image_url=_image(raw),
        published_at=_published(raw),
    )


def _duration(raw: Any) -> int | None:
    seconds = parse_duration(raw.get("itunes_duration"))
    if seconds:
        return seconds
    for media in raw.get("media_content", []):
        seconds = parse_duration(media.get("duration"))
        if seconds:
            return seconds
    return None


def _image(raw: Any) -> str:
    for thumbnail in raw.get("media_thumbnail", []):
        if thumbnail.get("url"):
            return str(thumbnail["url"])
    image = raw.get("image")
    if isinstance(image, dict) and image.get("href"):
        return str(image["href"])
    for media in raw.get("media_content", []):
        if media.get("medium") == "image" or str(media.get("type", "")).startswith("image/"):
            return str(media.get("url", ""))
    return ""


def _published(raw: Any) -> datetime | None:
    stamp = raw.get("published_parsed") or raw.get("updated_parsed")
    if not stamp:
        return None
    return datetime.fromtimestamp(calendar.timegm(stamp), UTC)
