"""Shared set-up for the nudge tests: assignments come in through the real LMS import."""

from __future__ import annotations

from sqlalchemy import select

from bot.core import Learnbot
from bot.features.lms.apply import import_text
from bot.features.lms.summary import ImportResult
from bot.people import person_by_email
from storage.models import OutboxMessage
from storage.nudges import Assignment


async def assign(app: Learnbot, *rows: str) -> ImportResult:
    """``assign(app, "ana@example.org,ethics,2026-12-08")``."""
    return await import_text(app, "email,course,due\n" + "\n".join(rows) + "\n", "assignments")


async def nudge_keys(app: Learnbot) -> list[str]:
    async with app.sessions() as session:
        keys = await session.scalars(
            select(OutboxMessage.idempotency_key)
            .where(OutboxMessage.idempotency_key.like("nudge:%"))
            .order_by(OutboxMessage.id)
        )
        return list(keys)


async def assignments(app: Learnbot) -> list[Assignment]:
    async with app.sessions() as session:
        return list(await session.scalars(select(Assignment).order_by(Assignment.id)))


async def place(
    app: Learnbot, email: str, *, office_id: str | None = None, timezone: str | None = None
) -> None:
    """Move a person to an office and/or time zone (as a profile or HR import would)."""
    async with app.sessions() as session, session.begin():
        person = await person_by_email(session, email)
        assert person is not None, email
        if office_id is not None:
            person.office_id = office_id
        person.timezone = timezone
