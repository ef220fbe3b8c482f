"""Who a Slack user is and how to reach them, cached in the core tables.

* Profiles: a Slack user seen for the first time is looked up with ``users.info`` (email,
  display name, time zone, locale) so the core can link them to the same person as their
  Teams account, by email. Once linked (a ``PlatformAccount`` row exists and the person has an
  email), the database answers and Slack is not asked again.
* DM channels: ``conversations.open`` once per person, the channel id kept in
  ``ConversationRef`` (``owner_kind="person"``, ``owner_key="<team>/<user>"``) so proactive
  messages after a restart or on another replica need no extra call.
* Tokens: one bot token, or with OAuth the installation store's bot token per workspace.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import datetime

from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import desc, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.events import Actor
from storage.models import ConversationRef, Person, PlatformAccount

logger = logging.getLogger(__name__)

PLATFORM = "slack"


class NotInstalled(Exception):
    """No bot token for this workspace (OAuth mode and the app was never installed there)."""


RATE_LIMIT_RETRIES = 3


def web_client(
    token: str | None, base_url: str, *, retry_rate_limits: bool = True, timeout: int = 30
) -> AsyncWebClient:
    """An ``AsyncWebClient`` that waits out a 429 (``Retry-After``) and retries, up to
    ``RATE_LIMIT_RETRIES`` times, besides slack_sdk's default retry of connection errors: a
    directory sync (``users.list`` pages) must survive Slack's rate limits.

    The outbox deliverer asks for ``retry_rate_limits=False``: it turns a 429 into a paused
    workspace and a later attempt (every send then waits, not only the one that was refused)."""
    if not retry_rate_limits:
        # No automatic retries at all: the outbox owns them. slack_sdk's default handler resends
        # a post whose connection dropped, which may have been posted already (a duplicate).
        return AsyncWebClient(token=token, base_url=base_url, timeout=timeout, retry_handlers=[])
    return retrying_rate_limits(AsyncWebClient(token=token, base_url=base_url, timeout=timeout))


def retrying_rate_limits(client: AsyncWebClient) -> AsyncWebClient:
    """``client`` with slack_sdk's 429 retry handler added (once)."""
    if not any(isinstance(h, AsyncRateLimitErrorRetryHandler) for h in client.retry_handlers):
        client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES))
    return client


@dataclass(slots=True)
class SlackClients:
    """An ``AsyncWebClient`` per workspace: the single bot token, or the token the OAuth
    installation store holds for that workspace."""

    base_url: str
    bot_token: str | None = None
    installations: AsyncSQLAlchemyInstallationStore | None = None
    retry_rate_limits: bool = True
    timeout: int = 30
    """Seconds before a call is given up (slack_sdk's own timeout; the outbox uses a short one)."""
    _by_team: dict[str, AsyncWebClient] = field(default_factory=dict)

    async def for_team(self, team_id: str | None) -> AsyncWebClient:
        key = team_id or ""
        client = self._by_team.get(key)
        if client is not None:
            return client
        token = self.bot_token if self.installations is None else await self._installed_token(team_id)
        client = web_client(
            token, self.base_url, retry_rate_limits=self.retry_rate_limits, timeout=self.timeout
        )
        self._by_team[key] = client
        return client

    def forget(self, team_id: str | None) -> None:
        """Drop a cached client (its token was revoked or rotated)."""
        self._by_team.pop(team_id or "", None)

    async def _installed_token(self, team_id: str | None) -> str:
        store = self.installations
        assert store is not None
        if team_id:
            bot = await store.async_find_bot(enterprise_id=None, team_id=team_id)
            if bot is None or not bot.bot_token:
                raise NotInstalled(f"Learnbot is not installed in Slack workspace {team_id}")
            return bot.bot_token
        # A channel in app.yaml without a workspace: the most recently installed workspace.
        columns = store.bots.c
        query = (
            select(columns.bot_token, columns.team_id)
            .where(columns.client_id == store.client_id, columns.bot_token.is_not(None))
            .order_by(desc(columns.installed_at))
            .limit(1)
        )
        async with store.engine.connect() as conn:
            row = (await conn.execute(query)).first()
        if row is None:
            raise NotInstalled("Learnbot is not installed in any Slack workspace yet (open /slack/install)")
        return str(row.bot_token)


def dm_key(team_id: str | None, user_id: str) -> str:
    return f"{team_id or ''}/{user_id}"


