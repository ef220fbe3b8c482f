"""How long the nudge sweep takes to decide who is due: 100k people x 10 courses (1M
assignments) on SQLite.

Two situations are measured:

* steady state: the sweep ran yesterday, so only assignments whose next stage starts today
  (or that are waiting for working hours or the daily cap) are candidates;
* first sweep after a big import: every open assignment is a candidate at once.

Usage: ``.venv/bin/python bench/nudge_sweep.py [--people 100000] [--db /tmp/nudge-bench.db]``
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import sqlite3
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.config import AppConfig, parse_config
from bot.features.nudges.stages import current_stage, first_stage_on, next_stage_on
from bot.features.nudges.sweep import decide
from storage.db import create_engine, session_factory
from storage.migrate import upgrade

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)  # a Tuesday: 13:00 Nairobi, 05:00 Bogotá, 11:00 Paris
COURSES = 10


def config() -> AppConfig:
    return parse_config(
        {
            "offices": [
                {"id": "nairobi", "name": "Nairobi", "timezone": "Africa/Nairobi"},
                {"id": "bogota", "name": "Bogotá", "timezone": "America/Bogota"},
                {"id": "paris", "name": "Paris", "timezone": "Europe/Paris"},
            ],
            "courses": [{"id": f"c{n}", "title": f"Course {n}"} for n in range(COURSES)],
        }
    )


def populate(path: Path, people: int, app_config: AppConfig, first_sweep: bool) -> None:
    rng = random.Random(7)
    policy = app_config.nudges
    today = NOW.date()
    yesterday = today - timedelta(days=1)
    stamp = NOW.replace(tzinfo=None).isoformat(sep=" ")
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")
    offices = ["nairobi", "bogota", "paris"]
    db.executemany(
        "INSERT INTO people (id, email, display_name, office_id, created_at, updated_at) "
        "VALUES (?,?,?,?,?,?)",
        ((i, f"p{i}@example.org", f"Person {i}", offices[i % 3], stamp, stamp) for i in range(1, people + 1)),
    )

    memo: dict[date, tuple[str | None, str | None, str | None]] = {}

    def plan(due: date) -> tuple[str | None, str | None, str | None]:
        if due not in memo:
            stage = current_stage(due, policy, None, yesterday)
            following = next_stage_on(due, policy, None, yesterday)
            first = first_stage_on(due, policy)
            memo[due] = (
                stage.name if stage else None,
                following.isoformat() if following else None,
                first.isoformat() if first else None,
            )
        return memo[due]

    def rows():  # type: ignore[no-untyped-def]
        for person in range(1, people + 1):
            for course in range(COURSES):
                due = today + timedelta(days=rng.randint(-200, 400))
                completed = (
                    due - timedelta(days=rng.randint(0, 60))
                    if rng.random() < 0.6 and due < today + timedelta(days=90)
                    else None
                )
                if completed is not None and completed > today:
                    completed = today - timedelta(days=1)
                last, following, first = plan(due)
                if completed is not None:
                    last, following = None, None
                elif first_sweep:
                    last, following = None, first
                yield (
                    person,
                    f"c{course}",
                    due.isoformat(),
                    completed.isoformat() if completed else None,
                    "lms" if completed else None,
                    following,
                    last,
                    stamp,
                    stamp,
                )

    db.executemany(
        "INSERT INTO course_assignments (person_id, course_id, due_on, completed_on, completion_source, "
        "next_nudge_on, last_stage, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?)",
        rows(),
    )
    # Yesterday's and today's proactive messages, for the daily cap.
    db.executemany(
        "INSERT INTO outbox (idempotency_key, platform, destination_kind, destination_key, person_id, "
        "payload, "
        "status, attempts, created_at, next_attempt_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
        (
            (
                f"picks:{i}",
                "slack",
                "person",
                str(i),
                i,
                "{}",
                "sent",
                1,
                (NOW - timedelta(hours=rng.choice([2, 30]))).replace(tzinfo=None).isoformat(sep=" "),
                stamp,
            )
            for i in range(1, people + 1, 2)
        ),
    )
    db.commit()
    db.execute("ANALYZE")
    db.close()


async def measure(
    path: Path, app_config: AppConfig, rounds: int
) -> tuple[list[tuple[float, float]], int, int, int]:
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    sessions = session_factory(engine)
    times = []
    try:
        for _ in range(rounds):
            async with sessions() as session:
                started, cpu = time.perf_counter(), time.process_time()
                decision = await decide(session, app_config, NOW)
                times.append((time.perf_counter() - started, time.process_time() - cpu))
    finally:
        await engine.dispose()
    return times, decision.candidates, len(decision.due), decision.capped


async def prepare(path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    await upgrade(engine)
    await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--db", default="/tmp/nudge-bench.db")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    app_config = config()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}"
    )
    for label, first_sweep in (("steady state", False), ("first sweep after import", True)):
        path = Path(args.db)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        asyncio.run(prepare(path))
        started = time.perf_counter()
        populate(path, args.people, app_config, first_sweep)
        built = time.perf_counter() - started
        times, candidates, due, capped = asyncio.run(measure(path, app_config, args.rounds))
        print(
            f"{label}: {args.people:,} people x {COURSES} = {args.people * COURSES:,} assignments "
            f"(built in {built:.0f} s); decide(): wall best {min(t[0] for t in times):.3f} s, "
            f"worst {max(t[0] for t in times):.3f} s, CPU best {min(t[1] for t in times):.3f} s "
            f"over {args.rounds} runs; {candidates:,} candidates in working hours -> {due:,} due now, "
            f"{capped:,} held by the daily cap"
        )


if __name__ == "__main__":
    main()
