"""Pure parsing: an export's rows -> compact, validated rows with their line numbers.

Nothing here touches the database. Rows for courses that are not mandatory (not in the
catalogue, or ``mandatory: false``) are counted, not validated; every other row is checked and
each problem is kept with its line number. Rows are stored column-wise in ``array``s (a
million rows take ~20 MB instead of ~500 MB as objects) and people by index.
"""

from __future__ import annotations

import re
from array import array
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from bot.config import AppConfig, ImportColumns, fold
from bot.features.lms.dates import DateOutOfRange, DateReader, order_for_locale
from bot.features.lms.presets import FIELDS, PRESETS, Preset
from bot.features.lms.read import Record, Table

Kind = Literal["assignments", "completions", "transcript"]
MAX_PROBLEMS_SHOWN = 50
MAX_EMAIL = 320
MAX_NAME = 200
PROGRESS_EVERY = 5000
_SPACE = re.compile(r"\s")
INVALID = date.min
"""Stands for a date cell that could not be read (its problem is already recorded)."""


@dataclass(frozen=True, slots=True)
class Problem:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}" if self.line else self.reason


class ImportRejected(Exception):
    """The file has problems; nothing was written."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = sorted(problems, key=lambda problem: problem.line)
        shown = [str(p) for p in self.problems[:MAX_PROBLEMS_SHOWN]]
        more = len(self.problems) - len(shown)
        if more > 0:
            shown.append(f"... and {more} more problem(s)")
        super().__init__(
            f"nothing was imported; fix {len(self.problems)} problem(s) and run it again:\n  "
            + "\n  ".join(shown)
        )


@dataclass(frozen=True, slots=True)
class Columns:
    """Where each field is in this file's header (``None``: not in the file)."""

    at: dict[str, int]
    names: dict[str, str]

    def get(self, cells: list[str], key: str) -> str:
        index = self.at.get(key)
        return cells[index].strip() if index is not None and index < len(cells) else ""


@dataclass(slots=True)
class Parsed:
    """Every mandatory row, column-wise; ``done``/``due`` hold date ordinals (0 = none)."""

    kind: Kind
    emails: list[str] = field(default_factory=list)
    index: dict[str, int] = field(default_factory=dict)
    names: list[str] = field(default_factory=list)
    offices: list[str] = field(default_factory=list)
    course_ids: list[str] = field(default_factory=list)
    person: array[int] = field(default_factory=lambda: array("i"))
    course: array[int] = field(default_factory=lambda: array("H"))
    due: array[int] = field(default_factory=lambda: array("i"))
    done: array[int] = field(default_factory=lambda: array("i"))
    line: array[int] = field(default_factory=lambda: array("i"))
    rows: int = 0
    not_mandatory: Counter[str] = field(default_factory=Counter)
    not_completed: int = 0
    duplicates: int = 0
    problems: list[Problem] = field(default_factory=list)
    rows_of: list[array[int]] = field(default_factory=list)
    """Each person's row positions; ``finish`` sorts them by course and date and drops repeats
    (a small array per person keeps a million rows in a few MB, where one sorted list of
    positions would take ~80 MB)."""

    def person_of(self, email: str, name: str, office: str) -> int:
        position = self.index.get(email)
        if position is None:
            position = self.index[email] = len(self.emails)
            self.emails.append(email)
            self.names.append("")
            self.offices.append("")
            self.rows_of.append(array("i"))
        if name:
            self.names[position] = name[:MAX_NAME]
        if office:
            self.offices[position] = office
        return position


def preset_of(settings: ImportColumns) -> Preset:
    return PRESETS[settings.preset]


def resolve_columns(header: list[str], settings: ImportColumns, kind: Kind) -> Columns:
    """Find each field's column (the mapping in app.yaml first, then the preset's names);
    raise :class:`ImportRejected` (line 1) when a required one is missing."""
    folded = {fold(name): index for index, name in reversed(list(enumerate(header)))}
    preset = preset_of(settings)
    at: dict[str, int] = {}
    names: dict[str, str] = {}
    for key in FIELDS:
        configured = getattr(settings, key)
        candidates = (configured,) if configured else preset.columns.get(key, ())
        for candidate in candidates:
            if fold(candidate) in folded:
                at[key] = folded[fold(candidate)]
                names[key] = header[at[key]]
                break
        else:
            names[key] = candidates[0] if candidates else key
    _require(header, settings, kind, at, names)
    return Columns(at, names)


