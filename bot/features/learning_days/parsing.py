"""Reading what a learning manager types: dates ("next Thursday", "15 Jan"), time ranges
("09:00-16:00", "9am to 1pm") and a place that may contain an online link."""

from __future__ import annotations

import re
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import dateparser

from bot.errors import UserError
from bot.i18n import Translator
from bot.intents import read_day

_CLOCK = r"(\d{1,2})(?:[:.h](\d{2}))?\s*(am|pm)?"
_RANGE = re.compile(rf"^{_CLOCK}\s*(?:-|–|—|to|until|till|à|a|jusqu'à|hasta)\s*{_CLOCK}$", re.IGNORECASE)
_SINGLE = re.compile(rf"^{_CLOCK}$", re.IGNORECASE)
_URL = re.compile(r"https?://\S+")


def parse_date(t: Translator, text: str, timezone: str, now: datetime) -> date:
    """A calendar date typed naturally in English, French or Spanish ("next Thursday", "jeudi 17
    décembre", "el viernes"), read relative to today in ``timezone``; never in the past."""
    local_now = now.astimezone(ZoneInfo(timezone))
    languages = [t.language, *(other for other in ("en", "fr", "es") if other != t.language)]
    parsed = dateparser.parse(
        text,
        languages=languages,
        settings={
            "PREFER_DATES_FROM": "future",
            "RELATIVE_BASE": local_now.replace(tzinfo=None),
            "DATE_ORDER": "DMY",
        },
    )
    # dateparser reads whole dates best ("15 Jan 2027", "jeudi 17 décembre"); bot.intents reads
    # the weekday phrases it misses ("el viernes", "mardi dernier", "la semana que viene").
    found = (
        parsed.date() if parsed is not None else read_day(text, local_now, past=False, languages=languages)
    )
    if found is None:
        raise UserError(
            t._(
                "I couldn't read '{text}' as a date. Try e.g. `next Thursday`, `15 Jan` or `2027-01-15`.",
                text=text,
            )
        )
    today = local_now.date()
    if found < today:
        raise UserError(
            t._(
                "{day} is in the past (today is {today}). Which upcoming date?",
                day=t.day(found, date.min),
                today=t.day(today),
            )
        )
    return found


def _clock(t: Translator, hour: str, minute: str | None, meridiem: str | None, text: str) -> time:
    value = int(hour)
    if meridiem:
        if not 1 <= value <= 12:
            raise UserError(t._("'{text}': with am/pm the hour is 1 to 12.", text=text))
        value = value % 12 + (12 if meridiem.lower() == "pm" else 0)
    if not 0 <= value <= 23 or not 0 <= int(minute or 0) <= 59:
        raise UserError(t._("'{text}' is not a time of day I can read; write e.g. `09:00-16:00`.", text=text))
    return time(value, int(minute or 0))


def parse_time_range(t: Translator, text: str, default_end: time | None = None) -> tuple[time, time]:
    """``09:00-16:00``, ``9am to 1pm``; or just a start (``10:00``) that keeps ``default_end``."""
    single = _SINGLE.match(text.strip())
    if single and default_end is not None:
        start = _clock(t, single.group(1), single.group(2), single.group(3), text)
        if start >= default_end:
            raise UserError(
                t._(
                    "A day starting at {start} would end before {end}; write both times, e.g. `13:00-18:00`.",
                    start=t.time(start),
                    end=t.time(default_end),
                )
            )
        return start, default_end
    match = _RANGE.match(text.strip())
    if not match:
        raise UserError(
            t._(
                "I couldn't read '{text}' as a start and end time; write e.g. `09:00-16:00` or `9am to 1pm`.",
                text=text,
            )
        )
    start = _clock(t, match.group(1), match.group(2), match.group(3) or match.group(6), text)
    end = _clock(t, match.group(4), match.group(5), match.group(6), text)
    if start >= end:
        raise UserError(
            t._(
                "In '{text}' the day would end before it starts; write the start first, e.g. `09:00-16:00`.",
                text=text,
            )
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
