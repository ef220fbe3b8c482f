"""How long ``learnbot import assignments`` takes for 100k rows (SQLite): a first import into
an empty database (people created too), then the same file again (idempotent: nothing changes).

Usage: ``.venv/bin/python bench/import_assignments.py [--rows 100000] [--db /tmp/import-bench.db]``
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

from bot.clock import ManualClock
from bot.config import AppConfig, parse_config
from bot.core import Learnbot
from bot.features import FEATURES
from bot.features.nudges.lms_import import import_text
from storage.db import create_engine, session_factory
from storage.migrate import upgrade

COURSES = 10


def config() -> AppConfig:
    return parse_config(
        {
            "offices": [{"id": "nairobi", "name": "Nairobi", "timezone": "Africa/Nairobi"}],
            "courses": [{"id": f"c{n}", "title": f"Course {n}"} for n in range(COURSES)],
        }
    )


def export(rows: int) -> str:
    rng = random.Random(11)
    start = date(2026, 6, 1)
    lines = ["email,course,due"]
    for number in range(rows):
        person, course = divmod(number, COURSES)
        due = start + timedelta(days=rng.randint(0, 365))
        lines.append(f"person{person}@example.org,c{course},{due.isoformat()}")
    return "\n".join(lines) + "\n"


async def run(path: Path, text: str) -> list[tuple[str, float, str]]:
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    await upgrade(engine)
    app = Learnbot(
        config(),
        session_factory(engine),
        clock=ManualClock(datetime(2026, 12, 1, 9, tzinfo=UTC)),
        features=FEATURES,
    )
    results = []
    try:
        for label in ("first import", "same file again"):
            started, cpu = time.perf_counter(), time.process_time()
            result = await import_text(app, text, "assignments")
            elapsed = time.perf_counter() - started
            counts = (
                f"CPU {time.process_time() - cpu:.1f} s; {result.created:,} created, "
                f"{result.updated:,} updated, {result.unchanged:,} unchanged"
            )
            results.append((label, elapsed, counts))
    finally:
        await engine.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--db", default="/tmp/import-bench.db")
    args = parser.parse_args()
    path = Path(args.db)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}"
    )
    text = export(args.rows)
    for label, elapsed, counts in asyncio.run(run(path, text)):
        print(
            f"{label}: {args.rows:,} rows ({args.rows // COURSES:,} people x {COURSES} courses) "
            f"in {elapsed:.1f} s: {counts}"
        )


if __name__ == "__main__":
    main()
