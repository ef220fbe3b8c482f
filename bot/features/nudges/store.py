"""Queries the nudges handlers run (the sweep's and the report's own queries live with those
rules, in ``sweep.py`` and ``report.py``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Person
from storage.nudges import Assignment, KudosOptIn, Source


async def assignment(session: AsyncSession, value: str) -> Assignment | None:
    """The assignment a button's value names (``None`` for a value that is no id)."""
    return await session.get(Assignment, int(value)) if value.isdigit() else None


async def recently_nudged(session: AsyncSession, person_id: int, since: datetime) -> list[Assignment]:
    """The person's open assignments reminded since ``since``, latest reminder first."""
    return list(
        await session.scalars(
            select(Assignment)
            .where(
                Assignment.person_id == person_id,
                Assignment.completed_on.is_(None),
                Assignment.last_nudge_at.is_not(None),
                Assignment.last_nudge_at >= since,
            )
            .order_by(Assignment.last_nudge_at.desc(), Assignment.id.desc())
        )
    )


async def latest_self_reported(session: AsyncSession, person_id: int, course_id: str) -> Assignment | None:
    return await session.scalar(
        select(Assignment)
        .where(
            Assignment.person_id == person_id,
            Assignment.course_id == course_id,
            Assignment.completion_source == Source.SELF_REPORTED,
        )
        .order_by(Assignment.due_on.desc())
        .limit(1)
    )


async def self_reported(session: AsyncSession) -> Sequence[tuple[Assignment, Person]]:
    """Every self-reported completion awaiting review, oldest report first, with its person."""
    rows = await session.execute(
        select(Assignment, Person)
        .join(Person, Person.id == Assignment.person_id)
        .where(Assignment.completion_source == Source.SELF_REPORTED)
        .order_by(Assignment.reported_at)
    )
    return [(assignment, person) for assignment, person in rows]


async def assignments_of(session: AsyncSession, person_id: int) -> list[Assignment]:
    return list(
        await session.scalars(
            select(Assignment).where(Assignment.person_id == person_id).order_by(Assignment.due_on)
        )
    )


async def kudos_opt_in(session: AsyncSession, person_id: int) -> KudosOptIn | None:
    return await session.get(KudosOptIn, person_id)
