"""Learning-day tests: the shared fixture config plus recurring rules in both offices."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.learning_days import LearningDay
from storage.models import OutboxMessage


@pytest.fixture
def config_data(config_data: dict[str, Any]) -> dict[str, Any]:
    config_data["learning_days"] = {
        "announce": ["7 days before", "1 day before", "morning of"],
        "announce_at": "09:00",
        "start": "09:00",
        "end": "17:00",
        "generate_ahead": 3,
    }
    return config_data


async def make_day(
    sessions: async_sessionmaker[AsyncSession],
    on: date,
    *,
    office: str = "nairobi",
    timezone: str = "Africa/Nairobi",
    title: str = "Learning day",
    now: datetime,
) -> int:
    async with sessions() as session, session.begin():
        day = LearningDay(
            office_id=office,
            timezone=timezone,
            date=on,
            start_time=time(9, 0),
            end_time=time(17, 0),
            title=title,
            theme="",
            place="Room 4",
            online_url="",
            status="scheduled",
            version=1,
            created_at=now,
        )
        session.add(day)
        await session.flush()
        return day.id


async def outbox_keys(sessions: async_sessionmaker[AsyncSession], prefix: str = "learning-day:") -> list[str]:
    async with sessions() as session:
        keys = await session.scalars(
            select(OutboxMessage.idempotency_key)
            .where(OutboxMessage.idempotency_key.startswith(prefix))
            .order_by(OutboxMessage.id)
        )
        return list(keys)
