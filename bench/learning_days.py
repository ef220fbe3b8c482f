"""How long the learning-day announcement job takes on a busy deployment.

Two offices (Nairobi, Bogotá) with three channels each, 600 scheduled days over the next
six months, 6 agenda sessions and 40 RSVPs per day, two recurring rules. Measures the first
run (recurring days generated, every due announcement planned), an idle re-run (everything
already planned: the idempotent path every 15 minutes), and a simulated week of runs every
15 minutes. Uses a throwaway SQLite file, or DATABASE_URL when set.

    .venv/bin/python bench/learning_days.py
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

from sqlalchemy import func, select

from bot.clock import ManualClock
from bot.config import parse_config
from bot.core import Learnbot
from bot.features import FEATURES
from storage.db import create_engine, session_factory
from storage.learning_days import AgendaSession, LearningDay, Rsvp
from storage.migrate import upgrade
from storage.models import OutboxMessage, Person

DAYS = 600
SESSIONS_PER_DAY = 6
RSVPS_PER_DAY = 40
PEOPLE = 400
START = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
JOB = "learning_day_announcements"


def config() -> object:
    def channels(prefix: str) -> list[dict[str, str]]:
        return [{"key": f"{prefix}-{n}", "slack": f"C{prefix.upper()}{n}"} for n in range(3)]

    return parse_config(
        {
            "offices": [
                {
                    "id": "nairobi",
                    "name": "Nairobi",
                    "timezone": "Africa/Nairobi",
                    "channels": channels("nbo"),
                },
                {"id": "bogota", "name": "Bogotá", "timezone": "America/Bogota", "channels": channels("bog")},
            ],
            "learning_days": {
                "recurring": [
                    {"id": "monthly", "office": "nairobi", "rule": "first Thursday of every month"},
                    {"id": "fridays", "office": "bogota", "rule": "last Friday of every month"},
                ]
            },
        }
    )


async def seed(app: Learnbot) -> None:
    async with app.sessions() as session, session.begin():
        people = [
            Person(email=f"p{n}@example.org", display_name=f"P {n}", created_at=START, updated_at=START)
            for n in range(PEOPLE)
        ]
        session.add_all(people)
        await session.flush()
        for n in range(DAYS):
            office, zone = ("nairobi", "Africa/Nairobi") if n % 2 else ("bogota", "America/Bogota")
            day = LearningDay(
                office_id=office,
                timezone=zone,
                date=date(2026, 12, 2) + timedelta(days=n * 180 // DAYS),
                start_time=clock_time(9),
                end_time=clock_time(17),
                title=f"Learning day {n}",
                theme="Bench",
                place="Room 1",
                online_url="https://meet.example.org/x",
                status="scheduled",
                version=1,
                created_at=START,
            )
            session.add(day)
            await session.flush()
            session.add_all(
                AgendaSession(
                    day_id=day.id,
                    title=f"Session {k}",
                    presenter_person_id=people[k].id,
                    source="manager",
                    created_at=START,
                )
                for k in range(SESSIONS_PER_DAY)
            )
            session.add_all(
                Rsvp(
                    day_id=day.id,
                    person_id=people[(n + k) % PEOPLE].id,
                    answer=("going", "maybe", "no")[k % 3],
                    updated_at=START,
                )
                for k in range(RSVPS_PER_DAY)
            )


async def timed(app: Learnbot) -> tuple[float, str]:
    began = time.perf_counter()
    summary = await app.run_job(JOB)
    return time.perf_counter() - began, summary


async def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = os.environ.get("DATABASE_URL") or f"sqlite:///{Path(folder) / 'bench.db'}"
        engine = create_engine(url)
        await upgrade(engine)
        clock = ManualClock(START)
        app = Learnbot(
            config(), session_factory(engine), clock=clock, platforms=("slack",), features=FEATURES
        )  # type: ignore[arg-type]
        await seed(app)
        first, summary = await timed(app)
        print(f"first run:  {first * 1000:7.1f} ms  ({summary})")
        idle, summary = await timed(app)
        print(f"idle rerun: {idle * 1000:7.1f} ms  ({summary})")
        runs: list[float] = []
        for _ in range(7 * 24 * 4):  # a week, every 15 minutes
            clock.advance(timedelta(minutes=15))
            elapsed, _summary = await timed(app)
            runs.append(elapsed)
        async with app.sessions() as session:
            rows = await session.scalar(select(func.count()).select_from(OutboxMessage))
        runs.sort()
        print(
            f"a week of 15-minute runs ({len(runs)}): median {statistics.median(runs) * 1000:.1f} ms, "
            f"p95 {runs[int(len(runs) * 0.95)] * 1000:.1f} ms, max {runs[-1] * 1000:.1f} ms; "
            f"{rows} outbox rows in all"
        )
        await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
