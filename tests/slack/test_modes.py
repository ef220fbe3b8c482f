"""Socket Mode and multi-workspace OAuth, wired the way ``learnbot serve`` wires them."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Callable
from types import SimpleNamespace
from urllib.parse import urlencode

import aiohttp
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from adapters.slack import plugin
from bot.clock import ManualClock
from bot.config import AppConfig
from bot.core import Learnbot
from bot.features import FEATURES
from learnbot.settings import Settings
from scheduler.metrics import Metrics
from scheduler.ratelimit import RateLimiter
from tests.slack.fake import TEAM, FakeSlack, serve_locally, sign


async def _wait_for(condition: Callable[[], object], within: float = 10.0) -> None:
    for _ in range(int(within / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("timed out waiting for the work after the ack")


async def _post_event(
    http: aiohttp.ClientSession, base: str, team: str, event: dict[str, object], event_id: str
) -> int:
    body = json.dumps(
        {
            "type": "event_callback",
            "team_id": team,
            "api_app_id": "A0LEARN",
            "event": event,
            "event_id": event_id,
            "event_time": int(time.time()),
        }
    )
    headers = {**sign("secret", body), "Content-Type": "application/json"}
    async with http.post(f"{base}/slack/events", data=body.encode(), headers=headers) as response:
        return response.status


def _runtime(
    settings: Settings, config: AppConfig, sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> SimpleNamespace:
    """What ``learnbot serve`` hands a platform plugin."""
    app = Learnbot(config, sessions, clock=clock, platforms=("slack",), features=FEATURES)
    return SimpleNamespace(
        settings=settings, app=app, engine=sessions.kw["bind"], rate_limiter=RateLimiter(), metrics=Metrics()
    )


async def test_socket_mode_receives_a_command_and_replies(
    config: AppConfig, sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    fake = await FakeSlack().start()
    user = fake.add_user("ana@example.org", "Ana")
    settings = Settings(
        slack_bot_token="xoxb-test",
        slack_signing_secret="s",
        slack_app_token="xapp-test",
        slack_api_url=fake.api_url,
    )
    attached = await plugin.attach(web.Application(), _runtime(settings, config, sessions, clock))
    try:
        for start in attached.on_start:
            await start()
        payload = {
            "team_id": TEAM,
            "channel_id": "D" + user.id[1:],
            "channel_name": "directmessage",
            "user_id": user.id,
            "command": "/learning",
            "text": "help",
            "trigger_id": "1.socket",
            "response_url": fake.response_url("socket"),
        }
        ack = await fake.push(
            {
                "envelope_id": "env-1",
                "type": "slash_commands",
                "payload": payload,
                "accepts_response_payload": True,
            }
        )
        assert ack["envelope_id"] == "env-1"
        await _wait_for(lambda: fake.called("chat.postMessage"))
        assert "Here's what I can do" in fake.called("chat.postMessage")[0].args["text"]
        assert fake.called("apps.connections.open")[0].token == "xapp-test"
    finally:
        for stop in attached.on_stop:
            await stop()
        await fake.stop()


async def test_oauth_install_then_events_use_the_installed_token(
    config: AppConfig, sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    fake = await FakeSlack().start()
    ana = fake.add_user("ana@example.org", "Ana")
    settings = Settings(
        slack_signing_secret="secret",
        slack_client_id="111.222",
        slack_client_secret="shh",
        slack_api_url=fake.api_url,
    )
    web_app = web.Application()
    attached = await plugin.attach(web_app, _runtime(settings, config, sessions, clock))
    runner, base = await serve_locally(web_app)
    try:
        async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
            async with http.get(f"{base}/slack/install") as response:
                page = await response.text()
                cookie = response.headers["Set-Cookie"].split(";", 1)[0]
            assert response.status == 200 and "client_id=111.222" in page
            state = re.search(r"state=([\w-]+)", page)
            assert state is not None
            query = urlencode({"code": "good-code", "state": state.group(1)})
            async with http.get(
                f"{base}/slack/oauth_redirect?{query}", headers={"Cookie": cookie}
            ) as response:
                assert response.status == 200, await response.text()
            assert fake.called("oauth.v2.access")

            event = {
                "type": "message",
                "channel_type": "im",
                "channel": "D" + ana.id[1:],
                "user": ana.id,
                "text": "help",
                "ts": "1.1",
            }
            assert await _post_event(http, base, fake.installed_team, event, "Ev1") == 200
            await _wait_for(lambda: fake.called("chat.postMessage"))
            assert fake.called("chat.postMessage")[0].token == "xoxb-installed"

            deliverer = attached.deliverer
            client = await deliverer.clients.for_team(fake.installed_team)  # type: ignore[attr-defined]
            assert client.token == "xoxb-installed"
    finally:
        for stop in attached.on_stop:
            await stop()
        await runner.cleanup()
        await fake.stop()


async def test_learnbot_serve_runs_slack_end_to_end(
    config: AppConfig, database_url: str, engine: AsyncEngine
) -> None:
    """``learnbot serve``'s own server: the plugin is attached, events are answered, and
    proactive messages go out through the background delivery worker. (``engine`` is asked
    for so that the shared PostgreSQL test database is emptied first.)"""
    from learnbot.runtime import build_runtime
    from learnbot.server import build_server

    fake = await FakeSlack().start()
    ana = fake.add_user("ana@example.org", "Ana")
    settings = Settings(
        database_url=database_url,
        slack_bot_token="xoxb-test",
        slack_signing_secret="secret",
        slack_api_url=fake.api_url,
    )
    runtime = await build_runtime(settings, ["slack"], config=config)
    runner, base = await serve_locally(await build_server(settings, runtime=runtime))
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{base}/healthz") as response:
                assert (await response.json())["platforms"] == ["slack"]
            event = {"type": "team_join", "user": ana.as_slack(), "event_ts": "1.1"}
            assert await _post_event(http, base, TEAM, event, "Ev9") == 200
            # the welcome is planned in the outbox and sent by the server's delivery worker
            await _wait_for(lambda: fake.called("chat.postMessage"))
            posted = fake.called("chat.postMessage")[0].args
            assert "Welcome, Ana!" in posted["text"]
            assert posted["metadata"]["event_payload"]["key"].startswith("welcome:")
            # and the server links known people to Slack by email in the background
            await _wait_for(lambda: fake.called("users.list"))
    finally:
        await runner.cleanup()
        await fake.stop()
