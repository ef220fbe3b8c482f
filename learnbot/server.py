"""``learnbot serve``: one aiohttp server for every platform's webhooks, plus the scheduler and
the outbox delivery worker.

Operator endpoints: ``/livez`` (the process answers), ``/readyz`` (the database, Socket Mode's
connection and the scheduler are up: 503 otherwise), ``/healthz`` (the database and a glance at
the outbox) and ``/metrics`` (Prometheus).
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import func, select, text

from adapters.plugin import Attached
from bot.clock import Clock
from learnbot import calendar as learning_day_calendar
from learnbot import version
from learnbot.platforms import configured_platforms
from learnbot.runtime import Runtime, build_runtime
from learnbot.settings import Settings
from scheduler.jobs import build_scheduler
from scheduler.metrics import CONTENT_TYPE_LATEST
from storage.db import normalise_url
from storage.models import DialogState, OutboxMessage

logger = logging.getLogger(__name__)

RUNTIME: web.AppKey[Runtime] = web.AppKey("runtime", Runtime)


@dataclass(slots=True)
class ServerState:
    """What ``/readyz`` asks: the background work started with the server, and each platform's
    own checks."""

    background: bool
    scheduler: AsyncIOScheduler | None = None
    checks: dict[str, Callable[[], Awaitable[bool]]] = field(default_factory=dict)


STATE: web.AppKey[ServerState] = web.AppKey("state", ServerState)


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
        body["outbox"] = {
            status: counts.get(status, 0) for status in ("pending", "sending", "waiting", "failed")
        }
    except Exception as exc:
        logger.warning("health check: database unreachable (%s: %s)", type(exc).__name__, exc)
        body.update(status="unhealthy", database=f"error: {type(exc).__name__}")
        return web.json_response(body, status=503)
    return web.json_response(body)


async def livez(request: web.Request) -> web.Response:
    """The process is up and its event loop answers (restart it if not)."""
    return web.json_response({"status": "alive"})


async def readyz(request: web.Request) -> web.Response:
    """Ready for traffic: the database answers, every platform check passes (Slack Socket
    Mode connected), and the scheduler runs. 503 with the failing parts otherwise."""
    runtime, state = request.app[RUNTIME], request.app[STATE]
    checks: dict[str, str] = {}
    try:
        async with asyncio.timeout(5), runtime.app.sessions() as session:
            await session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"error: {type(exc).__name__}"
    for name, check in state.checks.items():
        try:
            checks[name] = "ok" if await check() else "down"
        except Exception as exc:
            checks[name] = f"error: {type(exc).__name__}"
    if state.background:
        running = state.scheduler is not None and state.scheduler.running
        checks["scheduler"] = "ok" if running else "not running"
    ready = all(value == "ok" for value in checks.values())
    body = {"status": "ready" if ready else "not ready", **checks}
    return web.json_response(body, status=200 if ready else 503)


async def metrics(request: web.Request) -> web.Response:
    """Prometheus metrics; the database-backed gauges are read now, so every replica reports
    the same outbox and dialog counts."""
    runtime = request.app[RUNTIME]
    gauges = runtime.metrics
    try:
        async with runtime.app.sessions() as session:
            rows = (
                await session.execute(
                    select(OutboxMessage.status, OutboxMessage.platform, func.count()).group_by(
                        OutboxMessage.status, OutboxMessage.platform
                    )
                )
            ).all()
            dialogs = await session.scalar(select(func.count()).select_from(DialogState))
        gauges.outbox.clear()
        for status, platform, count in rows:
            gauges.outbox.labels(str(status), platform).set(count)
        gauges.dialogs_open.set(dialogs or 0)
    except Exception as exc:
        logger.warning("metrics: could not read the database (%s)", type(exc).__name__)
    return web.Response(body=gauges.exposition(), headers={"Content-Type": CONTENT_TYPE_LATEST})


@web.middleware
async def one_line_errors(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """A last resort: an unexpected error is a 500 with one log line (the traceback only at
    DEBUG), never aiohttp's default page and traceback per request."""
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except Exception as exc:
        logger.error(
            "%s %s failed: %s: %s",
            request.method,
            request.path,
            type(exc).__name__,
            exc,
            exc_info=logger.isEnabledFor(logging.DEBUG),
        )
        return web.json_response({"error": "internal error"}, status=500)


