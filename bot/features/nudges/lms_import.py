"""Importing an LMS export (CSV): assignments (who must take what by when) and completions.

All or nothing: the whole file is validated first, and any bad row is reported with its line
number and reason while nothing is written. A good file is applied idempotently (running it
again changes nothing), in bulk, so 100k rows take seconds. Column names come from
``lms_import`` in app.yaml; the course column may hold a course id or its title.

People are matched by email. An email Learnbot has never seen gets a person record (they are
linked when they first talk to the bot) and is listed in the result, never dropped silently.
"""

from __future__ import annotations

import csv
import io
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Literal, TypeVar

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import AppConfig, parse_recurrence
from bot.features.nudges.outcomes import local_today, record_completion
from bot.features.nudges.stages import first_stage_on
from bot.people import office_for_email
from storage.models import Person, PlatformAccount
from storage.nudges import Assignment, Source

if TYPE_CHECKING:
    from bot.core import Learnbot

logger = logging.getLogger(__name__)

T = TypeVar("T")
Kind = Literal["assignments", "completions"]
CHUNK = 900
ASSIGNMENTS = Assignment.metadata.tables[Assignment.__tablename__]
"""The table itself: a Core insert skips the ORM's per-row bookkeeping on bulk inserts."""
MAX_PROBLEMS_SHOWN = 50


@dataclass(frozen=True, slots=True)
class Row:
    line: int
    email: str
    course_id: str
    due_on: date | None
    completed_on: date | None


@dataclass(frozen=True, slots=True)
class Problem:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}" if self.line else self.reason


