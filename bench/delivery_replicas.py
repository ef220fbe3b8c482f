"""Benchmark: replicas of the delivery worker on PostgreSQL fan out DMs to a fake Slack that
enforces a workspace cap and answers some posts with a fault *after* posting.

Three ``learnbot deliver`` processes share one PostgreSQL database and pace themselves together
(the ``rate_buckets`` rows, or Redis with ``--redis``). The fake answers ``chat.postMessage``
beyond ``--cap`` per 60 s with 429 and ``Retry-After``, and ``--faults`` of the posts it
accepts with HTTP 500 or no answer at all (the message is posted either way). Reported: the
achieved rate against the cap (target >= 0.9), calls over the cap (429s from the cap; target 0),
duplicates and lost messages (by the metadata key on every post; target 0), the outbox's final
states. The same run with the old worker (``main`` before issue 15, from ``git archive``) is the
baseline, side by side.

    .venv/bin/python bench/delivery_replicas.py                      # 3,000 DMs, ~5 min + baseline
    .venv/bin/python bench/delivery_replicas.py --messages 600 --baseline-messages 300  # quick
    .venv/bin/python bench/delivery_replicas.py --no-baseline --redis redis://127.0.0.1:6379/0

Needs PostgreSQL (``DATABASE_URL``, default postgresql://postgres@127.0.0.1:5432/test); each
run uses private databases, dropped afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import yaml

from bot.clock import SystemClock
from bot.config import parse_config
from bot.core import Learnbot
from bot.features import FEATURES
from bot.messages import plain
from storage.db import create_engine, session_factory
from storage.migrate import upgrade
from tests.delivery.replicas import arrivals, plan, seed_people, statuses
from tests.slack.fake import FakeSlack
from tests.support import databases

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"
REPLICAS = 3
OLD_RUNNER = """
import asyncio, os, sys
from adapters.slack.plugin import build
from bot.clock import SystemClock
from bot.config import load_config
from bot.core import Learnbot
from bot.messages import plain
from learnbot.settings import Settings
from scheduler.delivery import DeliveryWorker, WorkerSettings
from storage.db import create_engine, session_factory

async def main():
    settings = Settings.from_env()
    engine = create_engine(settings.database_url)
    sessions = session_factory(engine)
    app = Learnbot(load_config(settings.config_path), sessions, clock=SystemClock(), platforms=("slack",))
    parts = build(app, settings)
    deliverers = {"slack": parts.deliverer}
    worker = DeliveryWorker(sessions, deliverers, SystemClock(), WorkerSettings(), name=sys.argv[1])
    await worker.run_forever(None, 0.2)

asyncio.run(main())
"""


@dataclass
class Result:
    label: str
    messages: int
    wall: float
    span: float
    accepted: int
    over_cap: int
    faults: int
    duplicates: int
    lost: int
    outbox: dict[str, int]
    cpu: float

    @property
    def rate(self) -> float:
        return (self.accepted - 1) / self.span * 60 if self.span > 0 else 0.0


def write_config(path: Path, pace: int, send_timeout: float | None) -> Path:
    """``send_timeout`` None: the old worker's app.yaml (it knows no such key)."""
    data = yaml.safe_load((ROOT / "tests" / "fixtures" / "app.yaml").read_text())
    data["slack"] = {**data.get("slack", {}), "workspace_per_minute": pace}
    data["outbox"] = {**data.get("outbox", {}), "poll_seconds": 0.2}
    if send_timeout is not None:  # (the old worker's pool stays at its default of 5 + 10)
        data["outbox"].update(send_timeout_seconds=send_timeout, concurrency=8)
    parse_config(data)
    path.write_text(yaml.safe_dump(data))
    return path


BEFORE_ISSUE_15 = "13acd55"
"""The commit this branch started from: the old worker, for the baseline."""


