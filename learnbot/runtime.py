"""Build a running Learnbot from settings: database (upgraded), config, core."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import Clock
from bot.config import AppConfig, load_config
from bot.core import Learnbot
from bot.features import FEATURES
from bot.features.learning_days.calendar import with_public_url
from bot.people import settle_offices
from learnbot.settings import Settings
from scheduler.delivery import Deliverer, DeliveryWorker, WorkerSettings
from scheduler.metrics import Metrics
from scheduler.ratelimit import RateLimiter, shared_store
from storage.db import create_engine, ensure_reachable, is_postgres, normalise_url, session_factory
from storage.migrate import upgrade

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class Runtime:
    settings: Settings
    config: AppConfig
    engine: AsyncEngine
    app: Learnbot
    metrics: Metrics = field(default_factory=Metrics)
    """This process's Prometheus registry and metrics (``GET /metrics``)."""
    _limiter: RateLimiter | None = None

    async def close(self) -> None:
        if self._limiter is not None:
            await self._limiter.close()
        await self.engine.dispose()

    def worker_settings(self, *, resend_when_in_doubt: bool = False) -> WorkerSettings:
        return WorkerSettings.from_policy(self.config.outbox, resend_when_in_doubt=resend_when_in_doubt)

    @property
    def rate_limiter(self) -> RateLimiter:
        """One per process, shared by every replica through its store (Redis if ``REDIS_URL``
        is set, else PostgreSQL rows, else, on SQLite's single process, memory): the delivery
        worker and the adapters' interactive replies pace through it together."""
        if self._limiter is None:
            store = shared_store(self.app.sessions, self.engine.dialect.name, self.settings.redis_url)
            self._limiter = RateLimiter(store)
        return self._limiter

    def worker(
        self,
        deliverers: Mapping[str, Deliverer],
        *,
        name: str | None = None,
        resend_when_in_doubt: bool = False,
    ) -> DeliveryWorker:
        return DeliveryWorker(
            self.app.sessions,
            deliverers,
            self.app.clock,
            self.worker_settings(resend_when_in_doubt=resend_when_in_doubt),
            limiter=self.rate_limiter,
            name=name,
            metrics=self.metrics,
        )


def pool_options(url: str, config: AppConfig) -> dict[str, Any]:
    """Enough PostgreSQL connections for every row the worker has in hand (each holds at most
    one at a time), plus the claimer, the pacing, the scheduler and web requests."""
    if not is_postgres(normalise_url(url)):
        return {}
    return {"pool_size": config.outbox.concurrency + 4, "max_overflow": 4}


async def build_runtime(
    settings: Settings,
    platforms: Sequence[str],
    *,
    clock: Clock | None = None,
    config: AppConfig | None = None,
) -> Runtime:
    config = with_public_url(config or load_config(settings.config_path), settings.public_url)
    engine = create_engine(settings.database_url, **pool_options(settings.database_url, config))
    try:
        await ensure_reachable(engine)
    except Exception:
        await engine.dispose()
        raise
    await upgrade(engine)
    app = Learnbot(config, session_factory(engine), clock=clock, platforms=platforms, features=FEATURES)
    async with app.sessions() as session, session.begin():
        await settle_offices(session, config)
    return Runtime(settings=settings, config=config, engine=engine, app=app)
