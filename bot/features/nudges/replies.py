"""Understanding typed answers to a reminder: done, a day to be reminded again, or a call for help.

Dates are read with dateparser relative to the person's local "now", preferring the future
("Friday" is the coming Friday). Anything else returns ``None``, so other features may still
claim the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

import dateparser

_DONE = re.compile(
    r"^(?:i'?m |i am |i have |i've |it'?s |it is |all |already )?"
    r"(?:done|finished|completed|did it)(?: it| the course| that)?(?: already)?$"
    r"|^(?:i )?(?:did|finished|completed|have done|have finished|have completed|already did)"
    r" (?:it|the course|that)"
)
_HELP = re.compile(
    r"\bhelp\b|can'?t (?:access|open|log ?in|find|get)|cannot (?:access|open|log ?in|find)|"
    r"\bno access\b|doesn'?t (?:work|open|load)|not working|\bbroken\b|\berror\b|\bproblem\b"
)
_SNOOZE_PREFIX = re.compile(
    r"\b(?:remind|ping|ask|nudge|message) me(?: again| later| about it)?\b|\bsnooze\b"
)
_DATEISH = re.compile(
    r"\b(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\b|\b(?:today|tomorrow|tonight|week|month|weekend|day|days|weeks)\b|"
    r"\bin \d+\b|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b|\d{1,4}[/.-]\d{1,2}"
)
_FILLER = re.compile(r"^(?:on|at|in a|by|until|til|till|for|about it)\b\s*")


@dataclass(frozen=True, slots=True)
class Intent:
    kind: Literal["done", "snooze", "help", "unclear"]
    until: date | None = None
    """For ``snooze``: the day to remind again (None: "later", the default)."""
    reason: str = ""


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", text.lower().replace("’", "'")).strip(" .!?,")


def parse_day(text: str, local_now: datetime) -> date | None:
    """A day in the future from "Friday", "next week" (next Monday), "in 3 days", "10 December"."""
    text = _clean(text)
    if text in {"next week", "the week after"}:
        return (local_now + timedelta(days=7 - local_now.weekday())).date()
    if text in {"after the weekend", "next monday", "monday"} and local_now.weekday() == 0:
        return (local_now + timedelta(days=7)).date()
    parsed = dateparser.parse(
        text,
        languages=["en"],
        settings={
            "PREFER_DATES_FROM": "future",
            "RELATIVE_BASE": local_now.replace(tzinfo=None),
            "RETURN_AS_TIMEZONE_AWARE": False,
            "PREFER_DAY_OF_MONTH": "first",
            "DATE_ORDER": "DMY",
        },
    )
    return parsed.date() if parsed else None


def parse_reply(text: str, local_now: datetime) -> Intent | None:
    """What a typed answer means, or ``None`` if it is not about a reminder."""
    cleaned = _clean(text)
    if not cleaned:
        return None
    if _DONE.search(cleaned):
        return Intent("done")
    if _HELP.search(cleaned):
        return Intent("help", reason=text.strip())
    prefixed = _SNOOZE_PREFIX.search(cleaned)
    rest = cleaned[prefixed.end() :].strip() if prefixed else cleaned
    rest = _FILLER.sub("", rest).strip()
    if (prefixed and not rest) or cleaned in {"later", "not now", "remind me later", "snooze"}:
        return Intent("snooze")
    if prefixed or _DATEISH.search(rest):
        when = parse_day(rest, local_now)
        if when is None:
            return Intent("unclear") if prefixed else None
        return Intent("snooze", until=when)
    return None