def _require(
    header: list[str], settings: ImportColumns, kind: Kind, at: dict[str, int], names: dict[str, str]
) -> None:
    needed: list[tuple[str, ...]] = [("email",), ("course", "course_title")]
    needed.append({"assignments": ("due",), "completions": ("completed",)}.get(kind, ("due", "completed")))
    missing = [
        " or ".join(f"'{names[key]}' (lms_import.{key})" for key in keys)
        for keys in needed
        if not any(key in at for key in keys)
    ]
    if missing:
        found = ", ".join(f"'{h}'" for h in header) or "no header"
        raise ImportRejected(
            [
                Problem(
                    1,
                    f"missing column(s) {', '.join(missing)} for preset '{settings.preset}'; the header "
                    f"has {found}. Rename the columns or set the mapping under lms_import in app.yaml",
                )
            ]
        )


def course_lookup(config: AppConfig) -> dict[str, str | None]:
    """Folded code, title or alias -> course id; ``None`` for a course that is not mandatory."""
    found: dict[str, str | None] = {}
    for course in config.courses:
        for label in (course.id, course.title, *course.aliases):
            found[fold(label)] = course.id if course.mandatory else None
    return found


def date_reader(config: AppConfig, office_id: str | None) -> DateReader:
    settings = config.lms_import
    locale = settings.language or config.office(office_id).locale
    order = settings.date_order or order_for_locale(locale)
    return DateReader(language=locale, order=order, formats=tuple(settings.date_formats))


@dataclass(slots=True)
class RowChecker:
    """Checks one row at a time and adds it to ``parsed`` (or a problem, or a count)."""

    config: AppConfig
    columns: Columns
    dates: DateReader
    parsed: Parsed
    courses: dict[str, str | None]
    course_index: dict[str, int] = field(default_factory=dict)
    folded: dict[str, str] = field(default_factory=dict)
    """Memo of :func:`fold` for the few distinct course and status texts an export repeats."""
    completed_words: frozenset[str] = frozenset()
    not_completed_words: frozenset[str] = frozenset()

    def check(self, record: Record) -> None:
        parsed = self.parsed
        if record.error:
            parsed.problems.append(Problem(record.line, record.error))
            return
        cells = record.cells
        if not "".join(cells).strip():
            return
        parsed.rows += 1
        course_id = self._course(cells)
        if course_id is None:
            return
        email = self._email(record.line, cells)
        done = self._status(record.line, cells)
        due = self._date(record.line, cells, "due")
        completed = self._date(record.line, cells, "completed") if done is not False else None
        if email is None or INVALID in (due, completed) or done == "bad":
            return
        self._add(record.line, cells, email, course_id, due, completed, done)

    def _add(
        self, line: int, cells: list[str], email: str, course_id: str,
        due: date | None, completed: date | None, done: bool | str | None,
    ) -> None:  # fmt: skip
        parsed, kind = self.parsed, self.parsed.kind
        if done is True and completed is None:
            name = self.columns.names["completed"]
            parsed.problems.append(Problem(line, f"'{name}' is empty but the status says completed"))
            return
        if kind == "assignments" and due is None:
            parsed.problems.append(Problem(line, f"'{self.columns.names['due']}' is empty"))
            return
        if completed is None and (kind == "completions" or due is None):
            if kind == "completions" and done is None:
                parsed.problems.append(Problem(line, f"'{self.columns.names['completed']}' is empty"))
                return
            parsed.not_completed += 1
            return
        name = self.columns.get(cells, "name") or " ".join(
            part
            for part in (self.columns.get(cells, "first_name"), self.columns.get(cells, "last_name"))
            if part
        )
        position = parsed.person_of(email, name, self.columns.get(cells, "office"))
        parsed.rows_of[position].append(len(parsed.person))
        parsed.person.append(position)
        parsed.course.append(self.course_index.setdefault(course_id, len(self.course_index)))
        parsed.due.append(due.toordinal() if due else 0)
        parsed.done.append(completed.toordinal() if completed else 0)
        parsed.line.append(line)

    def fold(self, text: str) -> str:
        folded = self.folded.get(text)
        if folded is None:
            folded = self.folded[text] = fold(text)
        return folded

    def _course(self, cells: list[str]) -> str | None:
        code, title = self.columns.get(cells, "course"), self.columns.get(cells, "course_title")
        for text in (code, title):
            if text and self.fold(text) in self.courses:
                found = self.courses[self.fold(text)]
                if found is not None:
                    return found
                break
        self.parsed.not_mandatory[title or code or "(no course)"] += 1
        return None

    def _email(self, line: int, cells: list[str]) -> str | None:
        email = self.columns.get(cells, "email").lower()
        reason = ""
        if not email:
            reason = f"'{self.columns.names['email']}' is empty"
        elif len(email) > MAX_EMAIL:
            reason = f"the email is {len(email)} characters long; an address has at most {MAX_EMAIL}"
        elif "@" not in email or _SPACE.search(email):
            reason = f"'{email}' is not an email address"
        if reason:
            self.parsed.problems.append(Problem(line, reason))
            return None
        return email

    def _status(self, line: int, cells: list[str]) -> bool | str | None:
        value = self.fold(self.columns.get(cells, "status"))
        if not value:
            return None
        if value in self.completed_words:
            return True
        if value in self.not_completed_words:
            return False
        name = self.columns.names["status"]
        self.parsed.problems.append(
            Problem(
                line,
                f"status '{self.columns.get(cells, 'status')}' in '{name}' is not understood; add it to "
                "lms_import.statuses.completed or .not_completed in app.yaml",
            )
        )
        return "bad"

    def _date(self, line: int, cells: list[str], key: str) -> date | None:
        value = self.columns.get(cells, key)
        if not value:
            return None
        name = self.columns.names[key]
        try:
            found = self.dates.read(value)
        except DateOutOfRange as exc:
            self.parsed.problems.append(
                Problem(line, f"'{value}' in '{name}' is not a plausible date ({exc})")
            )
            return INVALID
        if found is None:
            self.parsed.problems.append(
                Problem(
                    line,
                    f"'{value}' in '{name}' is not a date ({self.dates.describe()}); set "
                    "lms_import.date_order, .language or .date_formats in app.yaml",
                )
            )
            return INVALID
        return found


