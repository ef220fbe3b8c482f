"""Pure planning: parsed rows + what the database holds -> what the import would change.

Works one chunk of people at a time (the caller loads their records), so a 1M-row import never
holds the whole database in memory. Nothing here reads or writes the database: the same plan
is the dry run's summary and the apply step's work list.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta

from bot.config import AppConfig
from bot.features.lms.parse import Parsed
from bot.people import office_for_email
from storage.nudges import Source

DONE_SOURCES = frozenset({Source.LMS.value, Source.CONFIRMED.value})
"""Completions that are settled: an LMS record or a manager's confirmation (a self-report is not)."""


@dataclass(frozen=True, slots=True)
class StoredPerson:
    id: int
    display_name: str
    office_id: str | None


@dataclass(slots=True)
class Slot:
    """One assignment of a person and course, stored (``id``) or to be created by this plan."""

    id: int | None
    due_on: date
    completed_on: date | None
    source: str | None


@dataclass(slots=True)
class PeoplePlan:
    new: list[tuple[str, str, str]] = field(default_factory=list)
    """(email, name, office id) of people Learnbot has never seen."""
    renamed: list[tuple[int, str]] = field(default_factory=list)
    moved: list[tuple[int, str]] = field(default_factory=list)
    unknown_offices: Counter[str] = field(default_factory=Counter)
    out_of_scope: set[str] = field(default_factory=set)


@dataclass(slots=True)
class AssignmentPlan:
    create: list[tuple[int, str, Slot]] = field(default_factory=list)
    moved: list[tuple[int, date]] = field(default_factory=list)
    completed: list[tuple[int, str, Slot]] = field(default_factory=list)
    """Completions to record: (person id, course id, the slot, completed) - stored or created."""
    thank: list[tuple[int, str, date]] = field(default_factory=list)
    """(person id, course id, due date) of completions recent enough to thank the person for."""
    unchanged: int = 0
    next_rounds: int = 0
    """Of ``create``: the next round of a recurring course after a completion."""


@dataclass(frozen=True, slots=True)
class Rules:
    """What planning needs from the configuration, computed once per import."""

    kind: str
    recurrences: dict[str, relativedelta | None]
    thank_from: date
    today: date


def plan_people(
    parsed: Parsed,
    positions: Sequence[int],
    stored: dict[str, StoredPerson],
    config: AppConfig,
    scope: frozenset[str] | None,
    home_office: str | None = None,
) -> PeoplePlan:
    """New people, names and offices from the file; people outside ``scope`` are left alone.

    A new person without an office label goes to ``home_office`` when the import is scoped (a
    manager's upload: their office), else where :func:`office_for_email` puts them."""
    plan = PeoplePlan()
    offices: dict[str, str | None] = {}  # an export repeats a few office labels
    default_office = home_office if scope else None
    for position in positions:
        email, name, label = parsed.emails[position], parsed.names[position], parsed.offices[position]
        if label and label not in offices:
            found = config.office_for_label(label)
            offices[label] = found.id if found is not None else None
        office = offices.get(label) if label else None
        if label and office is None:
            plan.unknown_offices[label] += 1
        person = stored.get(email)
        if person is None:
            office = office or default_office or office_for_email(config, email)
            if scope is not None and office not in scope:
                plan.out_of_scope.add(email)
                continue
            plan.new.append((email, name, office))
            continue
        if scope is not None and person.office_id not in scope:
            plan.out_of_scope.add(email)
            continue
        if name and name != person.display_name:
            plan.renamed.append((person.id, name))
        if office and office != person.office_id and not config.is_learning_manager(email):
            plan.moved.append((person.id, office))
    return plan


def plan_assignments(
    rows: Sequence[tuple[int, date | None, date | None]],
    slots: list[Slot],
    person_id: int,
    course_id: str,
    rules: Rules,
    plan: AssignmentPlan,
) -> None:
    """Plan one person's rows for one course, ``(line, due, completed)`` sorted by due date."""
    for _line, due, completed in rows:
        if due is not None and rules.kind != "completions":
            _assignment_row(due, completed, slots, person_id, course_id, rules, plan)
        elif completed is not None:
            _completion_row(due, completed, slots, person_id, course_id, rules, plan)