@dataclass(slots=True)
class SlackDirectory:
    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    office_field: str | None = None
    """``directory.slack_office_field`` from app.yaml: a custom profile field id or label."""

    async def actor(self, client: AsyncWebClient, team_id: str | None, user_id: str) -> Actor:
        """The actor for a Slack user, with the profile from the database when this user is
        already linked to a person with an email, else from ``users.info``."""
        async with self.sessions() as session:
            person = await session.scalar(
                select(Person)
                .join(PlatformAccount, PlatformAccount.person_id == Person.id)
                .where(
                    PlatformAccount.platform == PLATFORM,
                    PlatformAccount.workspace_id == (team_id or ""),
                    PlatformAccount.external_id == user_id,
                )
            )
        if person is not None and person.email:
            return Actor(
                platform=PLATFORM,
                user_id=user_id,
                email=person.email,
                display_name=person.display_name or None,
                timezone=person.timezone,
                locale=person.locale,
                workspace_id=team_id,
            )
        return await self.lookup(client, team_id, user_id)

    async def lookup(self, client: AsyncWebClient, team_id: str | None, user_id: str) -> Actor:
        try:
            response = await client.users_info(user=user_id, include_locale=True)
        except SlackApiError as exc:
            # Without users:read.email the person is still served; they just are not linked
            # to their other platforms until an admin adds the scope.
            logger.warning("users.info for %s failed: %s", user_id, exc.response.get("error"))
            return Actor(platform=PLATFORM, user_id=user_id, workspace_id=team_id)
        user = response.get("user") or {}
        actor = actor_from_user(user, team_id)
        if self.office_field:
            actor = replace(actor, office_label=await self.office_label(client, user_id))
        return actor

    async def office_label(self, client: AsyncWebClient, user_id: str) -> str | None:
        """The value of the configured office field of this user's profile. ``users.info``
        leaves custom fields out, so this asks ``users.profile.get`` (scope
        ``users.profile:read``); a failure only means the office comes from elsewhere."""
        try:
            response = await client.users_profile_get(user=user_id, include_labels=True)
        except SlackApiError as exc:
            logger.warning("users.profile.get for %s failed: %s", user_id, exc.response.get("error"))
            return None
        profile = response.get("profile") or {}
        return profile_field(profile, self.office_field or "")

    async def dm_channel(self, client: AsyncWebClient, team_id: str | None, user_id: str) -> str:
        """The bot's DM channel with this user (opened once, then read from the database)."""
        key = dm_key(team_id, user_id)
        cached = await self.cached_dm_channel(key)
        if cached:
            return cached
        response = await client.conversations_open(users=user_id)
        channel = str((response.get("channel") or {})["id"])
        await self.remember_dm_channel(key, channel, user_id, team_id)
        return channel

    async def cached_dm_channel(self, key: str) -> str | None:
        async with self.sessions() as session:
            ref = await session.scalar(
                select(ConversationRef).where(
                    ConversationRef.platform == PLATFORM,
                    ConversationRef.owner_kind == "person",
                    ConversationRef.owner_key == key,
                )
            )
        return str(ref.reference["channel"]) if ref else None

    async def remember_dm_channel(self, key: str, channel: str, user_id: str, team_id: str | None) -> None:
        now: datetime = self.clock.now()
        try:
            async with self.sessions() as session, session.begin():
                session.add(
                    ConversationRef(
                        platform=PLATFORM,
                        owner_kind="person",
                        owner_key=key,
                        reference={"channel": channel, "user": user_id, "team": team_id or ""},
                        updated_at=now,
                    )
                )
        except IntegrityError:
            logger.debug("DM channel for %s was stored concurrently", key)

    async def slack_user(self, person_id: int) -> tuple[str, str] | None:
        """``(team_id, user_id)`` of the person's most recently seen Slack account."""
        async with self.sessions() as session:
            account = await session.scalar(
                select(PlatformAccount)
                .where(PlatformAccount.person_id == person_id, PlatformAccount.platform == PLATFORM)
                .order_by(PlatformAccount.last_seen_at.desc())
                .limit(1)
            )
        return (account.workspace_id, account.external_id) if account else None


def profile_field(profile: dict[str, object], wanted: str) -> str | None:
    """A custom field's value from a Slack profile, the field named by id or by label
    (labels compared case-insensitively)."""
    fields = profile.get("fields")
    if not isinstance(fields, dict):
        return None
    for field_id, entry in fields.items():
        if not isinstance(entry, dict):
            continue
        label = str(entry.get("label") or "")
        if field_id == wanted or label.strip().casefold() == wanted.strip().casefold():
            value = entry.get("value")
            return value.strip() or None if isinstance(value, str) else None
    return None


def actor_from_user(user: dict[str, object], team_id: str | None) -> Actor:
    """An actor from a Slack user object (``users.info``'s ``user``, or ``team_join``'s)."""
    profile = user.get("profile")
    profile = profile if isinstance(profile, dict) else {}

    def text(value: object) -> str | None:
        return value.strip() or None if isinstance(value, str) else None

    return Actor(
        platform=PLATFORM,
        user_id=str(user.get("id", "")),
        email=text(profile.get("email")),
        # The full name, as colleagues know it; the display name is often a nickname.
        display_name=text(profile.get("real_name"))
        or text(user.get("real_name"))
        or text(profile.get("display_name")),
        timezone=text(user.get("tz")),
        locale=text(user.get("locale")),
        workspace_id=team_id or text(user.get("team_id")),
    )