def parse_table(
    table: Table,
    kind: Kind,
    config: AppConfig,
    *,
    office_id: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Parsed:
    """Check every row; raise :class:`ImportRejected` listing every problem, by line."""
    settings = config.lms_import
    columns = resolve_columns(table.header, settings, kind)
    preset = preset_of(settings)
    checker = RowChecker(
        config=config,
        columns=columns,
        dates=date_reader(config, office_id),
        parsed=Parsed(kind=kind),
        courses=course_lookup(config),
        completed_words=preset.completed | {fold(word) for word in settings.statuses.completed},
        not_completed_words=preset.not_completed | {fold(word) for word in settings.statuses.not_completed},
    )
    for record in table.records:
        checker.check(record)
        if progress is not None and checker.parsed.rows % PROGRESS_EVERY == 0:
            progress(checker.parsed.rows, table.position())
    parsed = checker.parsed
    if progress is not None:
        progress(parsed.rows, table.size)
    parsed.course_ids = list(checker.course_index)
    finish(parsed)
    if parsed.problems:
        raise ImportRejected(parsed.problems)
    return parsed


def finish(parsed: Parsed) -> None:
    """Sort each person's rows by course and date; drop exact repeats; report conflicting ones."""
    course, due = parsed.course, parsed.due
    for person, positions in enumerate(parsed.rows_of):
        ordered = sorted(positions, key=lambda i: (course[i] << 20) | due[i])
        parsed.rows_of[person] = array("i", _kept(parsed, ordered))


def _kept(parsed: Parsed, ordered: list[int]) -> list[int]:
    course, due, done, line = parsed.course, parsed.due, parsed.done, parsed.line
    kept: list[int] = []
    for position in ordered:
        previous = kept[-1] if kept else -1
        if previous < 0 or course[previous] != course[position]:
            kept.append(position)
            continue
        same_round = due[previous] == due[position] and (due[position] or done[previous] == done[position])
        if same_round and done[previous] == done[position]:
            parsed.duplicates += 1
            continue
        if same_round or parsed.kind == "assignments":
            email = parsed.emails[parsed.person[position]]
            first, second = sorted((line[previous], line[position]))
            course_id = parsed.course_ids[course[position]]
            parsed.problems.append(
                Problem(second, f"{email} has {course_id} on line {first} too, with a different date")
            )
            continue
        kept.append(position)
    return kept
