"""Proactive sends to a stored reference, through botbuilder's Bot Connector client.

Used by the outbox deliverer and by replies that must go to a person's 1:1 chat although the
command came from a channel. Bot Connector errors become the outbox's vocabulary: 429, 412,
502, 503, 504 and network errors are :class:`RetryLater` (with the Retry-After the service
gave); 403 and 404 mean the bot was removed or blocked, :class:`Undeliverable`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

import aiohttp
from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import (
    Activity,
    ChannelAccount,
    ConversationAccount,
    ConversationParameters,
    ConversationReference,
)
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import AuthenticationConstants
from msrest.exceptions import ClientRequestError, HttpOperationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.teams import refs
from adapters.teams.refs import StoredRef
from scheduler.delivery import Ambiguous, RetryLater, Undeliverable
from scheduler.delivery import Throttled as OutboxThrottled

logger = logging.getLogger(__name__)

RETRYABLE = {412, 429, 500, 502, 503, 504}
AMBIGUOUS = {500, 504}
"""A server error, or a gateway that gave up waiting: the Bot Connector may have delivered the
message. (412, 502 and 503 mean it was not taken.)"""
UNREACHABLE = {401, 403, 404}


def http_status(exc: HttpOperationError) -> tuple[int | None, float | None]:
    """The HTTP status and Retry-After (seconds) of a Bot Connector error."""
    response = exc.response
    status = getattr(response, "status_code", None) or getattr(response, "status", None)
    retry_after: float | None = None
    headers = getattr(response, "headers", None) or {}
    raw = headers.get("Retry-After") if hasattr(headers, "get") else None
    if raw:
        try:
            retry_after = max(float(raw), 0.0)
        except ValueError:
            retry_after = None
    return (int(status) if status else None), retry_after


def _never_connected(exc: BaseException) -> bool:
    """True when the request cannot have reached Teams (the connection was never made)."""
    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None:
            return False
        if isinstance(seen, aiohttp.ClientConnectorError | ConnectionRefusedError):
            return True
        seen = getattr(seen, "inner_exception", None) or seen.__cause__ or seen.__context__
    return False


def to_reference(ref: StoredRef, bot_name: str = "Learnbot") -> ConversationReference:
    """The botbuilder reference for a stored one. Names are filled in when Teams did not give
    them (the Activity schema wants a name on ``from`` and ``recipient``)."""
    return ConversationReference(
        channel_id=ref.channel_id,
        service_url=ref.service_url,
        bot=ChannelAccount(id=ref.bot_id, name=ref.bot_name or bot_name),
        user=ChannelAccount(id=ref.user_id, name=ref.user_name or ref.user_id) if ref.user_id else None,
        conversation=ConversationAccount(
            id=ref.conversation_id,
            tenant_id=ref.tenant_id or None,
            conversation_type=ref.conversation_type,
            is_group=ref.conversation_type != "personal",
        ),
    )


class Throttled(OutboxThrottled):
    """Teams answered 429: the message was refused, not processed, so resending is safe."""


class TeamsSender:
    def __init__(
        self,
        adapter: CloudAdapter,
        app_id: str,
        sessions: async_sessionmaker[AsyncSession],
        now: Callable[[], datetime],
        bot_name: str = "Learnbot",
        timeout: float = 15.0,
    ) -> None:
        self.adapter = adapter
        self.timeout = timeout
        """Seconds msrest waits for the Bot Connector (its default, 100 s, would stall a worker)."""
        self.bot_name = bot_name
        self._clients: dict[str, ConnectorClient] = {}
        self.app_id = app_id
        self.sessions = sessions
        self.now = now

    async def send(self, owner_kind: str, owner_key: str, ref: StoredRef, activity: dict[str, Any]) -> str:
        """Send ``activity`` to the reference's conversation (creating a 1:1 chat first if the
        person has none yet); returns the Teams activity id."""
        what = f"{owner_kind} {owner_key}"
        posting = False
        try:
            if not ref.conversation_id:
                ref = await self._create_personal(owner_kind, owner_key, ref)
            client = await self._client(ref.service_url)
            outgoing = TurnContext.apply_conversation_reference(
                Activity().deserialize(activity), to_reference(ref, self.bot_name)
            )
            posting = True
            response = await client.conversations.send_to_conversation(ref.conversation_id, outgoing)
            return str(response.id) if response is not None and response.id else ""
        except HttpOperationError as exc:
            status, retry_after = http_status(exc)
            if status == 429:
                raise Throttled(f"Teams answered 429 for {what}", retry_after) from exc
            if posting and status in AMBIGUOUS:
                raise Ambiguous(f"Teams answered {status} for {what}", retry_after) from exc
            if status in RETRYABLE:
                raise RetryLater(f"Teams answered {status} for {what}", retry_after) from exc
            if status in UNREACHABLE:
                raise Undeliverable(
                    f"unreachable in Teams (HTTP {status}): Learnbot was removed or blocked for {what}"
                ) from exc
            raise Undeliverable(f"Teams refused the message to {what} (HTTP {status}): {exc}") from exc
        except (TimeoutError, ClientRequestError, aiohttp.ClientError, ConnectionError) as exc:
            if posting and not _never_connected(exc):
                raise Ambiguous(f"no answer from the Bot Connector for {what}: {exc}") from exc
            raise RetryLater(f"could not reach the Bot Connector at {ref.service_url}: {exc}") from exc

    async def connector(self, service_url: str) -> ConnectorClient:
        """The shared Bot Connector client for ``service_url`` (roster reads use it too)."""
        return await self._client(service_url)

    async def _client(self, service_url: str) -> ConnectorClient:
        """One Bot Connector client per service URL, reused for every proactive send.

        ``CloudAdapter.continue_conversation`` would build a new client (and a user-token client)
        for each message; msrest's client set-up alone costs ~20 ms of CPU, which at Teams' 50
        messages a second per tenant would be most of a core. Credentials refresh their own token,
        so a long-lived client stays valid."""
        client = self._clients.get(service_url)
        if client is None:
            claims = self.adapter.create_claims_identity(self.app_id)
            claims.claims[AuthenticationConstants.SERVICE_URL_CLAIM] = service_url
            factory = self.adapter.bot_framework_authentication.create_connector_factory(claims)
            client = await factory.create(service_url, None)
            client.config.connection.timeout = self.timeout
            await client.__aenter__()  # keep one HTTP session open instead of one per request
            self._clients[service_url] = client
        return client

    async def close(self) -> None:
        for client in self._clients.values():
            await client.__aexit__(None, None, None)
        self._clients.clear()

    async def _create_personal(self, owner_kind: str, owner_key: str, ref: StoredRef) -> StoredRef:
        """Open the bot's 1:1 chat with a person known from a team, and remember it."""
        if not ref.user_id:
            raise Undeliverable(f"not reachable in Teams: no conversation for {owner_kind} {owner_key}")
        parameters = ConversationParameters(
            is_group=False,
            bot=ChannelAccount(id=ref.bot_id, name=ref.bot_name or self.bot_name),
            members=[ChannelAccount(id=ref.user_id, name=ref.user_name or None)],
            tenant_id=ref.tenant_id or None,
            channel_data={"tenant": {"id": ref.tenant_id}} if ref.tenant_id else None,
        )
        # The shared client, not CloudAdapter.create_conversation, which builds a new connector
        # client (~20 ms of CPU) per call: a roster of thousands opens thousands of chats.
        client = await self._client(ref.service_url)
        response = await client.conversations.create_conversation(parameters)
        created = {"id": str(response.id)} if response is not None and response.id else {}
        if not created.get("id"):
            raise RetryLater(f"Teams created no conversation for {owner_kind} {owner_key}")
        updated = replace(ref, conversation_id=created["id"])
        async with self.sessions() as session, session.begin():
            await refs.save(session, owner_kind, owner_key, updated, self.now())
        logger.info("opened a Teams 1:1 chat for %s %s", owner_kind, owner_key)
        return updated