class ImportRejected(Exception):
    """The file has problems; nothing was written."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        shown = [str(p) for p in self.problems[:MAX_PROBLEMS_SHOWN]]
        more = len(self.problems) - len(shown)
        if more > 0:
            shown.append(f"... and {more} more problem(s)")
        super().__init__(
            f"nothing was imported; fix {len(self.problems)} problem(s) and run it again:\n  "
            + "\n  ".join(shown)
        )


@dataclass(slots=True)
class ImportResult:
    rows: int = 0
    created: int = 0
    updated: int = 0
    completed: int = 0
    unchanged: int = 0
    new_people: list[str] = field(default_factory=list)
    not_in_chat: list[str] = field(default_factory=list)

    def summary(self) -> str:
        lines = [
            f"{self.rows} row(s): {self.created} assignment(s) created, {self.updated} updated, "
            f"{self.completed} completion(s) recorded, {self.unchanged} unchanged"
        ]
        if self.new_people:
            lines.append(
                f"{len(self.new_people)} email(s) new to Learnbot (added): {_sample(self.new_people)}"
            )
        if self.not_in_chat:
            lines.append(
                f"{len(self.not_in_chat)} person(s) have not used Learnbot in chat yet, so reminders "
                f"wait until they do: {_sample(self.not_in_chat)}"
            )
        return "\n".join(lines)


def _sample(emails: Sequence[str], shown: int = 20) -> str:
    head = ", ".join(emails[:shown])
    return head + (f" and {len(emails) - shown} more" if len(emails) > shown else "")


# -- parsing ---------------------------------------------------------------------------------
def _parse_date(value: str, formats: Sequence[str]) -> date | None:
    value = value.strip()
    for candidate in (value, value.split("T", 1)[0], value.split(" ", 1)[0]):
        for fmt in formats:
            try:
                return datetime.strptime(candidate, fmt).date()
            except ValueError:
                continue
    return None


def parse(text: str, kind: Kind, config: AppConfig) -> list[Row]:
    """Validate the whole file; raise :class:`ImportRejected` listing every bad row."""
    columns = config.lms_import
    required = {"email": columns.email, "course": columns.course}
    required["due" if kind == "assignments" else "completed"] = (
        columns.due if kind == "assignments" else columns.completed
    )
    text = text.removeprefix("\ufeff")
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text.split("\n", 1)[0], ",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect=dialect)
    header = [name.strip() for name in next(reader, [])]
    missing = [f"'{name}' (lms_import.{key})" for key, name in required.items() if name not in header]
    if missing:
        found = ", ".join(f"'{h}'" for h in header) or "no header"
        raise ImportRejected(
            [
                Problem(
                    1,
                    f"missing column(s) {', '.join(missing)}; the header has {found}. "
                    "Rename the columns or set the mapping under lms_import in app.yaml",
                )
            ]
        )
    courses: dict[str, str] = {}
    for course in config.courses:
        courses[course.id.lower()] = course.id
        courses[course.title.lower()] = course.id
    known = ", ".join(course.id for course in config.courses) or "none (add them under courses in app.yaml)"
    formats = columns.date_formats
    parsed_dates: dict[str, date | None] = {}  # an export repeats the same few hundred dates
    problems: list[Problem] = []
    rows: list[Row] = []
    seen: dict[tuple[str, str], tuple[int, date | None]] = {}
    position = {name: index for index, name in reversed(list(enumerate(header)))}
    email_at, course_at = position[columns.email], position[columns.course]
    date_columns = [
        (key, column, position.get(column))
        for key, column in (("due", columns.due), ("completed", columns.completed))
    ]
    width = len(header)
    for record in reader:  # plain lists: a dict per row costs more than the whole check
        line = reader.line_num
        if not any(value.strip() for value in record):
            continue
        if len(record) > width:
            problems.append(Problem(line, f"more values than the {width} columns of the header"))
            continue
        if len(record) < width:
            record = record + [""] * (width - len(record))
        email = record[email_at].strip().lower()
        course_text = record[course_at].strip()
        if "@" not in email or " " in email:
            problems.append(
                Problem(line, f"'{email}' is not an email address" if email else "email is empty")
            )
            continue
        course_id = courses.get(course_text.lower())
        if course_id is None:
            problems.append(Problem(line, f"unknown course '{course_text}' (known: {known})"))
            continue
        dates: dict[str, date | None] = {}
        bad = False
        for key, column, at in date_columns:
            value = record[at].strip() if at is not None else ""
            if not value:
                dates[key] = None
                if key in required:
                    problems.append(Problem(line, f"'{column}' is empty"))
                    bad = True
                continue
            if value not in parsed_dates:
                parsed_dates[value] = _parse_date(value, formats)
            parsed = parsed_dates[value]
            if parsed is None:
                problems.append(
                    Problem(
                        line,
                        f"'{value}' in '{column}' is not a date in {', '.join(formats)} "
                        "(set lms_import.date_formats in app.yaml)",
                    )
                )
                bad = True
            dates[key] = parsed
        if bad:
            continue
        marker = dates["due"] if kind == "assignments" else dates["completed"]
        previous = seen.get((email, course_id))
        if previous is not None and previous[1] != marker:
            problems.append(
                Problem(line, f"{email} has {course_id} on line {previous[0]} too, with a different date")
            )
            continue
        seen[(email, course_id)] = (line, marker)
        rows.append(Row(line, email, course_id, dates["due"], dates["completed"]))
    if problems:
        raise ImportRejected(problems)
    return rows


# -- applying --------------------------------------------------------------------------------
def _chunks(items: Sequence[T]) -> Iterable[Sequence[T]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


async def _people(
    session: AsyncSession, config: AppConfig, emails: Sequence[str], now: datetime, result: ImportResult
) -> dict[str, int]:
    ids: dict[str, int] = {}
    for chunk in _chunks(emails):
        rows = await session.execute(
            select(Person.id, func.lower(Person.email)).where(func.lower(Person.email).in_(chunk))
        )
        ids.update({email: person_id for person_id, email in rows})
    new = [email for email in emails if email not in ids]
    if new:
        await session.execute(
            insert(Person),
            [
                {
                    "email": email,
                    "display_name": "",
                    "office_id": office_for_email(config, email),
                    "created_at": now,
                    "updated_at": now,
                }
                for email in new
            ],
        )
        for chunk in _chunks(new):
            rows = await session.execute(select(Person.id, Person.email).where(Person.email.in_(chunk)))
            ids.update({email: person_id for person_id, email in rows})
        result.new_people = sorted(new)
    linked: set[int] = set()
    all_ids = sorted(ids.values())
    for id_chunk in _chunks(all_ids):
        linked.update(
            await session.scalars(
                select(PlatformAccount.person_id).where(PlatformAccount.person_id.in_(id_chunk))
            )
        )
    result.not_in_chat = sorted(email for email, person_id in ids.items() if person_id not in linked)
    return ids


@dataclass(slots=True)
class Existing:
    """An assignment already stored, as plain values (loading ORM objects for 100k rows that
    mostly do not change would cost more than the whole comparison)."""

    id: int
    person_id: int
    course_id: str
    due_on: date
    completed_on: date | None
    completion_source: str | None


async def _existing(
    session: AsyncSession, person_ids: Sequence[int]
) -> dict[tuple[int, str], list[Existing]]:
    found: dict[tuple[int, str], list[Existing]] = defaultdict(list)
    connection = await session.connection()
    for chunk in _chunks(sorted(set(person_ids))):
        rows = await connection.execute(
            select(
                Assignment.id,
                Assignment.person_id,
                Assignment.course_id,
                Assignment.due_on,
                Assignment.completed_on,
                Assignment.completion_source,
            ).where(Assignment.person_id.in_(chunk))
        )
        for row in rows:
            found[(row.person_id, row.course_id)].append(Existing(*row))
    for items in found.values():
        items.sort(key=lambda a: a.due_on)
    return found


async def apply(app: Learnbot, session: AsyncSession, rows: Sequence[Row], kind: Kind) -> ImportResult:
    """Write validated rows (in the caller's transaction)."""
    config = app.config
    now = app.clock.now()
    policy = config.nudges
    result = ImportResult(rows=len(rows))
    emails = sorted({row.email for row in rows})
    people = await _people(session, config, emails, now, result)
    existing = await _existing(session, list(people.values()))
    thank_from = now.date() - timedelta(days=policy.thank_imported_within_days)
    new_rows: list[dict[str, object]] = []
    completed_new: dict[tuple[int, str, date], date] = {}
    first_nudges: dict[date, date | None] = KeyDefault(lambda due: first_stage_on(due, policy))
    recurrences = {course.id: parse_recurrence(course.recurrence) for course in config.courses}
    to_complete: list[tuple[int, date]] = []
    moved: list[dict[str, object]] = []
    for row in rows:
        person_id = people[row.email]
        current = existing.get((person_id, row.course_id), [])
        if kind == "assignments":
            assert row.due_on is not None
            same = next((a for a in current if a.due_on == row.due_on), None)
            open_one = next((a for a in current if a.completed_on is None), None)
            target = same or open_one
            if target is None:
                new_rows.append(
                    _new(person_id, row.course_id, row.due_on, row.completed_on, now, first_nudges)
                )
                if row.completed_on is not None:
                    completed_new[(person_id, row.course_id, row.due_on)] = row.completed_on
                continue
            if target.due_on != row.due_on:
                # The LMS moved the date: reminders start over for the new one.
                moved.append(
                    {
                        "id": target.id,
                        "due_on": row.due_on,
                        "snoozed_until": None,
                        "last_stage": None,
                        "next_nudge_on": first_nudges[row.due_on],
                        "updated_at": now,
                    }
                )
                result.updated += 1
            elif row.completed_on is None or target.completion_source in {"lms", "confirmed"}:
                result.unchanged += 1
            if row.completed_on is not None and target.completion_source not in {"lms", "confirmed"}:
                to_complete.append((target.id, row.completed_on))
        else:
            assert row.completed_on is not None
            if any(
                a.completed_on == row.completed_on and a.completion_source in {"lms", "confirmed"}
                for a in current
            ):
                result.unchanged += 1
                continue
            # A completion counts for an assignment only within the course's validity window
            # (a 2025 completion of a yearly course does not settle the 2026 round).
            validity = recurrences.get(row.course_id)
            pending = [
                a
                for a in current
                if a.completion_source not in {"lms", "confirmed"}
                and (validity is None or row.completed_on > a.due_on - validity)
            ]
            if pending:
                to_complete.append((pending[0].id, row.completed_on))
            elif any(a.due_on == (row.due_on or row.completed_on) for a in current):
                result.unchanged += 1  # already on record as another round
            else:
                due = row.due_on or row.completed_on
                new_rows.append(_new(person_id, row.course_id, due, row.completed_on, now, first_nudges))
                completed_new[(person_id, row.course_id, due)] = row.completed_on
    if moved:
        await session.execute(update(Assignment), moved)
    if new_rows:
        for start in range(0, len(new_rows), 5000):
            await session.execute(insert(ASSIGNMENTS), new_rows[start : start + 5000])
        result.created = len(new_rows)
        if completed_new:
            fresh = await _existing(session, sorted({person_id for person_id, _, _ in completed_new}))
            for stored in fresh.values():
                for item in stored:
                    key = (item.person_id, item.course_id, item.due_on)
                    if key in completed_new:
                        to_complete.append((item.id, completed_new[key]))
    for assignment_id, completed_on in to_complete:
        assignment = await session.get_one(Assignment, assignment_id)
        person = await session.get_one(Person, assignment.person_id)
        thank = thank_from <= completed_on <= local_today(config, person, now)
        await record_completion(app, session, assignment, completed_on, Source.LMS, thank=thank)
        result.completed += 1
    return result


class KeyDefault(dict[date, date | None]):
    """A memo that computes a missing key from the key (``defaultdict`` cannot)."""

    def __init__(self, compute: Callable[[date], date | None]) -> None:
        super().__init__()
        self.compute = compute

    def __missing__(self, key: date) -> date | None:
        value = self[key] = self.compute(key)
        return value


def _new(
    person_id: int,
    course_id: str,
    due_on: date,
    completed_on: date | None,
    now: datetime,
    first_nudges: dict[date, date | None],
) -> dict[str, object]:
    return {
        "person_id": person_id,
        "course_id": course_id,
        "due_on": due_on,
        "completed_on": completed_on,
        "completion_source": "lms" if completed_on else None,
        "next_nudge_on": None if completed_on else first_nudges[due_on],
        "created_at": now,
        "updated_at": now,
    }


async def import_text(app: Learnbot, text: str, kind: Kind, *, dry_run: bool = False) -> ImportResult:
    """Validate and apply in one transaction: all or nothing (``dry_run``: roll back)."""
    rows = parse(text, kind, app.config)
    async with app.sessions() as session:  # closing without commit rolls back on any error
        result = await apply(app, session, rows, kind)
        if dry_run:
            await session.rollback()
        else:
            await session.commit()
    logger.info("imported %s%s: %s", kind, " (dry run)" if dry_run else "", result.summary())
    return result
