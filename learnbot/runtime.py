"""Build a running Learnbot from settings: database (upgraded), config, core."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import Clock
from bot.config import AppConfig, load_config
from bot.core import Learnbot
from bot.features import FEATURES
from bot.features.learning_days.calendar import with_public_url
from bot.people import settle_offices
from learnbot.settings import Settings
from scheduler.delivery import WorkerSettings
from scheduler.ratelimit import RateLimiter
from storage.db import create_engine, session_factory
from storage.migrate import upgrade

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class Runtime:
    settings: Settings
    config: AppConfig
    engine: AsyncEngine
    app: Learnbot
    rate_limiter: RateLimiter = field(default_factory=RateLimiter)
    """One per process: the delivery worker and the adapters' interactive replies pace
    through it together."""

    async def close(self) -> None:
        await self.engine.dispose()

    def worker_settings(self, *, resend_when_in_doubt: bool = False) -> WorkerSettings:
        from datetime import timedelta

        policy = self.config.outbox
        return WorkerSettings(
            max_attempts=policy.max_attempts,
            lease=timedelta(seconds=policy.lease_seconds),
            resend_when_in_doubt=resend_when_in_doubt,
        )


async def build_runtime(
    settings: Settings,
    platforms: Sequence[str],
    *,
    clock: Clock | None = None,
    config: AppConfig | None = None,
) -> Runtime:
    config = with_public_url(config or load_config(settings.config_path), settings.public_url)
    engine = create_engine(settings.database_url)
    await upgrade(engine)
    app = Learnbot(config, session_factory(engine), clock=clock, platforms=platforms, features=FEATURES)
    async with app.sessions() as session, session.begin():
        await settle_offices(session, config)
    return Runtime(settings=settings, config=config, engine=engine, app=app)
