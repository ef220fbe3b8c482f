"""``learnbot serve`` with Teams configured: the route exists and answers activities."""

from __future__ import annotations

from dataclasses import replace

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import ManualClock
from bot.config import AppConfig
from bot.core import Learnbot
from bot.features import FEATURES
from learnbot.runtime import Runtime
from learnbot.server import build_server
from learnbot.settings import Settings
from storage.db import session_factory
from tests.teams.fake_connector import FakeConnector


async def test_serve_mounts_api_messages(
    engine: AsyncEngine, config: AppConfig, clock: ManualClock, connector: FakeConnector
) -> None:
    settings = replace(Settings.from_env({"LEARNBOT_TEAMS": "1"}), database_url="unused")
    app = Learnbot(config, session_factory(engine), clock=clock, platforms=("teams",), features=FEATURES)
    runtime = Runtime(settings=settings, config=config, engine=engine, app=app)
    web_app = await build_server(settings, runtime=runtime, start_background=False)
    async with TestClient(TestServer(web_app)) as client:
        activity = {
            "type": "message",
            "id": "m-1",
            "channelId": "msteams",
            "serviceUrl": connector.url,
            "from": {"id": "29:x", "name": "Xi", "aadObjectId": "aad-x"},
            "recipient": {"id": "28:bot", "name": "Learnbot"},
            "conversation": {"id": "a:xi", "conversationType": "personal", "tenantId": "t"},
            "text": "learning help",
        }
        response = await client.post("/api/messages", json=activity)
        assert response.status in (200, 201)
    assert "Here's what I can do" in str(connector.in_conversation("a:xi")[-1])
