"""Reading the dates an LMS export holds, in the office's language and order.

Exports write dates the way their vendor or the exporting user's locale does: ISO
(``2026-12-08``), numeric day-first or month-first (``08/12/2026``, ``12/8/2026 3:42 PM``), or
spelled out in the user's language (Moodle's ``mardi 8 décembre 2026, 15:42``). Numeric and ISO
dates are read by a small fast path (an export repeats a few hundred distinct values across
100k rows, and each value is read once); everything else goes to dateparser in the office's
language. Explicit strptime ``formats`` replace all of this when configured.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

import dateparser
from babel import Locale, UnknownLocaleError

DateOrder = Literal["DMY", "MDY", "YMD"]
EARLIEST, LATEST = date(1900, 1, 1), date(2199, 12, 31)
"""Dates outside this range are typing errors or "never" placeholders (0001-01-01, 9999-12-31)."""

_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ].*)?$")
_NUMERIC = re.compile(r"^(\d{1,4})[./-](\d{1,2})[./-](\d{1,4})(?:[ T,].*)?$")


class DateOutOfRange(ValueError):
    """A readable date outside :data:`EARLIEST` .. :data:`LATEST`."""


def order_for_locale(locale: str) -> DateOrder:
    """Day-first or month-first, from the locale's short date pattern (Babel/CLDR).

    A bare ``en`` means international English (day first); write ``en_US`` for month first."""
    if locale.lower() in {"en", "en-gb"}:
        return "DMY"
    try:
        pattern = Locale.parse(locale.replace("-", "_")).date_formats["short"].pattern
    except (UnknownLocaleError, ValueError, KeyError):
        return "DMY"
    positions = {key: pattern.find(key) for key in ("d", "M", "y")}
    ordered = "".join(key for key, _ in sorted(positions.items(), key=lambda item: item[1]))
    return {"dMy": "DMY", "Mdy": "MDY", "yMd": "YMD"}.get(ordered, "DMY")  # type: ignore[return-value]


def _build(year: int, month: int, day: int, *, short_year: bool = False) -> date | None:
    if short_year:
        year += 2000
    try:
        return date(year, month, day)
    except ValueError:
        return None


@dataclass(slots=True)
class DateReader:
    """Reads one export's dates; remembers each distinct value it has read."""

    language: str
    order: DateOrder
    formats: Sequence[str] = ()
    _memo: dict[str, date | None] = field(default_factory=dict)

    def describe(self) -> str:
        if self.formats:
            return ", ".join(self.formats)
        return f"{self.order[0]}/{self.order[1]}/{self.order[2]} or a written date in '{self.language}'"

    def read(self, value: str) -> date | None:
        """The date in ``value``, or ``None`` if it is not one; raises :class:`DateOutOfRange`."""
        if value not in self._memo:
            self._memo[value] = self._read(value.strip())
        found = self._memo[value]
        if found is not None and not EARLIEST <= found <= LATEST:
            raise DateOutOfRange(f"{found.isoformat()} is outside {EARLIEST.year}-{LATEST.year}")
        return found

    def _read(self, value: str) -> date | None:
        if self.formats:
            return self._strptime(value)
        match = _ISO.match(value)
        if match:
            return _build(int(match[1]), int(match[2]), int(match[3]))
        match = _NUMERIC.match(value)
        if match:
            return self._numeric(match[1], match[2], match[3])
        return self._written(value)

    def _numeric(self, first: str, second: str, third: str) -> date | None:
        if len(first) == 4 or self.order == "YMD":
            return _build(int(first), int(second), int(third), short_year=len(first) <= 2)
        short = len(third) <= 2
        if self.order == "MDY":
            return _build(int(third), int(first), int(second), short_year=short)
        return _build(int(third), int(second), int(first), short_year=short)

    def _written(self, value: str) -> date | None:
        languages = list(dict.fromkeys([self.language.split("_")[0].split("-")[0], "en"]))
        try:
            parsed = dateparser.parse(
                value,
                languages=languages,
                settings={"DATE_ORDER": self.order, "PREFER_DAY_OF_MONTH": "first"},
            )
        except (ValueError, OverflowError):
            return None
        return parsed.date() if parsed is not None else None

    def _strptime(self, value: str) -> date | None:
        for candidate in (value, value.split("T", 1)[0], value.split(" ", 1)[0]):
            for fmt in self.formats:
                try:
                    return datetime.strptime(candidate, fmt).date()
                except ValueError:
                    continue
        return None
