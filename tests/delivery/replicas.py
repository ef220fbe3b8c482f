"""Replicas of the delivery worker as real processes (``learnbot deliver``) sharing one
database, a fake Slack with faults on loopback, and the checks the fault suite and the
benchmark make: exactly one DM per person and message, nothing failed that arrived."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import SystemClock
from bot.config import parse_config
from bot.core import Learnbot
from bot.messages import plain
from bot.outbox import ToPerson
from storage.models import OutboxMessage, Person, PlatformAccount
from tests.slack.fake import TEAM, FakeSlack

ROOT = Path(__file__).resolve().parents[2]
UNSETTLED = ("pending", "claimed", "sending")


def write_config(
    config_data: dict[str, Any], path: Path, *, outbox: dict[str, Any], slack: dict[str, Any]
) -> Path:
    data = dict(config_data)
    data["outbox"] = {**data.get("outbox", {}), **outbox}
    data["slack"] = {**data.get("slack", {}), **slack}
    parse_config(data)  # fail here, not in the replicas, if an override is wrong
    path.write_text(yaml.safe_dump(data))
    return path


async def seed_people(sessions: async_sessionmaker[AsyncSession], fake: FakeSlack, count: int) -> list[int]:
    """``count`` people, each with a linked Slack account in the fake workspace."""
    now = SystemClock().now()
    ids: list[int] = []
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
            ids.append(person.id)
    return ids


async def plan(app: Learnbot, person_ids: list[int], prefix: str) -> list[str]:
    keys = []
    async with app.sessions() as session, session.begin():
        for person_id in person_ids:
            key = f"{prefix}:{person_id}"
            await app.plan(session, destination=ToPerson(person_id), message=plain(f"Hello {key}"), key=key)
            keys.append(key)
    return keys


class Replica:
    """``learnbot deliver`` in its own process."""

    def __init__(self, name: str, env: dict[str, str]) -> None:
        self.name = name
        self.env = env
        self.process: asyncio.subprocess.Process | None = None
        self.log = Path(env["REPLICA_LOG_DIR"]) / f"{name}.log"

    async def start(self) -> Replica:
        with self.log.open("wb") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-c",
                "import sys; from learnbot.cli import main; sys.exit(main())",
                "deliver",
                "--name",
                self.name,
                env=self.env,
                cwd=str(ROOT),
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
            )
        return self

    def signal(self, number: int) -> None:
        assert self.process is not None
        self.process.send_signal(number)

    def kill(self) -> None:
        self.signal(signal.SIGKILL)

    async def wait(self, within: float) -> int:
        assert self.process is not None
        return await asyncio.wait_for(self.process.wait(), within)

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            await self.process.wait()


def replica_env(
    database_url: str, config: Path, fake: FakeSlack, log_dir: Path, redis_url: str | None = None
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MICROSOFT_", "REDIS_URL"))}
    env.update(
        DATABASE_URL=database_url,
        LEARNBOT_CONFIG=str(config),
        SLACK_BOT_TOKEN="xoxb-replica",
        SLACK_SIGNING_SECRET="replica-secret",
        SLACK_API_URL=fake.api_url,
        REPLICA_LOG_DIR=str(log_dir),
        PYTHONPATH=str(ROOT),
    )
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env


async def statuses(sessions: async_sessionmaker[AsyncSession]) -> Counter[str]:
    async with sessions() as session:
        rows = await session.execute(
            select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
        )
        return Counter(dict(rows.all()))  # type: ignore[arg-type]


async def wait_settled(sessions: async_sessionmaker[AsyncSession], within: float) -> Counter[str]:
    deadline = time.monotonic() + within
    while True:
        counts = await statuses(sessions)
        if not any(counts.get(s) for s in UNSETTLED) or time.monotonic() > deadline:
            return counts
        await asyncio.sleep(0.25)


async def wait_sent(sessions: async_sessionmaker[AsyncSession], at_least: int, within: float) -> None:
    deadline = time.monotonic() + within
    while (await statuses(sessions)).get("sent", 0) < at_least:
        if time.monotonic() > deadline:
            raise AssertionError(f"fewer than {at_least} sent within {within} s")
        await asyncio.sleep(0.1)


def arrivals(fake: FakeSlack) -> Counter[str]:
    """How many times each outbox key was posted (by the metadata Slack stores with it)."""
    found: Counter[str] = Counter()
    for messages in fake.history.values():
        for message in messages:
            key = ((message.get("metadata") or {}).get("event_payload") or {}).get("key")
            if key:
                found[key] += 1
    return found


def posts_inside_pauses(fake: FakeSlack, after: float = 0.05, margin: float = 0.02) -> tuple[int, int]:
    """(posts that arrived inside another 429's Retry-After window, posts in total during the
    storm's windows): replicas that honour one another's pauses keep the first near zero."""
    storm = fake.storm
    if storm is None:
        return 0, 0
    posts = [call.at for call in fake.called("chat.postMessage")]
    rejected = storm.rejected_at
    windows = [(t + after, t + storm.retry_after - margin) for t in rejected]
    inside = sum(1 for at in posts + rejected if any(lo < at < hi for lo, hi in windows))
    return inside, len(rejected)
