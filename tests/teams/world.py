"""The Teams world: the real botbuilder adapter behind ``POST /api/messages``, talking to a
local fake Bot Connector.

People install the app (a ``conversationUpdate``) before they first act, type in their 1:1 chat
(message activities posted over HTTP), and press Adaptive Card buttons (the ``Action.Submit``
activity Teams would send). What they are shown is everything the fake connector received for
their conversation, flattened to the text a person reads.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.teams.plugin import ROUTE, BotAuthConfig, TeamsApp, build
from adapters.teams.render import CARD_CONTENT_TYPE, flatten
from bot.clock import ManualClock
from bot.config import AppConfig
from bot.core import Learnbot
from bot.features import FEATURES
from scheduler.delivery import DeliveryWorker, WorkerSettings
from tests.support.conversation import WORLDS, ChatWorld, take_eventually, take_next, take_nothing
from tests.teams.fake_connector import FakeConnector, Member

TENANT = "tenant-0001"
BOT_ID = "28:learnbot-app"
TEAM_ID = "19:team-general@thread.tacv2"


class TeamsServer:
    """The bot's aiohttp app (``/api/messages``) on 127.0.0.1, built like ``learnbot serve``."""

    def __init__(self, app: Learnbot, auth: BotAuthConfig | None = None, **options: Any) -> None:
        self.teams: TeamsApp = build(app, auth or BotAuthConfig(), **options)
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def start(self) -> str:
        web_app = web.Application()
        web_app.router.add_post(ROUTE, self.teams.messages)
        self._runner = web.AppRunner(web_app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}{ROUTE}"
        return self.url

    async def stop(self) -> None:
        await self.teams.inbox.close()
        if self._runner is not None:
            await self._runner.cleanup()


class TeamsDriver:
    """One person in Teams, in their 1:1 chat with the bot."""

    def __init__(self, world: TeamsWorld, email: str, name: str, timezone: str | None, number: int) -> None:
        self.world = world
        self.email = email
        self.timezone = timezone
        self.member = Member(
            id=f"29:user-{number}", aad_object_id=str(uuid.UUID(int=number)), name=name, email=email
        )
        self.conversation_id = f"a:personal-{number}"
        self.outputs: list[str] = []
        self.shown: list[dict[str, Any]] = []
        self.installed = False

    def account(self) -> dict[str, Any]:
        return {"id": self.member.id, "name": self.member.name, "aadObjectId": self.member.aad_object_id}

    def activity(self, kind: str, **fields: Any) -> dict[str, Any]:
        return {
            "type": kind,
            "id": f"f:{uuid.uuid4().hex}",
            "timestamp": "2026-12-01T09:00:00.000Z",
            "localTimezone": self.timezone,
            "channelId": "msteams",
            "serviceUrl": self.world.connector.url,
            "from": self.account(),
            "recipient": {"id": BOT_ID, "name": "Learnbot"},
            "conversation": {"id": self.conversation_id, "conversationType": "personal", "tenantId": TENANT},
            "channelData": {"tenant": {"id": TENANT}},
            "locale": "en-US",
            **fields,
        }

    def show(self, activity: dict[str, Any]) -> None:
        self.shown.append(activity)
        self.outputs.append(flatten(activity))

    async def install(self) -> None:
        """Add the app for this person: Teams sends a conversationUpdate with the bot added."""
        if self.installed:
            return
        self.installed = True
        await self.world.post(self.activity("conversationUpdate", membersAdded=[{"id": BOT_ID}]))
        await self.world.worker.drain()
        self.outputs.clear()  # the welcome stays in `shown`; scenarios start from a quiet chat

    async def send(self, text: str) -> None:
        await self.install()
        await self.world.post(self.activity("message", text=text, textFormat="plain"))
        await self.world.worker.drain()

    async def press(self, label: str) -> None:
        await self.install()
        for activity in reversed(self.shown):
            data = _find_submit(activity, label)
            if data is not None:
                await self.world.post(self.activity("message", value=data))
                await self.world.worker.drain()
                return
        raise AssertionError(f"no button labelled {label!r} was shown to {self.email}")

    async def expect_reply(self, *fragments: str) -> str:
        await self.install()
        return take_next(self.outputs, fragments, f"a message to {self.email}")

    async def expect_eventually(self, *fragments: str) -> str:
        await self.install()
        return take_eventually(self.outputs, fragments, f"a message to {self.email}")

    async def expect_no_reply(self) -> None:
        take_nothing(self.outputs, f"message to {self.email}")

    expect_nothing = expect_no_reply


def _find_submit(activity: dict[str, Any], label: str) -> dict[str, Any] | None:
    """The data of the last Action.Submit titled like ``label`` in a card, with the form's
    inputs at their initial values (as Teams merges them into the submitted data)."""
    found: list[dict[str, Any]] = []
    inputs: dict[str, Any] = {}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            kind = node.get("type", "")
            if kind == "Action.Submit" and label.lower() in str(node.get("title", "")).lower():
                found.append(dict(node.get("data") or {}))
            if kind.startswith("Input.") and node.get("id"):
                inputs[node["id"]] = node.get("value", "")
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    for attachment in activity.get("attachments") or []:
        if attachment.get("contentType") == CARD_CONTENT_TYPE:
            walk(attachment.get("content"))
    if not found:
        return None
    data = found[-1]
    return {**inputs, **data} if data.get("form") else data


