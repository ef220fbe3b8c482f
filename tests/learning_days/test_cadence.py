"""The announcement cadence with an injected clock: offsets, recurrence in two time zones,
reschedules and cancellations, on whichever database the test run uses."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import ManualClock
from bot.config import parse_config
from bot.core import Learnbot
from bot.features import FEATURES
from tests.learning_days.conftest import make_day, outbox_keys

JOB = "learning_day_announcements"


async def test_each_offset_is_announced_once_at_its_time(
    app: Learnbot, sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    day_id = await make_day(sessions, date(2026, 12, 10), now=clock.now())  # Thursday, Nairobi (UTC+3)
    await app.run_job(JOB)
    assert await outbox_keys(sessions) == []

    clock.set(datetime(2026, 12, 3, 5, 59, tzinfo=UTC))  # 08:59 in Nairobi, a week before
    await app.run_job(JOB)
    assert await outbox_keys(sessions) == []

    clock.set(datetime(2026, 12, 3, 6, 0, tzinfo=UTC))  # 09:00 in Nairobi
    assert "1 announcement(s) planned" in await app.run_job(JOB)
    assert "0 announcement(s) planned" in await app.run_job(JOB)  # a second run (or replica) adds nothing

    clock.set(datetime(2026, 12, 9, 6, 15, tzinfo=UTC))
    await app.run_job(JOB)
    clock.set(datetime(2026, 12, 10, 6, 0, tzinfo=UTC))
    await app.run_job(JOB)
    clock.set(datetime(2026, 12, 10, 14, 1, tzinfo=UTC))  # after 17:00 in Nairobi: over
    await app.run_job(JOB)
    assert await outbox_keys(sessions) == [
        f"learning-day:{day_id}:7d:1:learning",
        f"learning-day:{day_id}:1d:1:learning",
        f"learning-day:{day_id}:0d:1:learning",
    ]


async def test_a_day_scheduled_late_gets_one_announcement_not_a_burst(
    app: Learnbot, sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    day_id = await make_day(sessions, date(2026, 12, 3), now=clock.now())  # in two days
    await app.run_job(JOB)  # "7 days before" is past: announced now, once
    assert await outbox_keys(sessions) == [f"learning-day:{day_id}:7d:1:learning"]
    clock.set(datetime(2026, 12, 1, 9, 15, tzinfo=UTC))
    await app.run_job(JOB)
    assert len(await outbox_keys(sessions)) == 1
    clock.set(datetime(2026, 12, 2, 6, 0, tzinfo=UTC))
    await app.run_job(JOB)
    assert (await outbox_keys(sessions))[1:] == [f"learning-day:{day_id}:1d:1:learning"]


async def test_hours_before_counts_from_the_start_time(
    config_data: dict[str, Any], sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    config_data["learning_days"]["announce"] = ["2 hours before"]
    app = Learnbot(parse_config(config_data), sessions, clock=clock, features=FEATURES)
    day_id = await make_day(sessions, date(2026, 12, 2), now=clock.now())  # 09:00 Nairobi = 06:00 UTC
    clock.set(datetime(2026, 12, 2, 3, 59, tzinfo=UTC))
    await app.run_job(JOB)
    assert await outbox_keys(sessions) == []
    clock.set(datetime(2026, 12, 2, 4, 0, tzinfo=UTC))
    await app.run_job(JOB)
    assert await outbox_keys(sessions) == [f"learning-day:{day_id}:2h:1:learning"]


async def test_an_announcement_expires_when_its_day_ends(
    app: Learnbot, sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    """Delivery gives up on an announcement once the day it announces is over (17:00 in
    Nairobi), however long a platform outage or a 429 storm lasted."""
    from sqlalchemy import select

    from storage.models import OutboxMessage

    await make_day(sessions, date(2026, 12, 3), now=clock.now())
    await app.run_job(JOB)
    async with sessions() as session:
        row = await session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "learning-day-7d"))
    assert row is not None and row.expires_at == datetime(2026, 12, 3, 14, 0, tzinfo=UTC)
