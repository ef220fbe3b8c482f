"""The LMS import's database reads and writes, in bulk (one query per chunk of people)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime

from sqlalchemy import Table, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import NudgePolicy
from bot.features.lms.plan import AssignmentPlan, PeoplePlan, Slot, StoredPerson
from bot.features.nudges.stages import first_stage_on
from bot.people import OfficeSource
from storage.models import Person, PlatformAccount
from storage.nudges import Assignment, KudosOptIn, Source

ASSIGNMENTS = Assignment.metadata.tables[Assignment.__tablename__]
"""The table itself: a Core insert skips the ORM's per-row bookkeeping on bulk inserts."""
PEOPLE = Person.metadata.tables[Person.__tablename__]


async def load_people(session: AsyncSession, emails: Sequence[str]) -> dict[str, StoredPerson]:
    """People by (lower-case) email. Emails are stored lower-case, so the unique index on
    ``people.email`` serves the look-up (``lower(email)`` would scan the table per chunk)."""
    rows = await session.execute(
        select(Person.email, Person.id, Person.display_name, Person.office_id).where(Person.email.in_(emails))
    )
    return {email: StoredPerson(person_id, name, office) for email, person_id, name, office in rows if email}


async def write_people(session: AsyncSession, plan: PeoplePlan, now: datetime) -> None:
    if plan.new:
        await bulk_insert(session, PEOPLE, ("email", "display_name", "office_id"), plan.new, now)
    if plan.renamed:
        await session.execute(
            update(Person),
            [{"id": pid, "display_name": name, "updated_at": now} for pid, name in plan.renamed],
        )
    if plan.moved:
        # The import is the strongest source (bot.people.OfficeSource): set in bulk, recorded as
        # "import" so a directory field, a manager or the person cannot undo it.
        source = OfficeSource.IMPORT.value
        await session.execute(
            update(Person),
            [
                {"id": pid, "office_id": office, "office_source": source, "updated_at": now}
                for pid, office in plan.moved
            ],
        )


async def linked(session: AsyncSession, person_ids: Sequence[int]) -> set[int]:
    found = await session.scalars(
        select(PlatformAccount.person_id).where(PlatformAccount.person_id.in_(person_ids)).distinct()
    )
    return set(found)


async def load_slots(session: AsyncSession, person_ids: Sequence[int]) -> dict[tuple[int, str], list[Slot]]:
    """Assignments of these people as plain values (ORM objects for 100k rows that mostly do not
    change would cost more than the whole comparison), oldest due date first."""
    found: dict[tuple[int, str], list[Slot]] = defaultdict(list)
    connection = await session.connection()
    rows = await connection.execute(
        select(
            Assignment.person_id,
            Assignment.course_id,
            Assignment.id,
            Assignment.due_on,
            Assignment.completed_on,
            Assignment.completion_source,
        )
        .where(Assignment.person_id.in_(person_ids))
        .order_by(Assignment.due_on)
    )
    for person_id, course_id, assignment_id, due_on, completed_on, source in rows:
        found[(person_id, course_id)].append(Slot(assignment_id, due_on, completed_on, source))
    return found


async def write_assignments(
    session: AsyncSession, plan: AssignmentPlan, policy: NudgePolicy, now: datetime
) -> None:
    firsts: dict[date, date | None] = {}

    def first(due: date) -> date | None:
        if due not in firsts:
            firsts[due] = first_stage_on(due, policy)
        return firsts[due]

    if plan.moved:
        await session.execute(
            update(Assignment),
            [
                {"id": aid, "due_on": due, "snoozed_until": None, "last_stage": None,
                 "next_nudge_on": first(due), "updated_at": now}
                for aid, due in plan.moved
            ],
        )  # fmt: skip
    done = [slot for _, _, slot in plan.completed if slot.id is not None]
    if done:
        await session.execute(
            update(Assignment),
            [
                {"id": slot.id, "completed_on": slot.completed_on, "completion_source": Source.LMS.value,
                 "next_nudge_on": None, "updated_at": now}
                for slot in done
            ],
        )  # fmt: skip
    if plan.create:
        rows = [
            (person_id, course_id, slot.due_on, slot.completed_on, slot.source,
             None if slot.completed_on else first(slot.due_on))
            for person_id, course_id, slot in plan.create
        ]  # fmt: skip
        await insert_assignments(session, rows, now)


INSERT_COLUMNS = ("person_id", "course_id", "due_on", "completed_on", "completion_source", "next_nudge_on")


async def insert_assignments(
    session: AsyncSession, rows: Sequence[tuple[object, ...]], now: datetime
) -> None:
    await bulk_insert(session, ASSIGNMENTS, INSERT_COLUMNS, rows, now)


async def bulk_insert(
    session: AsyncSession,
    table: Table,
    columns: Sequence[str],
    rows: Sequence[tuple[object, ...]],
    now: datetime,
) -> None:
    """Insert rows (plus ``created_at``/``updated_at`` = ``now``). On SQLite the driver's
    ``executemany`` takes the values as they are (dates as the ISO text SQLAlchemy reads back),
    ~3x faster than SQLAlchemy's per-value bind processing for 100k rows; elsewhere Core."""
    if session.get_bind().dialect.name != "sqlite":
        stamps = {"created_at": now, "updated_at": now}
        await session.execute(
            insert(table), [{**dict(zip(columns, row, strict=True)), **stamps} for row in rows]
        )
        return
    stamp = now.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")
    names = ", ".join((*columns, "created_at", "updated_at"))
    marks = ", ".join("?" for _ in range(len(columns) + 2))
    values = [(*(value.isoformat() if isinstance(value, date) else value for value in row), stamp, stamp)
              for row in rows]  # fmt: skip
    connection = await session.connection()
    await connection.exec_driver_sql(f"INSERT INTO {table.name} ({names}) VALUES ({marks})", values)


async def assignments_at(session: AsyncSession, keys: Sequence[tuple[int, str, date]]) -> list[Assignment]:
    """The assignments with these (person, course, due date), in one query per 900 people."""
    wanted = set(keys)
    found: list[Assignment] = []
    people = sorted({person_id for person_id, _, _ in keys})
    for start in range(0, len(people), 900):
        rows = await session.scalars(
            select(Assignment).where(Assignment.person_id.in_(people[start : start + 900]))
        )
        found.extend(row for row in rows if (row.person_id, row.course_id, row.due_on) in wanted)
    return found


async def prefetch_people(session: AsyncSession, person_ids: Sequence[int]) -> None:
    """Load these people into the session, so the per-person work after (thank-yous) finds them
    without a query each."""
    for start in range(0, len(person_ids), 900):
        await session.scalars(select(Person).where(Person.id.in_(person_ids[start : start + 900])))


async def kudos_opted_in(session: AsyncSession, person_ids: Sequence[int]) -> set[int]:
    found: set[int] = set()
    for start in range(0, len(person_ids), 900):
        rows = await session.scalars(
            select(KudosOptIn.person_id).where(KudosOptIn.person_id.in_(person_ids[start : start + 900]))
        )
        found.update(rows)
    return found
