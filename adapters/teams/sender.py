"""Proactive sends to a stored reference, through botbuilder's CloudAdapter.

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
from msrest.exceptions import ClientRequestError, HttpOperationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.teams import refs
from adapters.teams.refs import StoredRef
from scheduler.delivery import RetryLater, Undeliverable

logger = logging.getLogger(__name__)

RETRYABLE = {412, 429, 500, 502, 503, 504}
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


def to_reference(ref: StoredRef) -> ConversationReference:
    return ConversationReference(
        channel_id=ref.channel_id,
        service_url=ref.service_url,
        bot=ChannelAccount(id=ref.bot_id, name=ref.bot_name or None),
        user=ChannelAccount(id=ref.user_id, name=ref.user_name or None) if ref.user_id else None,
        conversation=ConversationAccount(
            id=ref.conversation_id,
            tenant_id=ref.tenant_id or None,
            conversation_type=ref.conversation_type,
            is_group=ref.conversation_type != "personal",
        ),
    )


class TeamsSender:
    def __init__(
        self,
        adapter: CloudAdapter,
        app_id: str,
        sessions: async_sessionmaker[AsyncSession],
        now: Callable[[], datetime],
    ) -> None:
        self.adapter = adapter
        self.app_id = app_id
        self.sessions = sessions
        self.now = now

    async def send(self, owner_kind: str, owner_key: str, ref: StoredRef, activity: dict[str, Any]) -> str:
        """Send ``activity`` to the reference's conversation (creating a 1:1 chat first if the
        person has none yet); returns the Teams activity id."""
        what = f"{owner_kind} {owner_key}"
        try:
            if not ref.conversation_id:
                ref = await self._create_personal(owner_kind, owner_key, ref)
            sent: dict[str, str] = {}

            async def callback(context: TurnContext) -> None:
                response = await context.send_activity(Activity().deserialize(activity))
                sent["id"] = response.id if response and response.id else ""

            await self.adapter.continue_conversation(to_reference(ref), callback, bot_app_id=self.app_id)
            return sent.get("id", "")
        except HttpOperationError as exc:
            status, retry_after = http_status(exc)
            if status in RETRYABLE:
                raise RetryLater(f"Teams answered {status} for {what}", retry_after) from exc
            if status in UNREACHABLE:
                raise Undeliverable(
                    f"unreachable in Teams (HTTP {status}): Learnbot was removed or blocked for {what}"
                ) from exc
            raise Undeliverable(f"Teams refused the message to {what} (HTTP {status}): {exc}") from exc
        except (TimeoutError, ClientRequestError, aiohttp.ClientError, ConnectionError) as exc:
            raise RetryLater(f"could not reach the Bot Connector at {ref.service_url}: {exc}") from exc

    async def _create_personal(self, owner_kind: str, owner_key: str, ref: StoredRef) -> StoredRef:
        """Open the bot's 1:1 chat with a person known from a team, and remember it."""
        if not ref.user_id:
            raise Undeliverable(f"not reachable in Teams: no conversation for {owner_kind} {owner_key}")
        created: dict[str, str] = {}

        async def callback(context: TurnContext) -> None:
            created["id"] = context.activity.conversation.id

        parameters = ConversationParameters(
            is_group=False,
            bot=ChannelAccount(id=ref.bot_id, name=ref.bot_name or None),
            members=[ChannelAccount(id=ref.user_id)],
            tenant_id=ref.tenant_id or None,
            channel_data={"tenant": {"id": ref.tenant_id}} if ref.tenant_id else None,
        )
        await self.adapter.create_conversation(
            self.app_id, callback, parameters, ref.channel_id, ref.service_url
        )
        if not created.get("id"):
            raise RetryLater(f"Teams created no conversation for {owner_kind} {owner_key}")
        updated = replace(ref, conversation_id=created["id"])
        async with self.sessions() as session, session.begin():
            await refs.save(session, owner_kind, owner_key, updated, self.now())
        logger.info("opened a Teams 1:1 chat for %s %s", owner_kind, owner_key)
        return updated
