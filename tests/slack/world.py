"""The Slack world for shared conversation scenarios (``world`` fixture).

Everything goes through the real stack: signed HTTP requests to ``POST /slack/events`` on an
aiohttp server running the real Bolt app, which calls the real slack_sdk client against
:class:`~tests.slack.fake.FakeSlack`. What a person is shown (DMs, ephemerals, response_url
posts, modals, their App Home) is read back from the fake's recorded calls.
"""

from __future__ import annotations

import itertools
import json
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from types import ModuleType
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.slack.app import COMMANDS
from adapters.slack.linking import link_people
from adapters.slack.plugin import SlackParts, add_routes, build
from adapters.slack.render import escape, flatten
from bot.clock import ManualClock
from bot.config import AppConfig, SlackPolicy
from bot.core import Learnbot
from bot.features import FEATURES
from learnbot.settings import Settings
from scheduler.delivery import DeliveryWorker, WorkerSettings
from tests.slack.fake import TEAM, FakeSlack, serve_locally, sign
from tests.support.conversation import WORLDS, take_eventually, take_next, take_nothing

SECRET = "test-signing-secret"
FAST = SlackPolicy(per_channel_per_second=1000, workspace_per_minute=1_000_000)


@dataclass
class Shown:
    """A button as a person saw it, with where it was (for the block_actions payload)."""

    label: str
    action_id: str
    value: str
    channel: str | None
    ephemeral: bool
    in_view: bool


class SlackDriver:
    def __init__(self, world: SlackWorld, email: str, user_id: str) -> None:
        self.world = world
        self.email = email
        self.user_id = user_id
        self.dm_channel = "D" + user_id[1:]
        self.outputs: list[str] = []
        self.buttons: list[Shown] = []
        self.modals: list[dict[str, Any]] = []
        self.home: dict[str, Any] | None = None

    def show(
        self,
        blocks: list[dict[str, Any]],
        text: str,
        *,
        channel: str | None,
        ephemeral: bool,
        in_view: bool = False,
    ) -> None:
        self.outputs.append(flatten(blocks, text))
        for block in blocks:
            if block.get("type") != "actions":
                continue
            for element in block.get("elements", []):
                if element.get("type") == "button":
                    self.buttons.append(
                        Shown(
                            element["text"]["text"],
                            element["action_id"],
                            element.get("value", ""),
                            channel,
                            ephemeral,
                            in_view,
                        )
                    )

    async def send(self, text: str) -> None:
        await self.world.link()
        name, _, rest = text.strip().partition(" ")
        if name.startswith("/") and name[1:].lower() in COMMANDS:
            await self.world.command(self, name.lower(), rest)
        else:
            await self.world.direct_message(self, text)

    async def press(self, label: str) -> None:
        for button in reversed(self.buttons):
            if label.lower() in button.label.lower():
                await self.world.block_action(self, button)
                return
        raise AssertionError(f"no button labelled {label!r} was shown to {self.email}")

    async def submit_form(self, **values: str) -> None:
        """Fill in and submit the most recent modal shown to this person."""
        if not self.modals:
            raise AssertionError(f"no form was opened for {self.email}")
        await self.world.view_submission(self, self.modals[-1], values)

    async def open_home(self) -> dict[str, Any]:
        await self.world.home_opened(self)
        if self.home is None:
            raise AssertionError(f"no App Home was published for {self.email}")
        return self.home

    async def expect_reply(self, *fragments: str) -> str:
        return take_next(self.outputs, fragments, f"a message to {self.email}")

    async def expect_eventually(self, *fragments: str) -> str:
        return take_eventually(self.outputs, fragments, f"a message to {self.email}")

    async def expect_no_reply(self) -> None:
        take_nothing(self.outputs, f"message to {self.email}")

    expect_nothing = expect_no_reply


