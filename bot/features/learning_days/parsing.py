"""Reading what a learning manager types: dates ("next Thursday", "15 Jan"), time ranges
("09:00-16:00", "9am to 1pm") and a place that may contain an online link."""

from __future__ import annotations

import re
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import dateparser

from bot.errors import UserError

_CLOCK = r"(\d{1,2})(?:[:.h](\d{2}))?\s*(am|pm)?"
_RANGE = re.compile(rf"^{_CLOCK}\s*(?:-|–|—|to|until|till)\s*{_CLOCK}$", re.IGNORECASE)
_SINGLE = re.compile(rf"^{_CLOCK}$", re.IGNORECASE)
_URL = re.compile(r"https?://\S+")


def parse_date(text: str, timezone: str, now: datetime, locale: str | None = None) -> date:
    """A calendar date typed naturally, read relative to today in ``timezone``; never in the past."""
    local_now = now.astimezone(ZoneInfo(timezone))
    languages = ["en"] + ([locale.split("-")[0]] if locale and not locale.startswith("en") else [])
    parsed = dateparser.parse(
        text,
        languages=languages,
        settings={
            "PREFER_DATES_FROM": "future",
            "RELATIVE_BASE": local_now.replace(tzinfo=None),
            "DATE_ORDER": "DMY",
        },
    )
    if parsed is None:
        raise UserError(
            f"I couldn't read '{text}' as a date. Try e.g. `next Thursday`, `15 Jan` or `2027-01-15`."
        )
    found = parsed.date()
    if found < local_now.date():
        raise UserError(
            f"{found:%A} {found.day} {found:%B %Y} is in the past (today is {local_now.date():%A} "
            f"{local_now.day} {local_now:%B}). Which upcoming date?"
        )
    return found


def _clock(hour: str, minute: str | None, meridiem: str | None, text: str) -> time:
    value = int(hour)
    if meridiem:
        if not 1 <= value <= 12:
            raise UserError(f"'{text}': with am/pm the hour is 1 to 12.")
        value = value % 12 + (12 if meridiem.lower() == "pm" else 0)
    if not 0 <= value <= 23 or not 0 <= int(minute or 0) <= 59:
        raise UserError(f"'{text}' is not a time of day I can read; write e.g. `09:00-16:00`.")
    return time(value, int(minute or 0))


def parse_time_range(text: str, default_end: time | None = None) -> tuple[time, time]:
    """``09:00-16:00``, ``9am to 1pm``; or just a start (``10:00``) that keeps ``default_end``."""
    single = _SINGLE.match(text.strip())
    if single and default_end is not None:
        start = _clock(single.group(1), single.group(2), single.group(3), text)
        if start >= default_end:
            raise UserError(
                f"A day starting at {start:%H:%M} would end before {default_end:%H:%M}; "
                "write both times, e.g. `13:00-18:00`."
            )
        return start, default_end
    match = _RANGE.match(text.strip())
    if not match:
        raise UserError(
            f"I couldn't read '{text}' as a start and end time; write e.g. `09:00-16:00` or `9am to 1pm`."
        )
    start = _clock(match.group(1), match.group(2), match.group(3) or match.group(6), text)
    end = _clock(match.group(4), match.group(5), match.group(6), text)
    if start >= end:
        raise UserError(
            f"In '{text}' the day would end before it starts; write the start first, e.g. `09:00-16:00`."
        )
    return start, end


def split_place(text: str) -> tuple[str, str]:
    """(place, online link): "Room 4 and https://meet.example.org/x" -> ("Room 4", the URL)."""
    match = _URL.search(text)
    if not match:
        return " ".join(text.split()), ""
    url = match.group(0).rstrip(").,;")
    rest = (text[: match.start()] + text[match.end() :]).strip()
    rest = re.sub(r"^(?:and|or|&|\+|,)\s+|\s+(?:and|or|&|\+|,)$", "", rest, flags=re.IGNORECASE).strip(" ,;")
    return " ".join(rest.split()), url
