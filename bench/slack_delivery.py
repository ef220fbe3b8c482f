"""Benchmark: 2,000 DMs through the outbox to a fake Slack that enforces a workspace cap.

The fake answers ``chat.postMessage`` beyond ``--per-minute`` in any 60-second window with
HTTP 429 and ``Retry-After`` (as Slack does); the Slack deliverer paces itself to the same cap
(``slack.workspace_per_minute``). Reports achieved rate / allowed rate (target >= 0.9), and
checks zero lost and zero duplicates by the ``metadata`` key on every post the fake accepted.

    .venv/bin/python bench/slack_delivery.py                  # the real cap: 300/min, ~7 min
    .venv/bin/python bench/slack_delivery.py --per-minute 1200  # 4x faster, same shape
    .venv/bin/python bench/slack_delivery.py --messages 900 --per-minute 600 --pace 900  # 429s

Runs on SQLite in a temporary directory, with the real clock.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select

from adapters.slack.plugin import build
from bot.clock import SystemClock
from bot.config import SlackPolicy, load_config
from bot.core import Learnbot
from bot.features import FEATURES
from bot.messages import plain
from bot.outbox import ToPerson
from learnbot.settings import Settings
from scheduler.delivery import DeliveryWorker, WorkerSettings
from storage.db import create_engine, session_factory
from storage.migrate import upgrade
from storage.models import OutboxMessage, Person, PlatformAccount
from tests.slack.fake import TEAM, FakeSlack

ROOT = Path(__file__).resolve().parent.parent


async def main(count: int, per_minute: int, pace: int) -> None:
    fake = await FakeSlack().start()
    fake.limit("chat.postMessage", per_minute, 60.0, retry_after=1)
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine(f"sqlite:///{tmp}/bench.db")
        await upgrade(engine)
        sessions = session_factory(engine)
        config = load_config(str(ROOT / "tests" / "fixtures" / "app.yaml"))
        clock = SystemClock()
        app = Learnbot(config, sessions, clock=clock, platforms=("slack",), features=FEATURES)
        settings = Settings(
            slack_bot_token="xoxb-bench", slack_signing_secret="s", slack_api_url=fake.api_url
        )
        parts = build(
            app, settings, policy=SlackPolicy(per_channel_per_second=1.0, workspace_per_minute=pace)
        )

        now = clock.now()
        async with sessions() as session, session.begin():
            for i in range(count):
                user = fake.add_user(f"person{i}@example.org", f"Person {i}")
                person = Person(email=user.email, display_name=user.name, created_at=now, updated_at=now)
                session.add(person)
                await session.flush()
                session.add(
                    PlatformAccount(
                        person_id=person.id,
                        platform="slack",
                        workspace_id=TEAM,
                        external_id=user.id,
                        created_at=now,
                        last_seen_at=now,
                    )
                )
            ids = list(await session.scalars(select(Person.id)))
            for person_id in ids:
                await app.plan(
                    session,
                    destination=ToPerson(person_id),
                    message=plain(f"Hello {person_id}"),
                    key=f"bench:{person_id}",
                )

        worker = DeliveryWorker(sessions, {"slack": parts.deliverer}, clock, WorkerSettings(), name="bench")
        started = time.perf_counter()
        deadline = started + count / per_minute * 60 * 3 + 60
        while time.perf_counter() < deadline:
            async with sessions() as session:
                left = await session.scalar(
                    select(func.count())
                    .select_from(OutboxMessage)
                    .where(OutboxMessage.status.in_(("pending", "sending")))
                )
            if not left:
                break
            if not await worker.run_once():
                await asyncio.sleep(0.1)
        elapsed = time.perf_counter() - started

        posts = fake.called("chat.postMessage")
        keys = Counter(call.args["metadata"]["event_payload"]["key"] for call in posts)
        async with sessions() as session:
            statuses = dict(
                (
                    await session.execute(
                        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
                    )
                ).all()
            )
        stamps = fake.accepted_at("chat.postMessage")
        span = stamps[-1] - stamps[0] if len(stamps) > 1 else elapsed
        achieved = (len(stamps) - 1) / span * 60 if span else 0.0
        lost = count - len(keys)
        duplicates = sum(n - 1 for n in keys.values() if n > 1)
        print(
            f"messages: {count}, cap: {per_minute}/min (fake answers 429 beyond it), "
            f"Learnbot paced at {pace}/min"
        )
        print(f"wall time: {elapsed:.1f}s (first to last accepted post: {span:.1f}s)")
        print(f"accepted posts: {len(posts)}, 429s from the fake: {fake.rejected}")
        print(f"outbox: {statuses}")
        print(
            f"achieved rate: {achieved:.1f}/min; "
            f"achieved/allowed = {achieved / per_minute:.3f} (target >= 0.9)"
        )
        print(f"lost: {lost}, duplicates: {duplicates}")
        await engine.dispose()
    await fake.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--per-minute", type=int, default=300)
    parser.add_argument(
        "--pace", type=int, help="pace Learnbot at this rate instead of the cap (to provoke 429s)"
    )
    options = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    asyncio.run(main(options.messages, options.per_minute, options.pace or options.per_minute))
