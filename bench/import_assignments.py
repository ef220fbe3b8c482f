"""LMS import benchmark: a Cornerstone-style transcript through the CLI, against the old importer.

* 100k rows (30% for courses that are not mandatory, 30k people) through ``learnbot import
  transcript`` on SQLite, wall time of the whole command (start-up included): goal < 5 s;
* the same file again (nothing changes);
* baseline: the previous importer (``bot/nudges/lms_import.py`` as of ``BASELINE_COMMIT``, loaded
  from git) on the mandatory rows only (it refused any other row), in-process;
* ``--million``: 1M rows through the CLI, peak memory (max RSS of the child): goal < 300 MB.

Usage: ``.venv/bin/python bench/import_assignments.py [--rows 100000] [--million]``
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
import types
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BASELINE_COMMIT = "13acd55"
TODAY = date(2026, 12, 1)
MANDATORY = [f"Mandatory course {n}" for n in range(10)]
OPTIONAL = [f"Elective {n}: skills, tools and more" for n in range(40)]
CONFIG = {
    "default_office": "nairobi",
    "offices": [{"id": "nairobi", "name": "Nairobi office", "timezone": "Africa/Nairobi"}],
    "courses": [
        {"id": f"c{n}", "title": title, "recurrence": "yearly" if n < 2 else "once"}
        for n, title in enumerate(MANDATORY)
    ],
    "lms_import": {"preset": "cornerstone", "date_order": "MDY"},
}
HEADER = [
    "User ID", "User Full Name", "User Email", "User OU", "Training Title", "Training Type",
    "Transcript Status", "Transcript Assigned Date", "Transcript Due Date", "Transcript Completed Date",
]  # fmt: skip


def us(day: date) -> str:
    return f"{day.month}/{day.day}/{day.year}"


def write_transcript(path: Path, rows: int, people: int) -> list[tuple[str, str, date]]:
    """Write the export; return the mandatory rows (email, course id, due) for the baseline."""
    rng = random.Random(14)
    start = date(2026, 1, 5)
    mandatory: list[tuple[str, str, date]] = []
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(HEADER)
        for number in range(rows):
            person = number % people
            email = f"person{person}@example.org"
            name = f"Surname{person}, Given{person}"
            slot = number // people
            if rng.random() < 0.3:
                title, status, due, done = OPTIONAL[(person + slot) % 40], "Completed", "", us(start)
            else:
                course = (person + slot) % 10
                title = MANDATORY[course]
                due_on = start + timedelta(days=rng.randint(0, 500))
                due = us(due_on)
                finished = rng.random() < 0.5
                status = "Completed" if finished else rng.choice(["In Progress", "Registered", "Past Due"])
                # A transcript's completions are in the past: 1% within the last 30 days (thanked).
                recent = rng.random() < 0.01
                completed_on = TODAY - timedelta(days=rng.randint(1, 29) if recent else rng.randint(31, 700))
                done = us(completed_on) if finished else ""
                mandatory.append((email, f"c{course}", due_on))
            writer.writerow(
                [person, name, email, "Nairobi office", title, "Online Class", status, us(start), due, done]
            )
    return mandatory


def run_cli(config: Path, export: Path, database: Path) -> tuple[float, float, int, dict[str, object]]:
    """Wall seconds, CPU seconds and peak RSS (KiB) of the command, and its JSON summary. On a
    shared machine the CPU time is the steadier figure: wall time grows with the load.

    The command runs under a small Python wrapper that reports its child's rusage: a child
    forked straight from this process would start with this process's (large) resident set
    and report that as its peak."""
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}"}
    command = [str(ROOT / ".venv/bin/learnbot"), "--config", str(config), "import", "transcript",
               str(export), "--json", "--quiet"]  # fmt: skip
    wrapper = (
        "import json, resource, subprocess, sys, time\n"
        "started = time.perf_counter()\n"
        "done = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "usage = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
        "print(json.dumps({'rc': done.returncode, 'wall': time.perf_counter() - started, "
        "'cpu': usage.ru_utime + usage.ru_stime, 'peak': usage.ru_maxrss, 'out': done.stdout, "
        "'err': done.stderr[-2000:]}))\n"
    )
    done = subprocess.run([sys.executable, "-c", wrapper, *command], env=env, capture_output=True, text=True)
    report = json.loads(done.stdout)
    if report["rc"] != 0:
        raise SystemExit(f"import failed:\n{report['err']}")
    return report["wall"], report["cpu"], report["peak"], json.loads(report["out"])


def load_baseline() -> types.ModuleType:
    source = subprocess.run(
        ["git", "show", f"{BASELINE_COMMIT}:bot/nudges/lms_import.py"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    # The old importer's imports, from before Issue 10 moved the nudges into a feature folder.
    from bot.features.nudges import outcomes, stages

    sys.modules.setdefault("bot.nudges", types.ModuleType("bot.nudges"))
    sys.modules.setdefault("bot.nudges.actions", outcomes)
    sys.modules.setdefault("bot.nudges.stages", stages)
    module = types.ModuleType("baseline_lms_import")
    module.__dict__["__name__"] = "baseline_lms_import"
    sys.modules["baseline_lms_import"] = module
    exec(compile(source, "baseline_lms_import.py", "exec"), module.__dict__)
    return module


async def run_baseline(database: Path, mandatory: list[tuple[str, str, date]]) -> tuple[float, float]:
    from bot.clock import ManualClock
    from bot.config import parse_config
    from bot.core import Learnbot
    from bot.features import FEATURES
    from storage.db import create_engine, session_factory
    from storage.migrate import upgrade

    baseline = load_baseline()
    config = parse_config(
        {
            **CONFIG,
            "lms_import": {"email": "email", "course": "course", "due": "due", "date_formats": ["%Y-%m-%d"]},
        }
    )
    text = "email,course,due\n" + "".join(f"{e},{c},{d.isoformat()}\n" for e, c, d in mandatory)
    engine = create_engine(f"sqlite+aiosqlite:///{database}")
    await upgrade(engine)
    clock = ManualClock(datetime(2026, 12, 1, 9, tzinfo=UTC))
    app = Learnbot(config, session_factory(engine), clock=clock, features=FEATURES)
    try:
        started, cpu = time.perf_counter(), time.process_time()
        await baseline.import_text(app, text, "assignments")
        return time.perf_counter() - started, time.process_time() - cpu
    finally:
        await engine.dispose()


def fresh(path: Path) -> Path:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--people", type=int, default=30_000)
    parser.add_argument("--million", action="store_true", help="also 1M rows (100k people): peak memory")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        config = work / "app.yaml"
        config.write_text(json.dumps(CONFIG))  # JSON is YAML
        export = work / "transcript.csv"
        mandatory = write_transcript(export, args.rows, args.people)
        size = export.stat().st_size / 1e6
        database = fresh(work / "bench.db")
        for label in ("new: CLI, empty database", "new: CLI, same file again"):
            elapsed, cpu, peak, summary = run_cli(config, export, database)
            print(f"{label}: {args.rows:,} rows ({size:.1f} MB, {args.people:,} people) in {elapsed:.2f} s "
                  f"(CPU {cpu:.2f} s), "
                  f"peak RSS {peak / 1024:.0f} MB; created {summary['created']:,}, completed "
                  f"{summary['completed']:,}, unchanged {summary['unchanged']:,}, skipped "
                  f"{summary['skipped_not_mandatory']:,}")  # fmt: skip
        seconds, cpu = asyncio.run(run_baseline(fresh(work / "baseline.db"), mandatory))
        print(f"baseline: old importer, in-process (no start-up), the {len(mandatory):,} mandatory rows "
              f"only (no completions), empty database: {seconds:.2f} s (CPU {cpu:.2f} s)")  # fmt: skip
        if args.million:
            export.unlink()
            write_transcript(export, 1_000_000, 100_000)
            elapsed, cpu, peak, summary = run_cli(config, export, fresh(work / "million.db"))
            print(f"new: CLI, 1,000,000 rows ({export.stat().st_size / 1e6:.0f} MB, 100,000 people): "
                  f"{elapsed:.1f} s (CPU {cpu:.1f} s), peak RSS {peak / 1024:.0f} MB (goal < 300 MB); "
                  f"created {summary['created']:,}")  # fmt: skip


if __name__ == "__main__":
    main()