class SlackWorld:
    platform = "slack"

    def __init__(
        self, app: Learnbot, fake: FakeSlack, parts: SlackParts, url: str, http: aiohttp.ClientSession
    ) -> None:
        self.app = app
        self.fake = fake
        self.parts = parts
        self.url = url
        self.http = http
        self.people: dict[str, SlackDriver] = {}
        self.by_user: dict[str, SlackDriver] = {}
        self.posts: dict[str, list[str]] = {}
        self.tokens: dict[str, SlackDriver] = {}
        self.triggers: dict[str, SlackDriver] = {}
        self._seen = 0
        # Unique across worlds: a restarted app on the same database must not see a reused id
        # as a Slack retry of an event it already handled.
        self._ids = itertools.count(int.from_bytes(os.urandom(3), "big") * 1000)
        self.worker = DeliveryWorker(
            app.sessions,
            {"slack": parts.deliverer},
            app.clock,
            WorkerSettings.from_policy(app.config.outbox),
            name="slack-world",
            limiter=parts.adapter.limiter,  # replies and proactive messages share the pacing
        )

    # -- people -----------------------------------------------------------------------------
    def person(self, email: str, *, name: str | None = None, timezone: str | None = None) -> SlackDriver:
        key = email.lower()
        if key not in self.people:
            display = name or key.split("@")[0].replace(".", " ").title()
            user = self.fake.add_user(key, display, timezone)
            driver = SlackDriver(self, key, user.id)
            self.people[key] = self.by_user[user.id] = driver
        return self.people[key]

    # -- inbound requests -------------------------------------------------------------------
    async def post(
        self,
        body: str,
        content_type: str,
        headers: dict[str, str] | None = None,
        *,
        signed_with: str = SECRET,
        timestamp: int | None = None,
        settle: bool = True,
    ) -> int:
        """POST a signed request to /slack/events; with ``settle``, wait for the work after
        the ack and the outbox, and route what was shown."""
        signed = {**sign(signed_with, body, timestamp), "Content-Type": content_type, **(headers or {})}
        async with self.http.post(f"{self.url}/slack/events", data=body.encode(), headers=signed) as response:
            await response.read()
            status = response.status
        if settle:
            await self.settle()
        return status

    def _handles(self, driver: SlackDriver) -> tuple[str, str]:
        n = next(self._ids)
        token, trigger = f"r{n}", f"{n}.{int(time.time())}.trigger"
        self.tokens[token] = driver
        self.triggers[trigger] = driver
        return self.fake.response_url(token), trigger

    async def command(self, driver: SlackDriver, command: str, text: str) -> int:
        response_url, trigger = self._handles(driver)
        form = {
            "token": "legacy",
            "team_id": TEAM,
            "team_domain": "learning",
            "channel_id": driver.dm_channel,
            "channel_name": "directmessage",
            "user_id": driver.user_id,
            "user_name": driver.email.split("@")[0],
            "command": command,
            "text": escape(text),  # Slack sends &, <, > escaped
            "api_app_id": "A0LEARN",
            "response_url": response_url,
            "trigger_id": trigger,
        }
        return await self.post(urlencode(form), "application/x-www-form-urlencoded")

    def event_body(self, event: dict[str, Any], event_id: str | None = None) -> str:
        return json.dumps(
            {
                "token": "legacy",
                "team_id": TEAM,
                "api_app_id": "A0LEARN",
                "type": "event_callback",
                "event": event,
                "event_id": event_id or f"Ev{next(self._ids):08d}",
                "event_time": int(time.time()),
            }
        )

    async def direct_message_nowait(self, driver: SlackDriver, text: str) -> int:
        """A DM whose processing is not waited for (a burst of messages)."""
        return await self.direct_message(driver, text, settle=False)

    async def direct_message(self, driver: SlackDriver, text: str, *, settle: bool = True) -> int:
        ts = f"{time.time():.6f}"
        event = {
            "type": "message",
            "channel_type": "im",
            "channel": driver.dm_channel,
            "user": driver.user_id,
            "text": escape(text),
            "ts": ts,
            "event_ts": ts,
            "team": TEAM,
        }
        return await self.post(self.event_body(event), "application/json", settle=settle)

    async def home_opened(self, driver: SlackDriver) -> int:
        event = {
            "type": "app_home_opened",
            "user": driver.user_id,
            "channel": driver.dm_channel,
            "tab": "home",
            "event_ts": f"{time.time():.6f}",
        }
        return await self.post(self.event_body(event), "application/json")

    async def interaction(self, payload: dict[str, Any]) -> int:
        return await self.post(
            urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded"
        )

    async def block_action(self, driver: SlackDriver, button: Shown) -> int:
        response_url, trigger = self._handles(driver)
        payload: dict[str, Any] = {
            "type": "block_actions",
            "team": {"id": TEAM, "domain": "learning"},
            "user": {"id": driver.user_id, "team_id": TEAM, "username": driver.email.split("@")[0]},
            "api_app_id": "A0LEARN",
            "token": "legacy",
            "trigger_id": trigger,
            "actions": [
                {
                    "type": "button",
                    "action_id": button.action_id,
                    "block_id": "b1",
                    "value": button.value,
                    "text": {"type": "plain_text", "text": button.label},
                    "action_ts": f"{time.time():.6f}",
                }
            ],
        }
        if button.in_view:
            payload["container"] = {"type": "view", "view_id": "V0HOME"}
            payload["view"] = {"id": "V0HOME", "type": "home"}
        else:
            payload["container"] = {
                "type": "message",
                "channel_id": button.channel,
                "is_ephemeral": button.ephemeral,
                "message_ts": "1.000001",
            }
            payload["channel"] = {"id": button.channel}
            payload["response_url"] = response_url
        return await self.interaction(payload)

    async def view_submission(self, driver: SlackDriver, view: dict[str, Any], values: dict[str, str]) -> int:
        state: dict[str, Any] = {}
        for block in view.get("blocks", []):
            if block.get("type") != "input":
                continue
            name = block["block_id"]
            element = block["element"]
            if element["type"] == "static_select":
                chosen = values.get(name)
                option = next((o for o in element["options"] if o["value"] == chosen), None)
                state[name] = {"value": {"type": "static_select", "selected_option": option}}
            else:
                state[name] = {"value": {"type": "plain_text_input", "value": values.get(name)}}
        payload = {
            "type": "view_submission",
            "team": {"id": TEAM},
            "user": {"id": driver.user_id, "team_id": TEAM},
            "api_app_id": "A0LEARN",
            "token": "legacy",
            "trigger_id": f"{next(self._ids)}.submit",
            "view": {**view, "team_id": TEAM, "state": {"values": state}},
        }
        return await self.interaction(payload)

    # -- what people were shown -------------------------------------------------------------
    async def settle(self) -> None:
        """Wait for the work after the ack, deliver what it queued, then show it all."""
        await self.parts.adapter.idle()
        await self.deliver()

    def _route(self) -> None:
        for call in self.fake.calls[self._seen :]:
            args = call.args
            if call.method == "chat.postMessage":
                channel = str(args["channel"])
                blocks, text = args.get("blocks") or [], str(args.get("text", ""))
                driver = self.by_user.get("U" + channel[1:]) if channel.startswith("D") else None
                if driver is not None:
                    driver.show(blocks, text, channel=channel, ephemeral=False)
                else:
                    self.posts.setdefault(channel, []).append(flatten(blocks, text))
            elif call.method == "chat.postEphemeral":
                self.by_user[str(args["user"])].show(
                    args.get("blocks") or [],
                    str(args.get("text", "")),
                    channel=str(args["channel"]),
                    ephemeral=True,
                )
            elif call.method == "response_url":
                driver = self.tokens[str(args["token"])]
                driver.show(
                    args.get("blocks") or [],
                    str(args.get("text", "")),
                    channel=driver.dm_channel,
                    ephemeral=True,
                )
            elif call.method == "views.open":
                driver = self.triggers[str(args["trigger_id"])]
                view = {**args["view"], "id": f"V{len(self.fake.calls)}", "hash": f"h{len(self.fake.calls)}"}
                driver.modals.append(view)
                driver.show(view.get("blocks", []), "", channel=None, ephemeral=False, in_view=True)
            elif call.method == "files.completeUploadExternal":
                channel = str(args.get("channel_id"))
                files = args.get("files")
                files = json.loads(files) if isinstance(files, str) else files or []
                names = " ".join(f"[attachment: {f.get('title')}]" for f in files)
                driver = self.by_user.get("U" + channel[1:]) if channel.startswith("D") else None
                shown = driver.outputs if driver is not None else self.posts.setdefault(channel, [])
                if shown:
                    shown[-1] += "\n" + names  # shown under the message it came with
                else:
                    shown.append(names)
            elif call.method == "views.publish":
                driver = self.by_user[str(args["user_id"])]
                driver.home = args["view"]
                driver.show(args["view"].get("blocks", []), "", channel=None, ephemeral=False, in_view=True)
        self._seen = len(self.fake.calls)

    async def deliver(self) -> int:
        delivered = await self.worker.drain()
        self._route()
        return delivered

    async def link(self) -> None:
        """Link known people to the Slack users of this world by email, as the server does
        at start and every hour (so a colleague imported from the LMS, who never wrote to the
        bot, still gets their DMs, as on the console)."""
        await link_people(
            self.app.sessions, await self.parts.deliverer.clients.for_team(None), self.app.clock
        )

    async def run_job(self, name: str, **args: Any) -> str:
        await self.link()
        summary = await self.app.run_job(name, args)
        await self.deliver()
        return summary

    def _posts(self, channel_key: str) -> list[str]:
        channel = next(
            (
                c.slack
                for o in self.app.config.offices
                for c in o.channels
                if c.key == channel_key and c.slack
            ),
            None,
        )
        if channel is None:
            raise AssertionError(f"channel '{channel_key}' has no Slack id in the test app.yaml")
        return self.posts.setdefault(channel, [])

    async def expect_post(self, channel_key: str, *fragments: str) -> str:
        return take_next(self._posts(channel_key), fragments, f"a post in {channel_key}")

    async def expect_post_eventually(self, channel_key: str, *fragments: str) -> str:
        return take_eventually(self._posts(channel_key), fragments, f"a post in {channel_key}")

    async def expect_no_post(self, channel_key: str) -> None:
        take_nothing(self._posts(channel_key), f"post in {channel_key}")


