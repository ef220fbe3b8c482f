"""The Slack platform plugin for ``learnbot serve``.

HTTP mode: ``POST /slack/events`` (Events API, slash commands, interactivity; Bolt's default
path). Socket Mode instead of a public URL when ``SLACK_APP_TOKEN`` is set. Multi-workspace
installs with Bolt's OAuth flow (``GET /slack/install``, ``GET /slack/oauth_redirect``) when
``SLACK_CLIENT_ID``/``SLACK_CLIENT_SECRET`` are set; installations and OAuth states live in
slack_sdk's own SQLAlchemy tables in the same database.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_bolt.oauth.async_oauth_flow import AsyncOAuthFlow
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.errors import SlackApiError
from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.plugin import Attached
from adapters.slack.app import SlackAdapter
from adapters.slack.deliverer import SlackDeliverer
from adapters.slack.directory import SlackClients, SlackDirectory, retrying_rate_limits, web_client
from adapters.slack.inbound import SlackScreen
from adapters.slack.linking import keep_linking, link_people
from adapters.webhooks import Rejections
from bot.config import SlackPolicy
from bot.core import Learnbot
from scheduler.metrics import Metrics
from scheduler.ratelimit import RateLimiter

logger = logging.getLogger(__name__)

NAME = "slack"
DEFAULT_API_URL = AsyncWebClient.BASE_URL
MANIFEST = Path(__file__).with_name("manifest.yaml")
BOT_SCOPES = [
    "app_mentions:read",
    "channels:history",
    "channels:read",
    "chat:write",
    "commands",
    "files:read",  # LMS exports a learning manager sends in a DM (issue 14)
    "files:write",
    "groups:history",
    "groups:read",
    "im:history",
    "im:read",
    "im:write",
    "users:read",
    "users:read.email",
    "users.profile:read",
]
OAUTH_STATE_SECONDS = 600


class Settings(Protocol):
    """The Slack part of ``learnbot.settings.Settings`` (adapters sit below the composition
    root, so they describe what they read instead of importing it)."""

    @property
    def slack_bot_token(self) -> str | None: ...
    @property
    def slack_signing_secret(self) -> str | None: ...
    @property
    def slack_app_token(self) -> str | None: ...
    @property
    def slack_api_url(self) -> str | None: ...
    @property
    def slack_client_id(self) -> str | None: ...
    @property
    def slack_client_secret(self) -> str | None: ...
    @property
    def slack_configured(self) -> bool: ...


class Runtime(Protocol):
    """What ``attach`` uses of ``learnbot.runtime.Runtime``."""

    @property
    def settings(self) -> Settings: ...
    @property
    def app(self) -> Learnbot: ...
    @property
    def engine(self) -> AsyncEngine: ...
    @property
    def rate_limiter(self) -> RateLimiter: ...
    @property
    def metrics(self) -> Metrics: ...


def configured(settings: Settings) -> bool:
    return settings.slack_configured


def api_url(settings: Settings) -> str:
    url = settings.slack_api_url or DEFAULT_API_URL
    return url if url.endswith("/") else url + "/"


@dataclass(slots=True)
class SlackParts:
    adapter: SlackAdapter
    deliverer: SlackDeliverer
    installations: AsyncSQLAlchemyInstallationStore | None
    states: AsyncSQLAlchemyOAuthStateStore | None


def build(
    learnbot: Learnbot,
    settings: Settings,
    *,
    engine: AsyncEngine | None = None,
    policy: SlackPolicy | None = None,
    metrics: Metrics | None = None,
    limiter: RateLimiter | None = None,
) -> SlackParts:
    """The Bolt app, its adapter and the outbox deliverer, wired to ``learnbot``.

    ``engine`` is needed for OAuth (the installation and state stores); ``policy`` overrides
    app.yaml's pacing (tests and benchmarks); ``limiter`` is the delivery worker's, which
    interactive replies share."""
    base_url = api_url(settings)
    installations: AsyncSQLAlchemyInstallationStore | None = None
    states: AsyncSQLAlchemyOAuthStateStore | None = None
    if settings.slack_client_id and settings.slack_client_secret:
        if engine is None:
            raise ValueError("Slack OAuth needs the database engine for its installation store")
        installations = AsyncSQLAlchemyInstallationStore(client_id=settings.slack_client_id, engine=engine)
        states = AsyncSQLAlchemyOAuthStateStore(expiration_seconds=OAUTH_STATE_SECONDS, engine=engine)
        client = web_client(None, base_url)
        oauth_settings = AsyncOAuthSettings(
            client_id=settings.slack_client_id,
            client_secret=settings.slack_client_secret,
            scopes=BOT_SCOPES,
            installation_store=installations,
            state_store=states,
            install_path="/slack/install",
            redirect_uri_path="/slack/oauth_redirect",
        )
        bolt = AsyncApp(
            client=client,
            signing_secret=settings.slack_signing_secret,
            oauth_flow=AsyncOAuthFlow(client=client, settings=oauth_settings),
            process_before_response=True,
        )
    else:
        # The token is handed in, not a client: Bolt reads SLACK_BOT_TOKEN from the environment
        # itself and warns "As you gave `client` as well, `token` will be unused" when both
        # are there. Its own client then gets the API URL and the 429 retry handler.
        bolt = AsyncApp(
            token=settings.slack_bot_token,
            signing_secret=settings.slack_signing_secret,
            process_before_response=True,
        )
        bolt.client.base_url = base_url
        retrying_rate_limits(bolt.client)
    directory = SlackDirectory(
        learnbot.sessions, learnbot.clock, office_field=learnbot.config.directory.slack_office_field
    )
    metrics = metrics or Metrics()
    # One set of clients for the outbox and the interactive replies: no automatic retries (the
    # limiter and the outbox own them), the outbox's send timeout.
    clients = SlackClients(
        base_url=base_url,
        bot_token=settings.slack_bot_token,
        installations=installations,
        retry_rate_limits=False,
        timeout=max(1, round(learnbot.config.outbox.send_timeout_seconds)),
    )
    deliverer = SlackDeliverer(
        config=learnbot.config,
        clients=clients,
        directory=directory,
        policy=policy or learnbot.config.slack,
    )
    adapter = SlackAdapter(
        learnbot=learnbot,
        bolt=bolt,
        directory=directory,
        clients=clients,
        deliverer=deliverer,
        limiter=limiter or RateLimiter(),
        screen=SlackScreen(settings.slack_signing_secret, Rejections(metrics)),
        metrics=metrics,
    )
    return SlackParts(adapter=adapter, deliverer=deliverer, installations=installations, states=states)


async def create_oauth_tables(
    installations: AsyncSQLAlchemyInstallationStore, states: AsyncSQLAlchemyOAuthStateStore
) -> None:
    """slack_sdk owns these tables' schema (it reads and writes them itself), so they are
    created from its own metadata rather than in Learnbot's migrations (``storage`` must not
    import slack_sdk). ``create_all`` skips existing tables; two replicas starting at once may
    still collide, so a failure is retried once after the other has finished."""
    for attempt in (1, 2):
        try:
            await installations.create_tables()
            await states.create_tables()
            return
        except DBAPIError:
            if attempt == 2:
                raise
            logger.info("Slack OAuth tables were being created elsewhere; checking again")
            await asyncio.sleep(1.0)


async def link_known_people(runtime: Runtime) -> str:
    """Right after an LMS import: link the people it brought to their Slack accounts by email,
    so their reminders are planned for Slack (``users.list``; with OAuth, the server links every
    hour and at delivery instead)."""
    settings = runtime.settings
    if not settings.slack_bot_token:
        return "Slack: people are linked by email by the running server (hourly, and at delivery)"
    clients = SlackClients(base_url=api_url(settings), bot_token=settings.slack_bot_token)
    learnbot = runtime.app
    try:
        report = await link_people(learnbot.sessions, await clients.for_team(None), learnbot.clock)
    except SlackApiError as exc:
        return (
            f"Slack: could not link people by email ({exc.response.get('error')}); is users:read.email "
            "granted? The server retries every hour and at delivery"
        )
    return f"Slack: {report}"


def add_routes(web_app: web.Application, parts: SlackParts) -> None:
    web_app.router.add_post("/slack/events", parts.adapter.handle_http)
    if parts.installations is not None:
        web_app.router.add_get("/slack/install", parts.adapter.handle_install)
        web_app.router.add_get("/slack/oauth_redirect", parts.adapter.handle_oauth_redirect)


async def attach(web_app: web.Application, runtime: Runtime) -> Attached:
    settings = runtime.settings
    parts = build(
        runtime.app, settings, engine=runtime.engine, metrics=runtime.metrics, limiter=runtime.rate_limiter
    )
    if parts.installations is not None and parts.states is not None:
        await create_oauth_tables(parts.installations, parts.states)
    add_routes(web_app, parts)
    attached = Attached(
        deliverer=parts.deliverer, on_start=[parts.adapter.start], on_stop=[parts.adapter.close]
    )
    linker: list[asyncio.Task[None]] = []

    async def start_linking() -> None:
        learnbot = runtime.app
        # Its own clients: a directory sync waits out a 429, unlike the deliverer's sends.
        clients = SlackClients(
            base_url=api_url(settings), bot_token=settings.slack_bot_token, installations=parts.installations
        )
        task = keep_linking(learnbot.sessions, clients, learnbot.clock)
        linker.append(asyncio.create_task(task))

    async def stop_linking() -> None:
        for task in linker:
            task.cancel()

    attached.on_start.append(start_linking)
    attached.on_stop.append(stop_linking)
    if settings.slack_app_token:
        from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

        handler = AsyncSocketModeHandler(parts.adapter.bolt, settings.slack_app_token)

        async def start_socket_mode() -> None:
            logger.info("connecting to Slack in Socket Mode")
            await handler.connect_async()

        async def stop_socket_mode() -> None:
            await handler.close_async()

        async def socket_mode_connected() -> bool:
            return bool(await handler.client.is_connected())

        attached.on_start.append(start_socket_mode)
        attached.on_stop.insert(0, stop_socket_mode)
        attached.ready["slack_socket_mode"] = socket_mode_connected
    logger.info(
        "Slack adapter ready on POST /slack/events%s", " and Socket Mode" if settings.slack_app_token else ""
    )
    return attached
