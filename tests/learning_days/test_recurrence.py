"""Recurring learning days generated ahead in offices on both sides of UTC."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import ManualClock
from bot.core import Learnbot
from storage.learning_days import LearningDay
from tests.learning_days.conftest import outbox_keys

JOB = "learning_day_announcements"


@pytest.fixture
def config_data(config_data: dict[str, Any]) -> dict[str, Any]:
    config_data["learning_days"]["recurring"] = [
        {
            "id": "monthly",
            "office": "nairobi",
            "rule": "first Thursday of every month",
            "title": "Learning Thursday",
        },
        {
            "id": "fridays",
            "office": "bogota",
            "rule": "last Friday of every month",
            "title": "Viernes de aprendizaje",
        },
        {
            "id": "month-end",
            "office": "bogota",
            "rule": "31st of every month",
            "start": "08:00",
            "end": "12:00",
        },
    ]
    return config_data


async def _days(sessions: async_sessionmaker[AsyncSession], rule_id: str) -> list[date]:
    async with sessions() as session:
        found = await session.scalars(
            select(LearningDay.date).where(LearningDay.rule_id == rule_id).order_by(LearningDay.date)
        )
        return list(found)


async def test_recurrence_across_month_ends_and_time_zones(
    app: Learnbot, sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    # 23:30 on 31 December in Bogotá (UTC-5) is already 07:30 on 1 January in Nairobi (UTC+3).
    clock.set(datetime(2027, 1, 1, 4, 30, tzinfo=UTC))
    assert "9 recurring day(s) generated" in await app.run_job(JOB)
    assert await _days(sessions, "monthly") == [date(2027, 1, 7), date(2027, 2, 4), date(2027, 3, 4)]
    assert await _days(sessions, "fridays") == [date(2027, 1, 29), date(2027, 2, 26), date(2027, 3, 26)]
    # 31 December is still "today" in Bogotá but that day (08:00-12:00) is over; February has no 31st.
    assert await _days(sessions, "month-end") == [date(2027, 1, 31), date(2027, 3, 31), date(2027, 5, 31)]

    assert "0 recurring day(s) generated" in await app.run_job(JOB)  # idempotent

    clock.set(datetime(2027, 1, 8, 12, 0, tzinfo=UTC))  # the January Thursday is over: one more
    assert "1 recurring day(s) generated" in await app.run_job(JOB)
    assert (await _days(sessions, "monthly"))[-1] == date(2027, 4, 1)


async def test_morning_of_follows_each_office_time_zone(
    app: Learnbot, sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    clock.set(datetime(2027, 1, 1, 4, 30, tzinfo=UTC))
    await app.run_job(JOB)
    async with sessions() as session:
        ids = dict(
            (
                await session.execute(
                    select(LearningDay.rule_id, LearningDay.id).where(LearningDay.date == date(2027, 1, 29))
                )
            ).all()
        )
    friday = ids["fridays"]
    clock.set(datetime(2027, 1, 29, 13, 59, tzinfo=UTC))  # 08:59 in Bogotá
    await app.run_job(JOB)
    assert f"learning-day:{friday}:0d:1:aprendizaje" not in await outbox_keys(sessions)
    clock.set(datetime(2027, 1, 29, 14, 0, tzinfo=UTC))  # 09:00 in Bogotá
    await app.run_job(JOB)
    assert f"learning-day:{friday}:0d:1:aprendizaje" in await outbox_keys(sessions)


@pytest.mark.postgres
async def test_replicas_generating_at_once_create_each_occurrence_once(
    app: Learnbot, sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    clock.set(datetime(2027, 1, 1, 4, 30, tzinfo=UTC))
    summaries = await asyncio.gather(*(app.run_job(JOB) for _ in range(3)))
    generated = sum(int(summary.split(" ", 1)[0]) for summary in summaries)
    assert generated == 9
    assert len(await _days(sessions, "monthly")) == 3
    assert len(set(await outbox_keys(sessions))) == len(await outbox_keys(sessions))
