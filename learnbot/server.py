"""``learnbot serve``: one aiohttp server for every platform's webhooks, plus the scheduler and
the outbox delivery worker."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import web
from sqlalchemy import func, select, text

from adapters.plugin import Attached
from bot.clock import Clock
from learnbot import calendar as learning_day_calendar
from learnbot.platforms import configured_platforms
from learnbot.runtime import Runtime, build_runtime
from learnbot.settings import Settings
from scheduler.delivery import DeliveryWorker
from scheduler.jobs import build_scheduler
from storage.models import OutboxMessage

logger = logging.getLogger(__name__)

RUNTIME: web.AppKey[Runtime] = web.AppKey("runtime", Runtime)


async def healthz(request: web.Request) -> web.Response:
    """Liveness and a glance at the outbox: is the database reachable, is anything stuck?"""
    runtime = request.app[RUNTIME]
    body: dict[str, Any] = {"status": "ok", "platforms": list(runtime.app.platforms)}
    try:
        async with runtime.app.sessions() as session:
            await session.execute(text("SELECT 1"))
            counts = dict(
                (
                    await session.execute(
                        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
                    )
                ).all()
            )
        body["database"] = "ok"
        body["outbox"] = {status: counts.get(status, 0) for status in ("pending", "sending", "failed")}
    except Exception as exc:
        logger.exception("health check: database unreachable")
        body.update(status="unhealthy", database=f"error: {type(exc).__name__}")
        return web.json_response(body, status=503)
    return web.json_response(body)


async def build_server(
    settings: Settings,
    *,
    clock: Clock | None = None,
    runtime: Runtime | None = None,
    start_background: bool = True,
) -> web.Application:
    """The aiohttp application with ``/healthz`` and each configured platform's routes.

    With ``start_background`` the scheduler and the delivery worker start and stop with it.
    """
    plugins = configured_platforms(settings)
    names = [plugin.NAME for plugin in plugins]
    if not names:
        logger.warning(
            "no Slack or Teams credentials are set: serving /healthz only "
            "(try `learnbot chat` to use Learnbot in the terminal)"
        )
    if runtime is None:
        runtime = await build_runtime(settings, names, clock=clock)
    web_app = web.Application()
    web_app[RUNTIME] = runtime
    web_app.router.add_get("/healthz", healthz)
    learning_day_calendar.add_routes(web_app)  # GET /calendar/learning-day-<id>.ics
    attached: list[Attached] = [await plugin.attach(web_app, runtime) for plugin in plugins]

    if start_background:

        async def background(app: web.Application) -> Any:
            scheduler = build_scheduler(runtime.app)
            worker = DeliveryWorker(
                runtime.app.sessions,
                {a.deliverer.platform: a.deliverer for a in attached},
                runtime.app.clock,
                runtime.worker_settings(),
                limiter=runtime.rate_limiter,
            )
            for item in attached:
                for start in item.on_start:
                    await start()
            scheduler.start()
            task = asyncio.create_task(
                worker.run_forever(runtime.app.outbox_ready, runtime.config.outbox.poll_seconds)
            )
            yield
            task.cancel()
            scheduler.shutdown(wait=False)
            for item in attached:
                for stop in item.on_stop:
                    await stop()
            await runtime.close()

        web_app.cleanup_ctx.append(background)
    return web_app


def serve(settings: Settings) -> None:
    async def make() -> web.Application:
        return await build_server(settings)

    logger.info("serving on %s:%s", settings.host, settings.port)
    web.run_app(make(), host=settings.host, port=settings.port, print=None)
