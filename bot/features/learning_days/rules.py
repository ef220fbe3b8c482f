"""Reading the human-friendly rules in ``app.yaml``: recurring rules such as "first Thursday of
every month" and announcement offsets such as "7 days before" or "morning of".

Recurrence is computed by :mod:`dateutil.rrule` (RFC 5545 semantics), so "the 31st of every
month" skips months without a 31st exactly as calendar programs do; write "last day of every
month" for month ends. A raw RFC 5545 rule (``FREQ=MONTHLY;BYDAY=1TH``) is accepted too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import (
    DAILY,
    FR,
    MO,
    MONTHLY,
    SA,
    SU,
    TH,
    TU,
    WE,
    WEEKLY,
    YEARLY,
    rrule,
    rrulestr,
    weekday,
)

WEEKDAY_NAMES: dict[str, weekday] = {
    "monday": MO,
    "tuesday": TU,
    "wednesday": WE,
    "thursday": TH,
    "friday": FR,
    "saturday": SA,
    "sunday": SU,
}
ORDINALS = {
    "first": 1,
    "1st": 1,
    "second": 2,
    "2nd": 2,
    "third": 3,
    "3rd": 3,
    "fourth": 4,
    "4th": 4,
    "fifth": 5,
    "5th": 5,
    "last": -1,
    "second last": -2,
    "second-last": -2,
}
_WEEKDAY = r"(monday|tuesday|wednesday|thursday|friday|saturday|sunday)s?"
_ORDINAL = r"(first|1st|second|2nd|third|3rd|fourth|4th|fifth|5th|last|second[- ]last)"
_EVERY_MONTHS = r"(?:every|each)\s+(?:(\d+)\s+months?|month)"
_NTH_WEEKDAY = re.compile(rf"^(?:the\s+)?{_ORDINAL}\s+{_WEEKDAY}\s+(?:of|in)\s+{_EVERY_MONTHS}$")
_MONTH_DAY = re.compile(rf"^(?:the\s+|day\s+)?(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of|in)\s+{_EVERY_MONTHS}$")
_LAST_DAY = re.compile(rf"^(?:the\s+)?last\s+day\s+(?:of|in)\s+{_EVERY_MONTHS}$")
_WEEKLY = re.compile(rf"^(?:every|each)\s+(?:(\d+)\s+weeks?\s+on\s+|(?:week\s+on\s+)?){_WEEKDAY}$")
_OFFSET_BEFORE = re.compile(r"^(\d+|a|an|one)\s+(day|week|hour)s?\s+before$")
_OFFSET_SAME_DAY = {"morning of", "day of", "on the day", "the morning of", "same day"}

DEFAULT_ANCHOR = date(2000, 1, 1)
EXAMPLE_RULES = "'first Thursday of every month', 'last Friday of every month', '15th of every month'"


@dataclass(frozen=True, slots=True)
class RecurrenceRule:
    """A parsed rule; :meth:`dates` gives concrete dates from a start date on."""

    text: str
    freq: int
    interval: int = 1
    byweekday: weekday | None = None
    bymonthday: int | None = None
    raw: str | None = None

    def dates(self, after: date, count: int, anchor: date = DEFAULT_ANCHOR) -> list[date]:
        """The first ``count`` occurrences on or after ``after``. Repetition is counted from
        ``anchor``, so "every 2 months" stays in step whenever the generator runs."""
        dtstart = datetime.combine(anchor, time())
        rule = (
            rrulestr(self.raw, dtstart=dtstart)
            if self.raw is not None
            else rrule(
                self.freq,  # type: ignore[arg-type]
                dtstart=dtstart,
                interval=self.interval,
                byweekday=self.byweekday,
                bymonthday=self.bymonthday,
            )
        )
        assert isinstance(rule, rrule)
        return [
            moment.date() for moment in rule.xafter(datetime.combine(after, time()), count=count, inc=True)
        ]


def parse_rule(text: str) -> RecurrenceRule:
    """Read a rule, raising ``ValueError`` with examples when it is not understood."""
    cleaned = " ".join(text.strip().lower().split())
    if cleaned.upper().startswith(("RRULE:", "FREQ=")):
        raw = text.strip()
        if not raw.upper().startswith("RRULE:"):
            raw = f"RRULE:{raw}"
        try:
            rule = rrulestr(raw, dtstart=datetime(2000, 1, 1))
        except (ValueError, TypeError) as exc:
            raise ValueError(f"'{text}' is not a valid RFC 5545 rule ({exc})") from None
        if not isinstance(rule, rrule) or "COUNT=" in raw.upper() or "UNTIL=" in raw.upper():
            raise ValueError(f"'{text}': a recurring learning day rule must repeat forever (no COUNT/UNTIL)")
        return RecurrenceRule(text=text, freq=MONTHLY, raw=raw)
    if match := _NTH_WEEKDAY.match(cleaned):
        ordinal = ORDINALS[match.group(1).replace("-", " ")]
        day = WEEKDAY_NAMES[match.group(2)]
        return RecurrenceRule(text, MONTHLY, int(match.group(3) or 1), byweekday=day(ordinal))
    if match := _LAST_DAY.match(cleaned):
        return RecurrenceRule(text, MONTHLY, int(match.group(1) or 1), bymonthday=-1)
    if match := _MONTH_DAY.match(cleaned):
        day_of_month = int(match.group(1))
        if not 1 <= day_of_month <= 31:
            raise ValueError(f"'{text}': a month has days 1 to 31")
        return RecurrenceRule(text, MONTHLY, int(match.group(2) or 1), bymonthday=day_of_month)
    if match := _WEEKLY.match(cleaned):
        return RecurrenceRule(text, WEEKLY, int(match.group(1) or 1), byweekday=WEEKDAY_NAMES[match.group(2)])
    raise ValueError(
        f"'{text}' is not a rule I understand; write e.g. {EXAMPLE_RULES}, 'every 2 weeks on Friday' "
        "or an RFC 5545 rule such as 'FREQ=MONTHLY;BYDAY=1TH'"
    )


@dataclass(frozen=True, slots=True)
class Offset:
    """When to announce, relative to the day: ``days`` before at the announcement time of day,
    or ``hours`` before the start. ``key`` names it in idempotency keys ("7d", "0d", "2h")."""

    text: str
    days: int = 0
    hours: int = 0

    @property
    def key(self) -> str:
        return f"{self.hours}h" if self.hours else f"{self.days}d"

    def moment(self, day: date, start: time, announce_at: time, tz: ZoneInfo) -> datetime:
        """The local moment (aware, in ``tz``) this offset falls on for a day."""
        if self.hours:
            return datetime.combine(day, start, tzinfo=tz) - timedelta(hours=self.hours)
        return datetime.combine(day - timedelta(days=self.days), announce_at, tzinfo=tz)


def parse_offset(text: str) -> Offset:
    cleaned = " ".join(text.strip().lower().split())
    if cleaned in _OFFSET_SAME_DAY:
        return Offset(text)
    match = _OFFSET_BEFORE.match(cleaned)
    if not match:
        raise ValueError(
            f"'{text}' is not an announcement offset; write e.g. '7 days before', '2 weeks before', "
            "'1 day before', '2 hours before' or 'morning of'"
        )
    number = 1 if match.group(1) in {"a", "an", "one"} else int(match.group(1))
    unit = match.group(2)
    if unit == "hour":
        if not 1 <= number <= 48:
            raise ValueError(f"'{text}': hours before must be between 1 and 48")
        return Offset(text, hours=number)
    days = number * 7 if unit == "week" else number
    if days > 90:
        raise ValueError(f"'{text}': announce at most 90 days before")
    return Offset(text, days=days)


__all__ = ["DAILY", "MONTHLY", "WEEKLY", "YEARLY", "Offset", "RecurrenceRule", "parse_offset", "parse_rule"]