async def build_server(
    settings: Settings,
    *,
    clock: Clock | None = None,
    runtime: Runtime | None = None,
    start_background: bool = True,
) -> web.Application:
    """The aiohttp application with the operator endpoints and each configured platform's
    routes. With ``start_background`` the scheduler and the delivery worker start and stop
    with it."""
    plugins = configured_platforms(settings)
    names = [plugin.NAME for plugin in plugins]
    if not names:
        logger.warning(
            "no Slack or Teams credentials are set: serving the health and metrics endpoints only "
            "(try `learnbot chat` to use Learnbot in the terminal)"
        )
    if runtime is None:
        runtime = await build_runtime(settings, names, clock=clock)
    web_app = web.Application(middlewares=[one_line_errors])
    web_app[RUNTIME] = runtime
    state = ServerState(background=start_background)
    web_app[STATE] = state
    for path, route in (("/healthz", healthz), ("/livez", livez), ("/readyz", readyz), ("/metrics", metrics)):
        web_app.router.add_get(path, route)
    learning_day_calendar.add_routes(web_app)  # GET /calendar/learning-day-<id>.ics
    attached: list[Attached] = [await plugin.attach(web_app, runtime) for plugin in plugins]
    for item in attached:
        state.checks.update(item.ready)
    if start_background:
        web_app.cleanup_ctx.append(_background(runtime, attached, state))
    return web_app


def _background(
    runtime: Runtime, attached: list[Attached], state: ServerState
) -> Callable[[web.Application], Any]:
    async def background(app: web.Application) -> Any:
        scheduler = build_scheduler(runtime.app, runtime.metrics)
        worker = runtime.worker({a.deliverer.platform: a.deliverer for a in attached})
        for item in attached:
            for start in item.on_start:
                await start()
        scheduler.start()
        state.scheduler = scheduler
        task = asyncio.create_task(
            worker.run_forever(runtime.app.outbox_ready, runtime.config.outbox.poll_seconds)
        )
        yield
        # SIGTERM: stop claiming, release unsent rows, let sends under way finish (grace).
        await worker.shutdown()
        task.cancel()
        scheduler.shutdown(wait=False)
        for item in attached:
            for stop in item.on_stop:
                await stop()
        await runtime.close()

    return background


def describe(settings: Settings) -> str:
    """One line for the start-up log: where, which platforms in which mode, which database."""
    platforms: list[str] = []
    if settings.slack_configured:
        mode = "Socket Mode" if settings.slack_app_token else "HTTP events on POST /slack/events"
        if settings.slack_client_id:
            mode += ", OAuth install on /slack/install"
        platforms.append(f"Slack ({mode})")
    if settings.teams_configured:
        auth = "authenticated" if settings.microsoft_app_id else "NOT authenticated: emulator mode"
        platforms.append(f"Teams (POST /api/messages, {auth})")
    backend = normalise_url(settings.database_url).split(":", 1)[0].split("+", 1)[0]
    return (
        f"listening on http://{settings.bind_host}:{settings.port}; platforms: "
        f"{', '.join(platforms) or 'none (health and metrics only)'}; database: {backend}"
    )


def serve(settings: Settings) -> None:
    async def make() -> web.Application:
        return await build_server(settings)

    if settings.teams_without_auth:
        logger.warning(
            "Teams runs WITHOUT authentication (no MICROSOFT_APP_ID): %s",
            f"bound to {settings.bind_host} as HOST asks; anyone who reaches it can post as anyone"
            if settings.host
            else "bound to loopback only (set HOST to expose it, which you should not)",
        )
    logger.info("Learnbot %s %s", version(), describe(settings))
    web.run_app(
        make(), host=settings.bind_host, port=settings.port, print=None, access_log=None, shutdown_timeout=10
    )


async def deliver_only(settings: Settings, *, name: str | None = None) -> int:
    """``learnbot deliver``: only the outbox delivery worker, for running extra replicas next
    to ``learnbot serve`` (they share the database and the pacing). SIGTERM or Ctrl-C stops
    it gracefully within ``outbox.shutdown_grace_seconds``."""
    plugins = configured_platforms(settings)
    if not plugins:
        logger.error("no Slack or Teams credentials are set: nothing to deliver to")
        return 2
    runtime = await build_runtime(settings, [plugin.NAME for plugin in plugins])
    # The plugins also register their webhook routes; this process serves none of them.
    attached = [await plugin.attach(web.Application(), runtime) for plugin in plugins]
    worker = runtime.worker({a.deliverer.platform: a.deliverer for a in attached}, name=name)
    logging.getLogger("scheduler.delivery").setLevel(logging.INFO)  # starts, stops, doubts
    loop = asyncio.get_running_loop()
    stopping: list[asyncio.Task[None]] = []

    def on_signal(signal_number: int) -> None:
        logger.warning("%s received: stopping the delivery worker", signal.Signals(signal_number).name)
        if not stopping:
            stopping.append(loop.create_task(worker.shutdown()))

    for signal_number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signal_number, on_signal, signal_number)
    try:
        await worker.run_forever(None, runtime.config.outbox.poll_seconds)
        if stopping:
            await stopping[0]
    finally:
        for item in attached:
            for stop in item.on_stop:
                await stop()
        await runtime.close()
    logger.warning("delivery worker stopped")
    return 0