@asynccontextmanager
async def slack_world(
    config: AppConfig,
    sessions: async_sessionmaker[AsyncSession],
    clock: ManualClock,
    *,
    policy: SlackPolicy = FAST,
    features: list[ModuleType] | None = None,
) -> AsyncIterator[SlackWorld]:
    fake = await FakeSlack(timestamp=lambda: clock.now().timestamp()).start()
    settings = Settings(slack_bot_token="xoxb-test", slack_signing_secret=SECRET, slack_api_url=fake.api_url)
    app = Learnbot(
        config,
        sessions,
        clock=clock,
        platforms=("slack",),
        features=FEATURES if features is None else features,
    )
    parts = build(app, settings, policy=policy)
    web_app = web.Application()
    add_routes(web_app, parts)
    runner, url = await serve_locally(web_app)
    try:
        async with aiohttp.ClientSession() as http:
            yield SlackWorld(app, fake, parts, url, http)
    finally:
        await parts.adapter.close()
        await runner.cleanup()
        await fake.stop()


def _factory(config: AppConfig, sessions: async_sessionmaker[AsyncSession], clock: ManualClock) -> Any:
    return slack_world(config, sessions, clock)


WORLDS["slack"] = _factory
__all__ = ["SECRET", "SlackDriver", "SlackWorld", "slack_world"]
