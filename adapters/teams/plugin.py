"""The Teams platform plugin for ``learnbot serve``: ``POST /api/messages`` and the deliverer.

Authentication is botbuilder's own (``ConfigurationBotFrameworkAuthentication``): with
``MICROSOFT_APP_ID`` set, every request must carry a valid Bot Framework JWT (401 otherwise);
with no app id, auth is off, as with the Bot Framework Emulator (``LEARNBOT_TEAMS=1``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from aiohttp import web
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from botbuilder.schema import Activity
from botframework.connector.auth import AuthenticateRequestResult, ServiceClientCredentialsFactory

from adapters.plugin import Attached
from adapters.teams.deliverer import TENANT_PER_SECOND, TeamsDeliverer
from adapters.teams.handler import LearnbotTeamsBot
from adapters.teams.inbound import TeamsScreen
from adapters.teams.inbox import RAW_ACTIVITY, TeamsInbox
from adapters.teams.roster import SYNC_EVERY_SECONDS, TeamsRoster, link_stored_rosters
from adapters.teams.sender import TeamsSender
from adapters.webhooks import Rejections
from bot.core import Learnbot
from scheduler.inbox import Inbox
from scheduler.metrics import Metrics
from scheduler.ratelimit import RateLimiter

logger = logging.getLogger(__name__)

NAME = "teams"
ROUTE = "/api/messages"


class Settings(Protocol):
    """What the plugin reads of ``learnbot.settings.Settings`` (adapters don't import the
    composition root; it hands its objects in)."""

    microsoft_app_id: str | None
    microsoft_app_password: str | None
    microsoft_app_tenant_id: str | None
    microsoft_app_type: str | None

    @property
    def teams_configured(self) -> bool: ...


class Runtime(Protocol):
    """What the plugin uses of ``learnbot.runtime.Runtime``."""

    settings: Settings
    app: Learnbot
    metrics: Metrics

    @property
    def rate_limiter(self) -> RateLimiter: ...


def configured(settings: Settings) -> bool:
    return settings.teams_configured


@dataclass(frozen=True, slots=True)
class BotAuthConfig:
    """What ``ConfigurationBotFrameworkAuthentication`` reads (it looks attributes up by name).

    The OpenID metadata URL and token issuer are normally botbuilder's public-cloud defaults;
    they can be pointed elsewhere for a sovereign cloud or a test that signs its own tokens."""

    APP_ID: str = ""
    APP_PASSWORD: str = ""
    APP_TYPE: str = "MultiTenant"
    APP_TENANTID: str = ""
    TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL: str | None = None
    TO_BOT_FROM_CHANNEL_TOKEN_ISSUER: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> BotAuthConfig:
        return cls(
            APP_ID=settings.microsoft_app_id or "",
            APP_PASSWORD=settings.microsoft_app_password or "",
            APP_TYPE=settings.microsoft_app_type or "MultiTenant",
            APP_TENANTID=settings.microsoft_app_tenant_id or "",
        )


class StrictAuthentication(ConfigurationBotFrameworkAuthentication):
    """botbuilder's authentication, where every bad token is a 401.

    botbuilder 4.17 raises ``PermissionError`` (which ``CloudAdapter`` turns into 401) for some
    bad tokens, but lets others escape as PyJWT errors or an ``AttributeError`` on a token it
    could not parse, which would be a 500. Any failure to authenticate is the caller's fault."""

    async def authenticate_request(self, activity: Activity, auth_header: str) -> AuthenticateRequestResult:
        try:
            return await super().authenticate_request(activity, auth_header)
        except PermissionError:
            raise
        except Exception as exc:
            raise PermissionError("invalid Bot Framework token") from exc


@dataclass(slots=True)
class TeamsApp:
    adapter: CloudAdapter
    bot: LearnbotTeamsBot
    sender: TeamsSender
    deliverer: TeamsDeliverer
    roster: TeamsRoster
    screen: TeamsScreen
    inbox: TeamsInbox

    async def messages(self, request: web.Request) -> web.StreamResponse:
        refused = await self.screen.check(request)
        if refused is not None:
            return refused
        body = await request.json()  # the screen has read and checked it: a JSON object
        token = RAW_ACTIVITY.set(body if isinstance(body, dict) else None)
        try:
            response = await self.adapter.process(request, self.inbox)
        except web.HTTPUnauthorized:
            return self.screen.rejections.refuse(request, 401, "invalid Bot Framework token")
        finally:
            RAW_ACTIVITY.reset(token)
        return response if response is not None else web.Response(status=201)


