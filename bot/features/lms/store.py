"""The LMS import's database reads and writes, in bulk (one query per chunk of people)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import NudgePolicy
from bot.features.lms.plan import AssignmentPlan, PeoplePlan, Slot, StoredPerson
from bot.nudges.stages import first_stage_on
from storage.models import Person, PlatformAccount
from storage.nudges import Assignment

ASSIGNMENTS = Assignment.metadata.tables[Assignment.__tablename__]
"""The table itself: a Core insert skips the ORM's per-row bookkeeping on bulk inserts."""
PEOPLE = Person.metadata.tables[Person.__tablename__]


async def load_people(session: AsyncSession, emails: Sequence[str]) -> dict[str, StoredPerson]:
    rows = await session.execute(
        select(func.lower(Person.email), Person.id, Person.display_name, Person.office_id).where(
            func.lower(Person.email).in_(emails)
        )
    )
    return {email: StoredPerson(person_id, name, office) for email, person_id, name, office in rows}


async def write_people(session: AsyncSession, plan: PeoplePlan, now: datetime) -> None:
    if plan.new:
        await session.execute(
            insert(PEOPLE),
            [
                {
                    "email": email,
                    "display_name": name,
                    "office_id": office,
                    "created_at": now,
                    "updated_at": now,
                }
                for email, name, office in plan.new
            ],
        )
    if plan.renamed:
        await session.execute(
            update(Person),
            [{"id": pid, "display_name": name, "updated_at": now} for pid, name in plan.renamed],
        )
    if plan.moved:
        # Until offices land (issue 11's assign_office), the import sets the office directly.
        await session.execute(
            update(Person),
            [{"id": pid, "office_id": office, "updated_at": now} for pid, office in plan.moved],
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
                {"id": slot.id, "completed_on": slot.completed_on, "completion_source": "lms",
                 "next_nudge_on": None, "updated_at": now}
                for slot in done
            ],
        )  # fmt: skip
    if plan.create:
        await session.execute(
            insert(ASSIGNMENTS),
            [
                {"person_id": person_id, "course_id": course_id, "due_on": slot.due_on,
                 "completed_on": slot.completed_on, "completion_source": slot.source,
                 "next_nudge_on": None if slot.completed_on else first(slot.due_on),
                 "created_at": now, "updated_at": now}
                for person_id, course_id, slot in plan.create
            ],
        )  # fmt: skip


async def assignment_at(
    session: AsyncSession, person_id: int, course_id: str, due: date
) -> Assignment | None:
    return await session.scalar(
        select(Assignment).where(
            Assignment.person_id == person_id, Assignment.course_id == course_id, Assignment.due_on == due
        )
    )