class TeamsWorld:
    platform = "teams"

    def __init__(self, app: Learnbot, connector: FakeConnector, server: TeamsServer) -> None:
        self.app = app
        self.connector = connector
        self.server = server
        self.http = aiohttp.ClientSession()
        self.people: dict[str, TeamsDriver] = {}
        self.posts: dict[str, list[str]] = {}
        self._numbers = itertools.count(1)
        self.worker = DeliveryWorker(
            app.sessions,
            {"teams": server.teams.deliverer},
            app.clock,
            WorkerSettings.from_policy(app.config.outbox),
            name="teams-world",
            limiter=server.teams.bot.limiter,  # turn replies and proactive messages share the pacing
        )
        self.channels = {
            channel.teams: channel.key
            for office in app.config.offices
            for channel in office.channels
            if channel.teams
        }
        connector.listeners.append(self._route)

    def person(self, email: str, *, name: str | None = None, timezone: str | None = None) -> TeamsDriver:
        key = email.lower()
        if key not in self.people:
            name = name or key.split("@")[0].replace(".", " ").title()
            driver = TeamsDriver(self, key, name, timezone, next(self._numbers))
            self.people[key] = driver
            self.connector.members[driver.member.id] = driver.member
        return self.people[key]

    def _route(self, conversation_id: str, activity: dict[str, Any]) -> None:
        channel = conversation_id.split(";", 1)[0]
        if channel in self.channels:
            self.posts.setdefault(self.channels[channel], []).append(flatten(activity))
            return
        for driver in self.people.values():
            if conversation_id in (driver.conversation_id, f"a:created-{driver.member.id}"):
                driver.show(activity)
                return

    async def post(self, activity: dict[str, Any]) -> web.Response | aiohttp.ClientResponse:
        async with self.http.post(self.server.url, json=activity) as response:
            body = await response.text()
            assert response.status in (200, 201), f"/api/messages answered {response.status}: {body}"
            await self.server.teams.inbox.idle()  # anything queued behind a person's earlier turn
            invalid = "\n".join(self.connector.invalid)
            assert not invalid, f"invalid activities sent:\n{invalid}"
            return response

    async def install_in_team(self) -> None:
        """Add the bot to the team of every app.yaml channel that has a Teams id."""
        for channel_id in self.channels:
            await self.post(
                {
                    "type": "conversationUpdate",
                    "id": f"f:{uuid.uuid4().hex}",
                    "channelId": "msteams",
                    "serviceUrl": self.connector.url,
                    "from": {"id": "29:installer", "name": "Installer"},
                    "recipient": {"id": BOT_ID, "name": "Learnbot"},
                    "conversation": {
                        "id": channel_id,
                        "conversationType": "channel",
                        "isGroup": True,
                        "tenantId": TENANT,
                    },
                    "channelData": {
                        "tenant": {"id": TENANT},
                        "team": {"id": TEAM_ID, "name": "Office"},
                        "channel": {"id": channel_id},
                        "eventType": "teamMemberAdded",
                    },
                    "membersAdded": [{"id": BOT_ID}],
                }
            )
        await self.server.teams.bot.rosters_read()

    async def _install_everyone(self) -> None:
        for driver in list(self.people.values()):
            await driver.install()

    async def deliver(self) -> int:
        await self._install_everyone()
        return await self.worker.drain()

    async def run_job(self, name: str, **args: Any) -> str:
        await self._install_everyone()
        summary = await self.app.run_job(name, args)
        await self.deliver()
        return summary

    async def expect_post(self, channel_key: str, *fragments: str) -> str:
        return take_next(self.posts.setdefault(channel_key, []), fragments, f"a post in {channel_key}")

    async def expect_post_eventually(self, channel_key: str, *fragments: str) -> str:
        return take_eventually(self.posts.setdefault(channel_key, []), fragments, f"a post in {channel_key}")

    async def expect_no_post(self, channel_key: str) -> None:
        take_nothing(self.posts.setdefault(channel_key, []), f"post in {channel_key}")

    async def close(self) -> None:
        await self.http.close()


@asynccontextmanager
async def teams_world(
    config: AppConfig, sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> AsyncIterator[ChatWorld]:
    connector = FakeConnector()
    await connector.start()
    app = Learnbot(config, sessions, clock=clock, platforms=("teams",), features=FEATURES)
    server = TeamsServer(app)
    await server.start()
    world = TeamsWorld(app, connector, server)
    try:
        await world.install_in_team()
        yield world
    finally:
        await world.close()
        await server.stop()
        await connector.stop()


WORLDS["teams"] = teams_world

__all__ = ["BOT_ID", "TENANT", "TeamsDriver", "TeamsServer", "TeamsWorld", "teams_world"]