def old_code(tmp: Path) -> Path:
    """The worker as it was before issue 15, from ``git archive``, for the baseline."""
    base = BEFORE_ISSUE_15
    target = tmp / "old"
    target.mkdir()
    archive = subprocess.run(["git", "archive", base], cwd=ROOT, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    (target / "old_runner.py").write_text(OLD_RUNNER)
    return target


async def run(
    label: str,
    url: str,
    count: int,
    cap: int,
    pace: int,
    fault_rate: float,
    code: Path | None,
    redis_url: str | None,
) -> Result:
    fake = await FakeSlack().start()
    fake.limit("chat.postMessage", cap, 60.0, retry_after=1)
    private = await databases.create_private_postgres(url) if code is None else await blank_postgres(url)
    engine = create_engine(private)
    processes: list[asyncio.subprocess.Process] = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        try:
            if code is None:
                await upgrade(engine)
            else:  # the old code migrates its own schema
                migrate = (
                    "import asyncio; from storage.db import create_engine; "
                    "from storage.migrate import upgrade; "
                    f"asyncio.run(upgrade(create_engine({private!r})))"
                )
                done = await asyncio.create_subprocess_exec(
                    sys.executable, "-c", migrate, cwd=code, env={**os.environ, "PYTHONPATH": str(code)}
                )
                assert await done.wait() == 0, "the old code could not migrate its database"
            sessions = session_factory(engine)
            config_path = write_config(tmp / "app.yaml", pace, send_timeout=None if code else 5)
            app = Learnbot(
                parse_config(yaml.safe_load(config_path.read_text())),
                sessions,
                clock=SystemClock(),
                platforms=("slack",),
                features=FEATURES,
            )
            people = await seed_people(sessions, fake, count)
            keys = await plan_compatible(app, people, code is not None)
            # A hang longer than either worker's client timeout (new: 5 s; old: slack_sdk's 30 s).
            faults = fake.inject_faults("chat.postMessage", fault_rate, hang=31.0)
            env = {
                k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MICROSOFT_", "REDIS_URL"))
            }
            env.update(
                DATABASE_URL=private,
                LEARNBOT_CONFIG=str(config_path),
                SLACK_BOT_TOKEN="xoxb-bench",
                SLACK_SIGNING_SECRET="bench",
                SLACK_API_URL=fake.api_url,
                PYTHONPATH=str(code or ROOT),
            )
            if redis_url and code is None:
                env["REDIS_URL"] = redis_url
            started = time.perf_counter()
            for index in range(REPLICAS):
                argv = (
                    [sys.executable, "old_runner.py", f"old{index}"]
                    if code is not None
                    else [
                        sys.executable,
                        "-c",
                        "import sys; from learnbot.cli import main; sys.exit(main())",
                        "deliver",
                        "--name",
                        f"r{index}",
                    ]
                )
                log = (tmp / f"replica{index}.log").open("wb")
                processes.append(
                    await asyncio.create_subprocess_exec(
                        *argv, cwd=str(code or ROOT), env=env, stdout=log, stderr=subprocess.STDOUT
                    )
                )
            limit = started + count / cap * 60 * 3 + 90
            while time.perf_counter() < limit:
                counts = await statuses(sessions)
                if not any(counts.get(s) for s in ("pending", "claimed", "sending")):
                    break
                await asyncio.sleep(0.5)
            wall = time.perf_counter() - started
            counts = await statuses(sessions)
            if not fake.accepted_at("chat.postMessage"):
                for index in range(REPLICAS):
                    print(f"--- {label}: replica {index} delivered nothing; its log ends:", file=sys.stderr)
                    print((tmp / f"replica{index}.log").read_text()[-1500:], file=sys.stderr)
        finally:
            cpu = [_cpu_seconds(process.pid) for process in processes]
            for process in processes:
                if process.returncode is None:
                    process.kill()
                    await process.wait()
            await engine.dispose()
            await databases.drop_private_postgres(url, private)
    stamps = fake.accepted_at("chat.postMessage")
    found = arrivals(fake)
    await fake.stop()
    return Result(
        label=label,
        messages=count,
        wall=wall,
        span=stamps[-1] - stamps[0] if len(stamps) > 1 else wall,
        accepted=len(stamps),
        over_cap=fake.rejected,
        faults=faults.errors + faults.hangs,
        duplicates=sum(n - 1 for n in found.values() if n > 1),
        lost=sum(1 for key in keys if key not in found),
        outbox=dict(counts),
        cpu=sum(cpu),
    )


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a running process (Linux), 0 if unknown."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


async def blank_postgres(url: str) -> str:
    """An empty private database (the old code migrates it to its own schema)."""
    import secrets

    import asyncpg
    from sqlalchemy.engine import make_url

    name = f"learnbot_bench_{os.getpid()}_{secrets.token_hex(3)}"
    connection = await asyncpg.connect(make_url(url).set(drivername="postgresql").render_as_string(False))
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return make_url(url).set(database=name).render_as_string(hide_password=False)


async def plan_compatible(app: Learnbot, people: list[int], old_schema: bool) -> list[str]:
    """Plan the DMs; for the old schema, insert rows without the new columns."""
    if not old_schema:
        return await plan(app, people, "bench")
    from sqlalchemy import text

    now = SystemClock().now()
    keys = []
    async with app.sessions() as session, session.begin():
        for person_id in people:
            key = f"bench:{person_id}"
            keys.append(key)
            await session.execute(
                text(
                    "INSERT INTO outbox (idempotency_key, platform, destination_kind, destination_key,"
                    " person_id, payload, status, attempts, created_at, next_attempt_at) VALUES (:k,"
                    " 'slack', 'person', :d, :p, CAST(:payload AS JSONB), 'pending', 0, :now, :now)"
                ),
                {
                    "k": key,
                    "d": str(person_id),
                    "p": person_id,
                    "payload": json.dumps(plain(f"Hello {key}").to_json()),
                    "now": now,
                },
            )
    return keys


def report(results: list[Result], cap: int, pace: int, fault_rate: float) -> None:
    print(
        f"{REPLICAS} replicas on PostgreSQL, fake Slack cap {cap}/min (429 beyond it), "
        f"{fault_rate:.0%} of accepted posts answered 500 or not at all after posting; "
        f"new worker paced at {pace}/min"
    )
    header = f"{'':34}" + "".join(f"{r.label:>26}" for r in results)
    print(header)
    rows = [
        ("messages", lambda r: f"{r.messages}"),
        ("wall time (s)", lambda r: f"{r.wall:.1f}"),
        ("first to last accepted post (s)", lambda r: f"{r.span:.1f}"),
        ("posts accepted by the fake", lambda r: f"{r.accepted}"),
        ("achieved rate (/min)", lambda r: f"{r.rate:.1f}"),
        ("achieved / allowed (>= 0.9)", lambda r: f"{r.rate / cap:.3f}"),
        ("calls over the cap (429s)", lambda r: f"{r.over_cap}"),
        ("faults injected", lambda r: f"{r.faults}"),
        ("duplicates", lambda r: f"{r.duplicates}"),
        ("lost", lambda r: f"{r.lost}"),
        ("replicas' CPU time (s)", lambda r: f"{r.cpu:.1f}"),
        ("outbox", lambda r: ", ".join(f"{k} {v}" for k, v in sorted(r.outbox.items()))),
    ]
    for name, show in rows:
        print(f"{name:34}" + "".join(f"{show(r):>26}" for r in results))


async def main(options: argparse.Namespace) -> None:
    url = os.environ.get("DATABASE_URL") or DEFAULT_URL
    results = [
        await run(
            "issue 15 worker",
            url,
            options.messages,
            options.cap,
            options.pace,
            options.faults,
            None,
            options.redis,
        )
    ]
    if options.baseline_messages:
        with tempfile.TemporaryDirectory() as tmp:
            code = old_code(Path(tmp))
            results.append(
                await run(
                    "old worker (baseline)",
                    url,
                    options.baseline_messages,
                    options.cap,
                    options.cap,
                    options.faults,
                    code,
                    None,
                )
            )
    report(results, options.cap, options.pace, options.faults)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--cap", type=int, default=600, help="the fake's workspace cap per minute")
    parser.add_argument("--pace", type=int, default=580, help="slack.workspace_per_minute for the new worker")
    parser.add_argument("--faults", type=float, default=0.03)
    parser.add_argument("--baseline-messages", type=int, default=1000, help="0: no baseline run")
    parser.add_argument("--no-baseline", dest="baseline_messages", action="store_const", const=0)
    parser.add_argument("--redis", help="share pacing through this Redis instead of PostgreSQL")
    parser.add_argument("--replicas", type=int, default=REPLICAS)
    logging.basicConfig(level=logging.ERROR)
    parsed = parser.parse_args()
    REPLICAS = parsed.replicas
    asyncio.run(main(parsed))
