"""Proactive Teams sends through the outbox and a fake Bot Connector that enforces Teams' limits.

The fake connector runs in its own process (it stands for Teams, so it must not share the bot's
event loop and CPU) and counts arrivals with sliding windows, answering 429 with Retry-After.

Three runs, each ending when every planned message arrived:

* fan-out: 25 people x 8 messages; the binding limit is the tenant's 50 a second.
* the same with the tenant cap lifted on both sides: what the machine can push at all.
* one channel: 60 posts to one conversation; the binding limit is 7 a second.

For each: achieved rate / allowed rate, two ways (the shortest schedule the limits allow, with
full bursts at the start of each window, divided by the time actually taken from first to last
arrival; and the steady rate, messages per second between first and last arrival, against
count/per), messages lost, duplicates, and 429s the connector had to give.
Run: ``.venv/bin/python bench/teams_proactive.py``.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from adapters.teams import refs  # noqa: E402
from adapters.teams.plugin import BotAuthConfig, build  # noqa: E402
from bot.clock import SystemClock  # noqa: E402
from bot.config import load_config  # noqa: E402
from bot.core import Learnbot  # noqa: E402
from bot.features import FEATURES  # noqa: E402
from bot.messages import plain  # noqa: E402
from bot.outbox import ToChannel, ToPerson  # noqa: E402
from scheduler.delivery import DeliveryWorker, WorkerSettings  # noqa: E402
from storage.db import create_engine, session_factory  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import OutboxMessage, Person, PlatformAccount  # noqa: E402
from tests.support.databases import create_private_postgres, drop_private_postgres  # noqa: E402

TENANT = "bench-tenant"


async def run(
    name: str,
    people: int,
    per_person: int,
    channel_posts: int,
    limit: tuple[int, float],
    enforce: bool = True,
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        server = os.environ.get("DATABASE_URL", "")
        url = await create_private_postgres(server) if server else f"sqlite+aiosqlite:///{folder}/bench.db"
        engine = create_engine(url)
        await upgrade(engine)
        sessions = session_factory(engine)
        clock = SystemClock()
        app = Learnbot(
            load_config(ROOT / "app.yaml"), sessions, clock=clock, platforms=("teams",), features=FEATURES
        )
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.teams.fake_connector",
            *(["--limits"] if enforce else []),
            "--no-validate",
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
        )
        assert process.stdout is not None
        connector_url = (await process.stdout.readline()).decode().strip()
        teams = build(app, BotAuthConfig(APP_TENANTID=TENANT), tenant_per_second=50 if enforce else 100_000)
        now = clock.now()
        planned = 0
        async with sessions() as session, session.begin():
            base = {"service_url": connector_url, "tenant_id": TENANT, "bot_id": "28:bench"}
            for index in range(people):
                person = Person(email=f"p{index}@example.org", created_at=now, updated_at=now)
                session.add(person)
                await session.flush()
                session.add(
                    PlatformAccount(
                        person_id=person.id,
                        platform="teams",
                        workspace_id=TENANT,
                        external_id=f"aad-{index}",
                        created_at=now,
                        last_seen_at=now,
                    )
                )
                ref = refs.StoredRef(**base, conversation_id=f"a:p{index}", user_id=f"29:p{index}")
                await refs.save(session, refs.PERSON, str(person.id), ref, now)
                for number in range(per_person):
                    text = f"message {number} for person {index}"
                    await app.plan(session, destination=ToPerson(person.id), message=plain(text), key=text)
                    planned += 1
            channel = refs.StoredRef(
                **base, conversation_id="19:learning@thread.tacv2", conversation_type="channel"
            )
            await refs.save(session, refs.CHANNEL, "learning", channel, now)
            for number in range(channel_posts):
                text = f"post {number}"
                await app.plan(session, destination=ToChannel("learning"), message=plain(text), key=text)
                planned += 1

        worker = DeliveryWorker(
            sessions,
            {"teams": teams.deliverer},
            clock,
            WorkerSettings(concurrency=64),
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if not await worker.run_once():
                async with sessions() as session:
                    left = await session.scalar(
                        select(func.count()).where(OutboxMessage.status.in_(["pending", "sending"]))
                    )
                if not left:
                    break
                await asyncio.sleep(0.02)
        async with sessions() as session:
            result = await session.execute(
                select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
            )
            statuses = {status: count for status, count in result.all()}
        async with aiohttp.ClientSession() as http, http.get(f"{connector_url}_stats") as response:
            stats = await response.json()
        process.terminate()
        await process.wait()
        await teams.sender.close()
        await engine.dispose()
        if server:
            await drop_private_postgres(server, url)

    texts = Counter(stats["summaries"])
    arrivals = stats["arrivals"]
    received = len(stats["summaries"])
    duplicates = sum(count - 1 for count in texts.values() if count > 1)
    lost = planned - len(texts)
    count, per = limit
    ideal = (math.ceil(planned / count) - 1) * per
    actual = arrivals[-1] - arrivals[0] if len(arrivals) > 1 else 0.0
    ratio = ideal / actual if actual else 0.0
    steady = (received - 1) / actual if actual else 0.0
    print(
        f"{name}: {planned} planned, {received} received, lost {lost}, duplicates {duplicates}, "
        f"429s {stats['throttled']}, outbox {statuses}\n"
        f"  allowed {count}/{per:g}s: shortest schedule {ideal:.2f}s, took {actual:.2f}s -> "
        f"achieved/allowed rate {ratio:.2f}\n"
        f"  steady rate {steady:.1f} messages/s of {count / per:g} allowed -> {steady / (count / per):.2f}"
    )


async def main() -> None:
    logging.basicConfig(level=logging.ERROR)
    await run("fan-out (25 people x 8)", people=25, per_person=8, channel_posts=0, limit=(50, 1.0))
    # The same with the tenant cap lifted on both sides: what this machine can push at all.
    await run(
        "fan-out, no limits enforced (throughput ceiling)",
        people=25,
        per_person=8,
        channel_posts=0,
        limit=(50, 1.0),
        enforce=False,
    )
    if "--fan-out-only" not in sys.argv:
        await run("one channel (60 posts)", people=0, per_person=0, channel_posts=60, limit=(7, 1.0))


if __name__ == "__main__":
    asyncio.run(main())
