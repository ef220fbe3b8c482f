"""Outbox delivery to Slack: DMs and channel posts through ``chat.postMessage``.

Pacing follows Slack's rules for ``chat.postMessage``: about one message per second per
channel, plus a workspace-wide cap (``slack.workspace_per_minute`` in app.yaml), spread evenly
(one send every ``60 / cap`` seconds) rather than in bursts. A 429 pauses the whole workspace
for its ``Retry-After``. Errors that retrying cannot fix become ``Undeliverable`` with a
reason a learning manager can act on. Attachments (an ``.ics`` invitation) follow the message
as file uploads; after a crash between the two, the message is not resent and the file is
missing (logged), which is the lesser harm than a duplicate message.

Exactly once after a crash: every post carries message ``metadata`` (``event_type``
``learnbot_outbox``, payload ``{"key": <idempotency key>}``); :meth:`reconcile` looks for it
with ``conversations.history(include_all_metadata=True)`` since the interrupted attempt.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.directory import PLATFORM, NotInstalled, SlackClients, SlackDirectory, dm_key
from adapters.slack.linking import link_by_email
from adapters.slack.render import render_message
from bot.config import AppConfig, SlackPolicy
from bot.messages import Message
from scheduler.delivery import (
    Ambiguous,
    Delivery,
    NotReachableYet,
    RetryLater,
    SendFailed,
    Throttled,
    Undeliverable,
)
from scheduler.ratelimit import Limit
from scheduler.waiting import Target

logger = logging.getLogger(__name__)

METADATA_EVENT_TYPE = "learnbot_outbox"
WORKSPACE_BURST = 10
HISTORY_PAGES = 20
HISTORY_SLACK = timedelta(minutes=2)
"""Look this far before the interrupted attempt (clock skew between us and Slack)."""

PERMANENT_ERRORS: dict[str, str] = {
    "not_in_channel": "the bot is not a member of the channel: invite it with /invite @Learnbot",
    "channel_not_found": "the channel does not exist or the bot cannot see it: check channels[].slack",
    "is_archived": "the channel is archived",
    "account_inactive": "the person's Slack account is deactivated",
    "user_not_found": "no such Slack user",
    "users_not_found": "no Slack user has this email address",
    "user_disabled": "the person's Slack account is disabled",
    "cannot_dm_bot": "the recipient is a bot",
    "invalid_auth": "the Slack token is invalid: check SLACK_BOT_TOKEN or reinstall the app",
    "not_authed": "no Slack token was sent: check SLACK_BOT_TOKEN",
    "token_revoked": "the Slack token was revoked: reinstall the app",
    "token_expired": "the Slack token expired: reinstall the app",
    "missing_scope": "the Slack app lacks a scope: reinstall it from adapters/slack/manifest.yaml",
    "restricted_action": "a workspace setting forbids the bot from posting here",
    "ekm_access_denied": "the workspace's key management denied access",
    "msg_too_long": "the message is too long for Slack",
    "invalid_blocks": "Slack rejected the message layout",
    "no_text": "the message had no text",
    "team_access_not_granted": "the app is not granted access to this workspace",
}
AMBIGUOUS_ERRORS = {"internal_error", "fatal_error"}
"""Slack: "it's possible some aspect of the operation succeeded before the error was raised"."""
TEMPORARY_ERRORS = {
    "ratelimited",
    "service_unavailable",
    "request_timeout",
    "team_added_to_org",
}


@dataclass(slots=True)
class SlackDeliverer:
    config: AppConfig
    clients: SlackClients
    directory: SlackDirectory
    policy: SlackPolicy
    platform: str = PLATFORM
    asks_platform: bool = True
    """Finding an unlinked person calls ``users.lookupByEmail``: other platforms are asked first."""
    _opened: dict[tuple[str, str], tuple[AsyncWebClient, str]] = field(default_factory=dict)
    """Conversations found by :meth:`prepare`, for the :meth:`send` that follows."""

    # -- pacing -----------------------------------------------------------------------------
    def limits(self, delivery: Delivery) -> list[Limit]:
        team = self._team_of_channel(delivery) if delivery.destination_kind == "channel" else ""
        where = (
            f"channel:{self._channel_setting(delivery)}"
            if delivery.destination_kind == "channel"
            else f"person:{delivery.destination_key}"
        )
        spacing = 60.0 / self.policy.workspace_per_minute
        return [
            Limit(f"slack:{where}", 1, 1.0 / self.policy.per_channel_per_second),
            # Evenly spread, with a little slack: at most WORKSPACE_BURST sends in any
            # WORKSPACE_BURST spacings, so a send that got its turn a few milliseconds late
            # (replicas asking the shared store in turn) does not lose the slot for good.
            # Any 60 s then holds at most workspace_per_minute + WORKSPACE_BURST sends.
            Limit(self._workspace_bucket(team), WORKSPACE_BURST, WORKSPACE_BURST * spacing),
        ]

    def reply_limits(self, conversation: str) -> list[Limit]:
        """The buckets an interactive reply into ``conversation`` counts against: its own
        conversation's, and the workspace's exactly as the outbox counts a DM (same bucket,
        same limit, so the two share one budget)."""
        probe = Delivery(
            outbox_id=0,
            key="reply",
            platform=PLATFORM,
            destination_kind="person",
            destination_key=f"dm:{conversation}",
            message=Message(text=""),
            attempt=1,
        )
        return self.limits(probe)

    @staticmethod
    def workspace_limits(limits: list[Limit]) -> list[Limit]:
        return [limit for limit in limits if limit.bucket.startswith("slack:workspace")]

    def _workspace_bucket(self, team: str | None) -> str:
        # Person destinations may live in any workspace; with one workspace (the usual case)
        # every bucket is the same one, and with OAuth Slack's 429s pace the rest.
        return "slack:workspace" if not team else f"slack:workspace:{team}"

    # -- sending ----------------------------------------------------------------------------
    async def prepare(self, delivery: Delivery) -> None:
        """Before the rate limiter: find or open the conversation, so that once a send is
        paced, the post follows at once (and a Retry-After learnt meanwhile still holds)."""
        self._opened[_destination(delivery)] = await self._opened_conversation(delivery)

    async def send(self, delivery: Delivery) -> str | None:
        text, blocks = render_message(delivery.message)
        opened = self._opened.pop(_destination(delivery), None)
        client, channel = opened or await self._opened_conversation(delivery)
        try:
            response = await client.chat_postMessage(
                channel=channel,
                text=text,
                blocks=blocks,
                unfurl_links=False,
                metadata={"event_type": METADATA_EVENT_TYPE, "event_payload": {"key": delivery.key}},
            )
        except SlackApiError as exc:
            raise self._classify(exc, delivery, posting=True) from exc
        except aiohttp.ClientConnectorError as exc:  # never connected: nothing was posted
            raise RetryLater(f"could not reach Slack: {type(exc).__name__}") from exc
        except (aiohttp.ClientError, TimeoutError) as exc:  # the request may have been read
            raise Ambiguous(f"no answer from Slack after posting: {type(exc).__name__}") from exc
        await send_attachments(client, str(response.get("channel") or channel), delivery.message)
        return f"{response.get('channel')}:{response.get('ts')}"

    async def _opened_conversation(self, delivery: Delivery) -> tuple[AsyncWebClient, str]:
        try:
            return await self._open(delivery)
        except SlackApiError as exc:
            raise self._classify(exc, delivery, posting=False) from exc
        except NotInstalled as exc:
            raise Undeliverable(str(exc)) from exc
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise RetryLater(f"could not reach Slack: {type(exc).__name__}") from exc

    async def _open(self, delivery: Delivery) -> tuple[AsyncWebClient, str]:
        if delivery.destination_kind == "channel":
            team = self._team_of_channel(delivery)
            return await self.clients.for_team(team), self._channel_id(delivery)
        team, user = await self._recipient(delivery)
        client = await self.clients.for_team(team or None)
        return client, await self.directory.dm_channel(client, team or None, user)

    async def _recipient(self, delivery: Delivery) -> tuple[str, str]:
        """The Slack user behind a person: their linked account, else ``users.lookupByEmail``
        (which links them). Not found: the message waits (the email may be fixed, the person
        invited), it does not fail."""
        person_id = int(delivery.destination_key)
        known = await self.directory.slack_user(person_id)
        if known is None and delivery.person_email:
            client = await self.clients.for_team(None)
            if await link_by_email(
                self.directory.sessions, client, self.directory.clock, person_id, delivery.person_email
            ):
                known = await self.directory.slack_user(person_id)
        if known is None:
            raise NotReachableYet(self.why_not(delivery.person_name, delivery.person_email))
        return known

    @staticmethod
    def why_not(name: str, email: str | None) -> str:
        """What an admin must do, in the words ``learnbot reach`` and the outbox show."""
        who = name or email or "this person"
        if not email:
            return f"not reachable in Slack: {who} has no email, so no Slack account can be found"
        return (
            f"not reachable in Slack: no active Slack user has the email {email} (check the email "
            "in the LMS export, or invite them to the workspace)"
        )

    async def reachable(self, target: Target) -> bool:
        """Linked already, else found by ``users.lookupByEmail`` (and linked). Channels do not
        wait in Slack: a post the bot cannot make fails with the reason at once."""
        if target.destination_kind != "person" or target.person_id is None:
            return True
        if await self.directory.slack_user(target.person_id) is not None:
            return True
        if not target.email:
            return False
        client = await self.clients.for_team(None)
        return await link_by_email(
            self.directory.sessions, client, self.directory.clock, target.person_id, target.email
        )

    def _channel_setting(self, delivery: Delivery) -> str:
        for office in self.config.offices:
            for channel in office.channels:
                if channel.key == delivery.destination_key and channel.slack:
                    return channel.slack
        raise Undeliverable(
            f"channel '{delivery.destination_key}' has no Slack id in app.yaml (set channels[].slack)"
        )

    def _channel_id(self, delivery: Delivery) -> str:
        """``C0123`` or, for a multi-workspace install, ``T0456/C0123``."""
        return self._channel_setting(delivery).rsplit("/", 1)[-1]

    def _team_of_channel(self, delivery: Delivery) -> str | None:
        setting = self._channel_setting(delivery)
        return setting.split("/", 1)[0] if "/" in setting else None

    def _classify(self, exc: SlackApiError, delivery: Delivery, *, posting: bool) -> SendFailed:
        """429 -> throttled (pauses the workspace); a 5xx or ``internal_error`` while posting
        -> ambiguous (Slack says some of it may have succeeded); other temporary errors -> not
        delivered; the rest -> rejected with a reason a learning manager can act on."""
        status = exc.response.status_code
        error = str(exc.response.get("error") or f"HTTP {status}")
        if status == 429 or error == "ratelimited":
            retry_after = _retry_after(exc.response.headers)
            team = self._team_of_channel(delivery) if delivery.destination_kind == "channel" else None
            bucket = self._workspace_bucket(team) if posting else None
            return Throttled(f"Slack rate limit ({error})", retry_after, bucket)
        if posting and (status >= 500 or error in AMBIGUOUS_ERRORS):
            return Ambiguous(
                f"Slack answered {error} (HTTP {status})", _retry_after(exc.response.headers, None)
            )
        if status >= 500 or error in TEMPORARY_ERRORS:
            return RetryLater(f"Slack is unavailable ({error})", _retry_after(exc.response.headers, None))
        if error in {"invalid_auth", "token_revoked", "token_expired"}:
            self.clients.forget(None)
        reason = PERMANENT_ERRORS.get(error, "Slack refused the message")
        needed = exc.response.get("needed")
        detail = f" (needs {needed})" if needed else ""
        return Undeliverable(f"{reason}{detail} [slack error: {error}]")

    # -- after a crash ----------------------------------------------------------------------
    async def reconcile(self, delivery: Delivery) -> bool | None:
        """Did the interrupted attempt post this? Look for our metadata in the channel."""
        if delivery.destination_kind == "channel":
            channel: str | None = self._channel_id(delivery)
            client = await self.clients.for_team(self._team_of_channel(delivery))
        else:
            known = await self.directory.slack_user(int(delivery.destination_key))
            if known is None:
                return False  # never linked, so never opened, so never sent
            client = await self.clients.for_team(known[0] or None)
            channel = await self.directory.cached_dm_channel(dm_key(known[0] or None, known[1]))
        if channel is None:
            return False  # the DM was never opened, so nothing was posted
        since = delivery.previously_claimed_at
        oldest = f"{(since - HISTORY_SLACK).timestamp():.6f}" if since else "0"
        cursor: str | None = None
        for _ in range(HISTORY_PAGES):
            try:
                response = await client.conversations_history(
                    channel=channel, oldest=oldest, include_all_metadata=True, limit=200, cursor=cursor
                )
            except SlackApiError as exc:
                if exc.response.get("error") in PERMANENT_ERRORS:
                    return False  # the send will fail with a clear reason
                raise
            for message in response.get("messages") or []:
                if _carries(message, delivery.key):
                    return True
            cursor = ((response.get("response_metadata") or {}).get("next_cursor")) or None
            if not cursor:
                return False
        return None


async def send_attachments(client: AsyncWebClient, channel: str, message: Message) -> None:
    """Upload the message's files (an ``.ics`` invitation) right after it, into the same
    conversation. The message itself has already arrived, so a failed upload is logged and
    never turns into a resend of the message."""
    for name, content in message.attachments.items():
        try:
            await client.files_upload_v2(channel=channel, filename=name, title=name, content=content)
        except (SlackApiError, SlackRequestError, aiohttp.ClientError, TimeoutError) as exc:
            logger.warning("could not attach %s in %s: %s", name, channel, exc)


def _destination(delivery: Delivery) -> tuple[str, str]:
    return delivery.destination_kind, delivery.destination_key


def _carries(message: dict[str, Any], key: str) -> bool:
    metadata = message.get("metadata") or {}
    payload = metadata.get("event_payload") or {}
    return bool(metadata.get("event_type") == METADATA_EVENT_TYPE and payload.get("key") == key)


def _retry_after(headers: Any, default: float | None = 1.0) -> float | None:
    for name, value in dict(headers or {}).items():
        if str(name).lower() == "retry-after":
            try:
                return max(float(value[0] if isinstance(value, list) else value), 0.0)
            except (TypeError, ValueError):
                break
    return default