def build(
    app: Learnbot,
    auth: BotAuthConfig,
    *,
    credentials_factory: ServiceClientCredentialsFactory | None = None,
    tenant_per_second: int = TENANT_PER_SECOND,
    metrics: Metrics | None = None,
    limiter: RateLimiter | None = None,
) -> TeamsApp:
    """The adapter, bot, sender, deliverer and inbox for one process; ``limiter`` is the
    delivery worker's, which turn replies share."""
    options: dict[str, Any] = {}
    if credentials_factory is not None:
        options["credentials_factory"] = credentials_factory
    adapter = CloudAdapter(StrictAuthentication(auth, **options))
    sender = TeamsSender(
        adapter,
        auth.APP_ID,
        app.sessions,
        app.clock.now,
        app.config.bot_name,
        timeout=app.config.outbox.send_timeout_seconds,
    )
    public_url = app.config.learning_days.public_url
    roster = TeamsRoster(sender, app.sessions, app.config, app.clock.now)
    deliverer = TeamsDeliverer(
        sender, app.sessions, auth.APP_TENANTID, tenant_per_second, roster, public_url=public_url
    )
    bot = LearnbotTeamsBot(
        app,
        sender,
        app.clock.now,
        roster,
        limiter=limiter or RateLimiter(),
        reply_limits=deliverer.reply_limits,
    )
    policy = app.config.inbox
    inbox = TeamsInbox(
        adapter,
        auth.APP_ID,
        bot,
        Inbox(app.sessions, app.clock, lease=timedelta(seconds=policy.lease_seconds)),
        policy.poll_seconds,
    )
    if not public_url:
        logger.warning(
            "Teams cannot receive calendar files: set LEARNBOT_PUBLIC_URL so learning-day posts "
            "link to their .ics instead"
        )
    if not auth.APP_ID:
        logger.warning(
            "Teams: MICROSOFT_APP_ID is not set, so %s is NOT AUTHENTICATED (Bot Framework Emulator "
            "mode): anyone who can reach it can talk as anyone. It only accepts a loopback "
            "serviceUrl; set MICROSOFT_APP_ID and MICROSOFT_APP_PASSWORD for a real deployment.",
            ROUTE,
        )
    screen = TeamsScreen(auth_required=bool(auth.APP_ID), rejections=Rejections(metrics))
    return TeamsApp(
        adapter=adapter,
        bot=bot,
        sender=sender,
        deliverer=deliverer,
        roster=roster,
        screen=screen,
        inbox=inbox,
    )


async def attach(web_app: web.Application, runtime: Runtime, auth: BotAuthConfig | None = None) -> Attached:
    teams = build(
        runtime.app,
        auth or BotAuthConfig.from_settings(runtime.settings),
        metrics=runtime.metrics,
        limiter=runtime.rate_limiter,
    )
    web_app.router.add_post(ROUTE, teams.messages)
    syncing: list[asyncio.Task[None]] = []

    async def start_syncing() -> None:
        syncing.append(asyncio.create_task(keep_syncing(teams.roster)))

    async def stop_syncing() -> None:
        teams.bot.cancel_roster_reads()
        for task in syncing:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    return Attached(
        deliverer=teams.deliverer,
        on_start=[teams.inbox.start, start_syncing],
        on_stop=[stop_syncing, teams.inbox.close, teams.sender.close],
    )


async def link_known_people(runtime: Runtime) -> str:
    """Right after an LMS import: link the people it brought to the members of the stored Teams
    rosters by email or UPN (no Teams call; ``learnbot teams-link`` re-reads the rosters)."""
    sessions, now = runtime.app.sessions, runtime.app.clock.now
    linked, unmatched = await link_stored_rosters(sessions, now)
    return f"Teams: {linked} person(s) newly linked from the rosters of installed teams" + (
        f"; {unmatched} roster member(s) match nobody Learnbot knows" if unmatched else ""
    )


async def keep_syncing(roster: TeamsRoster, every: float = SYNC_EVERY_SECONDS) -> None:
    """Re-read every installed team's roster and channels at start (events are missed while
    the server is down) and then every ``every`` seconds; errors are logged and retried."""
    while True:
        try:
            for report in await roster.sync_all():
                logger.info("scheduled Teams roster sync: %s", report)
        except Exception:
            logger.exception("the scheduled Teams roster sync failed; will try again")
        await asyncio.sleep(every)