def _assignment_row(
    due: date, completed: date | None, slots: list[Slot], person_id: int, course_id: str,
    rules: Rules, plan: AssignmentPlan,
) -> None:  # fmt: skip
    same = next((slot for slot in slots if slot.due_on == due), None)
    target = same or next((slot for slot in slots if slot.completed_on is None), None)
    if target is None:
        slot = Slot(None, due, None, None)
        slots.append(slot)
        plan.create.append((person_id, course_id, slot))
        if completed is not None:
            _complete(slot, completed, slots, person_id, course_id, rules, plan)
        return
    if target.due_on != due:
        target.due_on = due  # the LMS moved the date: reminders start over for the new one
        if target.id is not None:
            plan.moved.append((target.id, due))
    elif completed is None or target.source in DONE_SOURCES:
        plan.unchanged += 1
    if completed is not None and target.source not in DONE_SOURCES:
        _complete(target, completed, slots, person_id, course_id, rules, plan)


def _completion_row(
    due: date | None, completed: date, slots: list[Slot], person_id: int, course_id: str,
    rules: Rules, plan: AssignmentPlan,
) -> None:  # fmt: skip
    if any(slot.completed_on == completed and slot.source in DONE_SOURCES for slot in slots):
        plan.unchanged += 1
        return
    # A completion counts for an assignment only within the course's validity window
    # (a 2025 completion of a yearly course does not settle the 2026 round).
    validity = rules.recurrences.get(course_id)
    pending = [
        slot
        for slot in slots
        if slot.source not in DONE_SOURCES and (validity is None or completed > slot.due_on - validity)
    ]
    if pending:
        _complete(pending[0], completed, slots, person_id, course_id, rules, plan)
    elif any(slot.due_on == (due or completed) for slot in slots):
        plan.unchanged += 1  # already on record as another round
    else:
        slot = Slot(None, due or completed, None, None)
        slots.append(slot)
        plan.create.append((person_id, course_id, slot))
        _complete(slot, completed, slots, person_id, course_id, rules, plan)


def _complete(
    slot: Slot, completed: date, slots: list[Slot], person_id: int, course_id: str,
    rules: Rules, plan: AssignmentPlan,
) -> None:  # fmt: skip
    """Record a completion and plan the next round of a recurring course (if not there yet)."""
    slot.completed_on, slot.source = completed, Source.LMS.value
    plan.completed.append((person_id, course_id, slot))
    if rules.thank_from <= completed <= rules.today:
        plan.thank.append((person_id, course_id, slot.due_on))
    recurrence = rules.recurrences.get(course_id)
    if recurrence is None:
        return
    next_due = completed + recurrence
    if any(other.due_on >= next_due - timedelta(days=1) for other in slots):
        return
    upcoming = Slot(None, next_due, None, None)
    slots.append(upcoming)
    plan.create.append((person_id, course_id, upcoming))
    plan.next_rounds += 1


def groups(parsed: Parsed, people: Sequence[int]) -> dict[tuple[int, int], list[int]]:
    """Row positions of each (person, course) of these people, in due-date order."""
    found: dict[tuple[int, int], list[int]] = {}
    for person in people:
        for position in parsed.rows_of[person]:
            found.setdefault((person, parsed.course[position]), []).append(position)
    return found


def chunks_of_people(parsed: Parsed, size: int) -> Iterator[list[int]]:
    """People (positions in ``parsed``) with rows, ``size`` at a time."""
    chunk: list[int] = []
    for person, positions in enumerate(parsed.rows_of):
        if not positions:
            continue
        chunk.append(person)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


OrdinalDate = Callable[[int], date | None]


def as_date(ordinal: int) -> date | None:
    return date.fromordinal(ordinal) if ordinal else None
