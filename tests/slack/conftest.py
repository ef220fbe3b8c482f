from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import ManualClock
from bot.config import AppConfig
from tests.slack.blockkit import check_calls
from tests.slack.world import SlackWorld, slack_world


@pytest.fixture
async def slack(
    config: AppConfig, sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> AsyncIterator[SlackWorld]:
    """The Slack world with the default features; every block sent is checked at the end."""
    async with slack_world(config, sessions, clock) as world:
        yield world
        check_calls(world.fake.calls)
