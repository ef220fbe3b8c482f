"""A kill -9 right after the ack loses nothing: ``learnbot serve`` runs in a subprocess (real
Bolt, real slack_sdk, against the fake Slack), is killed with SIGKILL just after answering 200
to a signed event in the middle of a skillshare offer conversation, and the restarted server
processes the person's answer from the inbox and the conversation carries on."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
import yaml
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import InboxItem, InboxStatus
from storage.skillshare import SkillOffer
from tests.slack.fake import TEAM, FakeSlack, FakeUser, sign

ROOT = Path(__file__).resolve().parents[2]
SECRET = "crash-test-secret"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Server:
    """``learnbot serve`` in its own process, on the test's database and fake Slack."""

    def __init__(self, database_url: str, config_path: Path, fake: FakeSlack, log: Path) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "LEARNBOT_CONFIG": str(config_path),
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "SLACK_BOT_TOKEN": "xoxb-crash",
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": fake.api_url,
        }
        self.process: asyncio.subprocess.Process | None = None

    async def start(self, http: aiohttp.ClientSession) -> None:
        with self.log.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "learnbot.cli", "serve", cwd=ROOT, env=self.env, stdout=log, stderr=log
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process.returncode is None, self.log.read_text()
            try:
                async with http.get(f"{self.url}/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
        raise AssertionError(f"the server did not start:\n{self.log.read_text()}")

    async def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), 20)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()


class Ana:
    def __init__(self, http: aiohttp.ClientSession, fake: FakeSlack, user: FakeUser) -> None:
        self.http, self.fake, self.user = http, fake, user
        self.channel = "D" + user.id[1:]
        self.seen = 0
        self.n = 0

    async def post(self, server: Server, body: str, content_type: str) -> int:
        headers = {**sign(SECRET, body), "Content-Type": content_type}
        async with self.http.post(
            f"{server.url}/slack/events", data=body.encode(), headers=headers
        ) as response:
            await response.read()
            return response.status

    async def command(self, server: Server, text: str) -> int:
        self.n += 1
        form = {
            "team_id": TEAM,
            "channel_id": self.channel,
            "channel_name": "directmessage",
            "user_id": self.user.id,
            "command": "/skillshare",
            "text": text,
            "response_url": self.fake.response_url(f"crash{self.n}"),
            "trigger_id": f"{self.n}.{time.time_ns()}.trigger",
        }
        return await self.post(server, urlencode(form), "application/x-www-form-urlencoded")

    async def dm(self, server: Server, text: str) -> int:
        self.n += 1
        ts = f"{time.time():.6f}"
        body = {
            "token": "legacy",
            "team_id": TEAM,
            "api_app_id": "A0LEARN",
            "type": "event_callback",
            "event_id": f"Ev{time.time_ns()}",
            "event_time": int(time.time()),
            "event": {
                "type": "message",
                "channel_type": "im",
                "channel": self.channel,
                "user": self.user.id,
                "text": text,
                "ts": ts,
                "event_ts": ts,
                "team": TEAM,
            },
        }
        return await self.post(server, json.dumps(body), "application/json")

    def said(self) -> list[str]:
        return [str(c.args.get("text", "")) for c in self.fake.called("chat.postMessage")]

    async def expect(self, fragment: str, within: float = 30.0) -> None:
        """The bot's next DM to Ana contains ``fragment``."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            said = self.said()
            if len(said) > self.seen:
                message = said[self.seen]
                self.seen += 1
                assert fragment in message, f"expected {fragment!r}, the bot said {message!r}"
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"no reply with {fragment!r} within {within}s; said so far: {self.said()}")


async def _wait_for(sessions: async_sessionmaker[AsyncSession], statuses: list[str]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        async with sessions() as session:
            found = list(await session.scalars(select(InboxItem.status).order_by(InboxItem.id)))
        if found == statuses:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"the inbox never reached {statuses}")


@asynccontextmanager
async def _running(server: Server, http: aiohttp.ClientSession) -> AsyncIterator[Server]:
    await server.start(http)
    try:
        yield server
    finally:
        await server.stop()


async def test_kill_9_right_after_the_ack_loses_no_answer(
    database_url: str, sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    config = yaml.safe_load((ROOT / "tests" / "fixtures" / "app.yaml").read_text())
    config["inbox"] = {"lease_seconds": 2, "poll_seconds": 0.2}
    config_path = tmp_path / "app.yaml"
    config_path.write_text(yaml.safe_dump(config))
    fake = await FakeSlack().start()
    user = fake.add_user("ana@example.org", "Ana")
    log = tmp_path / "server.log"
    try:
        async with aiohttp.ClientSession() as http:
            ana = Ana(http, fake, user)
            first = Server(database_url, config_path, fake, log)
            async with _running(first, http):
                assert await ana.command(first, "offer") == 200
                await ana.expect("What would you like to teach?")
                # Slack gets slow: the reply to her answer hangs, so her next answer, acked
                # at once, waits in the inbox behind it when the server is killed.
                fake.delays["chat.postMessage"] = 120
                assert await ana.dm(first, "Excel pivot tables") == 200
                await _wait_for(sessions, [InboxStatus.DONE, InboxStatus.ANSWERED])
                assert await ana.dm(first, "Build a pivot table and a chart in 30 minutes") == 200
                await first.kill()
            async with sessions() as session:
                rows = list(await session.scalars(select(InboxItem).order_by(InboxItem.id)))
            assert [row.status for row in rows] == [
                InboxStatus.DONE,
                InboxStatus.ANSWERED,  # handled; its reply was being sent at the kill
                InboxStatus.PENDING,  # acked with 200, not processed yet
            ]
            fake.delays.clear()
            second = Server(database_url, config_path, fake, log)
            async with _running(second, http):
                await ana.expect("In one line, what will people learn?")
                await ana.expect("Which format")
                assert await ana.dm(second, "workshop") == 200
                await ana.expect("What level")
                assert await ana.dm(second, "2") == 200
                await ana.expect("When are you available?")
                assert await ana.dm(second, "Tuesday afternoons") == 200
                await ana.expect("Here's your offer")
                assert await ana.dm(second, "confirm") == 200
                await ana.expect("Thank you")
        async with sessions() as session:
            offers = list(await session.scalars(select(SkillOffer)))
            statuses = set(await session.scalars(select(InboxItem.status)))
        assert [(o.skill, o.description, o.format) for o in offers] == [
            ("Excel pivot tables", "Build a pivot table and a chart in 30 minutes", "workshop")
        ]
        assert statuses == {InboxStatus.DONE}
        assert len(ana.said()) == ana.seen, f"nothing said twice: {ana.said()}"
    finally:
        await fake.stop()
