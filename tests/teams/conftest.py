from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import ManualClock
from bot.config import AppConfig
from bot.core import Learnbot
from bot.features import FEATURES
from tests.teams import demo_feature
from tests.teams.fake_connector import FakeConnector
from tests.teams.world import TeamsServer, TeamsWorld


@pytest.fixture
async def connector() -> AsyncIterator[FakeConnector]:
    fake = FakeConnector()
    await fake.start()
    yield fake
    await fake.stop()


def teams_app(config: AppConfig, sessions: async_sessionmaker[AsyncSession], clock: ManualClock) -> Learnbot:
    return Learnbot(config, sessions, clock=clock, platforms=("teams",), features=[*FEATURES, demo_feature])


@pytest.fixture
async def teams(
    config: AppConfig,
    sessions: async_sessionmaker[AsyncSession],
    clock: ManualClock,
    connector: FakeConnector,
) -> AsyncIterator[TeamsWorld]:
    """A Teams world with the demo feature, the bot installed in the office teams."""
    server = TeamsServer(teams_app(config, sessions, clock))
    await server.start()
    world = TeamsWorld(server.teams.bot.app, connector, server)
    try:
        await world.install_in_team()
        yield world
    finally:
        await world.close()
        await server.stop()
