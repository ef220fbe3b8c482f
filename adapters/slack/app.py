"""Learnbot as a Slack app on slack-bolt's ``AsyncApp``.

Bolt verifies signatures (a bad or stale one gets 401 before any listener runs), answers
``url_verification`` and ``ssl_check``, and acks. Every listener here acks, then hands the real
work to a background task it tracks (``process_before_response=True``: the listener itself
returns in microseconds, so the ack goes out at once and Bolt never waits on the core). The task
translates the payload to a neutral event, lets the core handle it and sends the replies back
where the person will see them.

Where replies go:

* a slash command: into the person's DM with the bot when the reply asks for a DM
  (``Message.dm``) or the command was typed in a DM; otherwise privately via ``response_url``
  (an ephemeral message only they see);
* a DM to the bot: into that DM; an @mention in a channel: an ephemeral message to the person;
* a button: into the DM it was pressed in, else via ``response_url``; a Form in the reply opens
  as a modal with the click's ``trigger_id``; the modal's submission is a ``ButtonPressed``;
* the App Home tab: the core's home sections are published with ``views.publish``.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import re
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_bolt.oauth.async_oauth_flow import AsyncOAuthFlow
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from adapters.files import download
from adapters.slack.deliverer import send_attachments
from adapters.slack.directory import PLATFORM, SlackDirectory, actor_from_user
from adapters.slack.inbound import SlackScreen
from adapters.slack.render import (
    FORM_CALLBACK_ID,
    LINK_ACTION_PREFIX,
    find_form,
    form_values,
    render_home,
    render_message,
    render_modal,
    strip_action_suffix,
)
from bot.core import Learnbot
from bot.events import (
    Actor,
    ButtonPressed,
    CommandInvoked,
    Conversation,
    Event,
    FileShared,
    HomeOpened,
    MemberJoined,
    MessageReceived,
)
from bot.messages import PRIVATE_POINTER, Message, plain
from scheduler.metrics import Metrics

logger = logging.getLogger(__name__)

COMMANDS = ("skillshare", "learning")
CLOSE_SECONDS = 10.0
ACKS_FIRST_SECONDS = 0.5
BURST_GAP_SECONDS = 0.02
WORK_CONCURRENCY = 8
"""Workers handling requests after their acks: enough to overlap Slack and database round
trips, few enough that a new request's ack never queues behind dozens of them."""
_MENTION = re.compile(r"<@[UW][A-Z0-9]+(?:\|[^>]*)?>")


@dataclass(frozen=True, slots=True)
class ReplyTarget:
    """Where a person is, for answering them: their ids, the conversation and the platform
    handles that came with the payload (``response_url``, ``trigger_id``)."""

    team_id: str | None
    user_id: str
    channel_id: str | None = None
    is_dm: bool = False
    response_url: str | None = None
    trigger_id: str | None = None
    ephemeral_in_channel: bool = False
    pressed: bool = False
    """A button press: ``response_url`` can replace the message the button was on."""


@dataclass(slots=True)
class SlackAdapter:
    """The Bolt app plus the workers doing the work after each ack."""

    learnbot: Learnbot
    bolt: AsyncApp
    directory: SlackDirectory
    screen: SlackScreen = field(default_factory=lambda: SlackScreen(None))
    metrics: Metrics = field(default_factory=Metrics)
    _queue: asyncio.Queue[tuple[Coroutine[Any, Any, None], str, float]] = field(default_factory=asyncio.Queue)
    _workers: list[asyncio.Task[None]] = field(default_factory=list)
    _in_flight: int = 0
    _last_answered: float = 0.0
    _quiet: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        bolt = self.bolt
        for name in COMMANDS:
            bolt.command(f"/{name}")(self._on_command)
        bolt.event("message")(self._on_message)
        bolt.event("app_mention")(self._on_mention)
        bolt.event("app_home_opened")(self._on_home)
        bolt.event("team_join")(self._on_team_join)
        bolt.event("member_joined_channel")(self._on_member_joined_channel)
        bolt.action(re.compile(".+"))(self._on_action)
        bolt.view_submission(FORM_CALLBACK_ID)(self._on_view_submission)
        bolt.view_closed(FORM_CALLBACK_ID)(self._on_view_closed)

    # -- HTTP glue --------------------------------------------------------------------------
    async def handle_http(self, request: web.Request) -> web.Response:
        """``POST /slack/events``: Events API, slash commands and interactivity."""
        refused = await self.screen.check(request)
        if refused is not None:
            return refused
        try:
            bolt_request = await to_bolt_request(request)
        except (TypeError, AttributeError, KeyError, ValueError) as exc:
            # Signed, valid JSON, but not shaped like anything Slack sends (``"event": null``):
            # Bolt's context extraction fails on it.
            reason = f"unreadable Slack payload ({type(exc).__name__})"
            return self.screen.rejections.refuse(request, 400, reason)
        self._in_flight += 1
        self._quiet.clear()
        try:
            bolt_response = await self.bolt.async_dispatch(bolt_request)
            return await to_aiohttp_response(bolt_response)
        finally:
            self._in_flight -= 1
            self._last_answered = asyncio.get_running_loop().time()
            if not self._in_flight:
                self._quiet.set()

    async def handle_install(self, request: web.Request) -> web.Response:
        flow = self._oauth_flow()
        return await to_aiohttp_response(await flow.handle_installation(await to_bolt_request(request)))

    async def handle_oauth_redirect(self, request: web.Request) -> web.Response:
        flow = self._oauth_flow()
        return await to_aiohttp_response(await flow.handle_callback(await to_bolt_request(request)))

    def _oauth_flow(self) -> AsyncOAuthFlow:
        flow = self.bolt.oauth_flow
        if flow is None:
            raise web.HTTPNotFound(
                text="OAuth is not configured (set SLACK_CLIENT_ID and SLACK_CLIENT_SECRET)"
            )
        return flow

    # -- background work --------------------------------------------------------------------
    def spawn(self, work: Coroutine[Any, Any, None], what: str) -> None:
        """Queue ``work`` to run after the ack; a few workers take it in arrival order."""
        if not self._workers:
            self._workers = [asyncio.create_task(self._work()) for _ in range(WORK_CONCURRENCY)]
        self._queue.put_nowait((work, what, time.monotonic()))
        self.metrics.inbox_waiting.labels(PLATFORM).set(self._queue.qsize())

    async def _work(self) -> None:
        while True:
            work, what, acked = await self._queue.get()
            try:
                await self._acks_first()
                self.metrics.inbox_lag.labels(PLATFORM).observe(time.monotonic() - acked)
                self.metrics.inbox_waiting.labels(PLATFORM).set(self._queue.qsize())
                await work
            except Exception:
                logger.exception("handling a Slack %s failed", what)
            finally:
                self._queue.task_done()

    async def _acks_first(self) -> None:
        """Acks first: wait until no request has been in flight for ``BURST_GAP_SECONDS``
        (requests of one burst arrive milliseconds apart), so a burst of 50 commands is acked
        before the bot starts thinking about any of them; never longer than
        ``ACKS_FIRST_SECONDS`` under a steady stream."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + ACKS_FIRST_SECONDS
        while loop.time() < deadline:
            if self._in_flight:
                try:
                    async with asyncio.timeout_at(deadline):
                        await self._quiet.wait()
                except TimeoutError:
                    return
                continue
            quiet_for = loop.time() - self._last_answered
            if quiet_for >= BURST_GAP_SECONDS:
                return
            await asyncio.sleep(BURST_GAP_SECONDS - quiet_for)

    async def idle(self) -> None:
        """Wait until every acked request has been fully handled (tests, shutdown)."""
        await self._queue.join()

    async def close(self) -> None:
        try:
            await asyncio.wait_for(self.idle(), CLOSE_SECONDS)
        except TimeoutError:
            logger.warning("stopping with %s Slack request(s) not handled", self._queue.qsize())
        for worker in self._workers:
            worker.cancel()
        while not self._queue.empty():
            work, _what, _acked = self._queue.get_nowait()
            work.close()
            self._queue.task_done()

    # -- listeners: ack, then work after the ack ---------------------------------------------
    async def _on_command(self, ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
        await ack()
        self.spawn(self._command(body, _client(context)), "slash command")

    async def _on_message(
        self, body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        if event.get("channel_type") != "im" or event.get("bot_id"):
            return
        if event.get("subtype") == "file_share" and event.get("files"):
            self.spawn(self._file_share(body, event, _client(context)), "file share")
            return
        if event.get("subtype"):
            return
        self.spawn(self._message(body, event, _client(context), mention=False), "direct message")

    async def _on_mention(
        self, body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        if event.get("bot_id"):
            return
        self.spawn(self._message(body, event, _client(context), mention=True), "mention")

    async def _on_home(self, body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext) -> None:
        if event.get("tab", "home") != "home":
            return
        self.spawn(self._home(body, event, _client(context)), "App Home")

    async def _on_team_join(
        self, body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        user = event.get("user") or {}
        if not isinstance(user, dict) or user.get("is_bot") or user.get("deleted"):
            return
        actor = actor_from_user(user, body.get("team_id"))
        self.spawn(self._joined(body, actor, _client(context)), "team_join")

    async def _on_member_joined_channel(
        self, body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        channel = str(event.get("channel", ""))
        if channel not in self._office_channels() or event.get("user") == context.bot_user_id:
            return
        self.spawn(self._member_joined(body, event, _client(context)), "member_joined_channel")

    async def _on_action(self, ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
        await ack()
        action = (body.get("actions") or [{}])[0]
        if str(action.get("action_id", "")).startswith(LINK_ACTION_PREFIX):
            return  # a URL button: Slack opened the link; nothing to do
        self.spawn(self._action(body, action, _client(context)), "button")

    async def _on_view_submission(
        self, ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        await ack()
        self.spawn(self._submission(body, _client(context)), "form")

    async def _on_view_closed(self, ack: AsyncAck) -> None:
        await ack()

    # -- translation --------------------------------------------------------------------------
    async def _command(self, body: dict[str, Any], client: AsyncWebClient) -> None:
        team, user, channel = body.get("team_id"), str(body["user_id"]), body.get("channel_id")
        is_dm = body.get("channel_name") == "directmessage" or str(channel or "").startswith("D")
        target = ReplyTarget(
            team_id=team,
            user_id=user,
            channel_id=channel,
            is_dm=is_dm,
            response_url=body.get("response_url"),
            trigger_id=body.get("trigger_id"),
        )
        event = CommandInvoked(
            actor=await self.directory.actor(client, team, user),
            conversation=Conversation(
                id=channel or user, is_direct=is_dm, channel_name=body.get("channel_name")
            ),
            event_id=f"command:{body.get('trigger_id')}" if body.get("trigger_id") else None,
            name=str(body.get("command", "")).lstrip("/"),
            text=_unescape_incoming(str(body.get("text") or "")).strip(),
            raw=body,
        )
        await self._answer(client, event, target)

    async def _message(
        self, body: dict[str, Any], event: dict[str, Any], client: AsyncWebClient, *, mention: bool
    ) -> None:
        team = body.get("team_id") or event.get("team")
        user, channel = str(event["user"]), str(event["channel"])
        text = str(event.get("text") or "")
        if mention:
            text = _MENTION.sub("", text)
        is_dm = not mention
        target = ReplyTarget(
            team_id=team, user_id=user, channel_id=channel, is_dm=is_dm, ephemeral_in_channel=mention
        )
        neutral = MessageReceived(
            actor=await self.directory.actor(client, team, user),
            conversation=Conversation(id=channel, is_direct=is_dm),
            event_id=body.get("event_id"),
            text=_unescape_incoming(text).strip(),
            raw=body,
        )
        if is_dm:
            await self.directory.remember_dm_channel(f"{team or ''}/{user}", channel, user, team)
        await self._answer(client, neutral, target)

    async def _file_share(self, body: dict[str, Any], event: dict[str, Any], client: AsyncWebClient) -> None:
        """A file sent in the DM (``message`` with subtype ``file_share``): each file becomes a
        :class:`FileShared`; its bytes come from ``url_private_download`` with the bot token."""
        team = body.get("team_id") or event.get("team")
        user, channel = str(event["user"]), str(event["channel"])
        target = ReplyTarget(team_id=team, user_id=user, channel_id=channel, is_dm=True)
        actor = await self.directory.actor(client, team, user)
        headers = {"Authorization": f"Bearer {client.token}"} if client.token else {}
        for index, shared in enumerate(event.get("files") or []):
            url = str(shared.get("url_private_download") or shared.get("url_private") or "")
            if not url:
                continue
            neutral = FileShared(
                actor=actor,
                conversation=Conversation(id=channel, is_direct=True),
                event_id=f"{body.get('event_id')}:{index}" if body.get("event_id") else None,
                name=str(shared.get("name") or shared.get("title") or "file"),
                size=int(shared.get("size") or 0),
                fetch=functools.partial(download, url, headers=headers),
                text=_unescape_incoming(str(event.get("text") or "")).strip(),
                raw=body,
            )
            await self._answer(client, neutral, target)

    async def _home(self, body: dict[str, Any], event: dict[str, Any], client: AsyncWebClient) -> None:
        team, user = body.get("team_id"), str(event["user"])
        neutral = HomeOpened(
            actor=await self.directory.actor(client, team, user),
            conversation=Conversation(id=str(event.get("channel") or user), is_direct=True),
            event_id=body.get("event_id"),
            raw=body,
        )
        replies = await self.learnbot.handle(neutral)
        if replies:
            await client.views_publish(user_id=user, view=render_home(replies))

    async def _joined(self, body: dict[str, Any], actor: Actor, client: AsyncWebClient) -> None:
        if not actor.email:
            actor = await self.directory.actor(client, actor.workspace_id, actor.user_id)
        event = MemberJoined(
            actor=actor,
            conversation=Conversation(id=actor.user_id, is_direct=True),
            event_id=body.get("event_id"),
            raw=body,
        )
        await self._answer(
            client, event, ReplyTarget(team_id=actor.workspace_id, user_id=actor.user_id, is_dm=True)
        )

    async def _member_joined(
        self, body: dict[str, Any], event: dict[str, Any], client: AsyncWebClient
    ) -> None:
        team, user = body.get("team_id") or event.get("team"), str(event["user"])
        neutral = MemberJoined(
            actor=await self.directory.actor(client, team, user),
            conversation=Conversation(id=str(event["channel"]), is_direct=False),
            event_id=body.get("event_id"),
            raw=body,
        )
        await self._answer(client, neutral, ReplyTarget(team_id=team, user_id=user, is_dm=True))

    async def _action(self, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient) -> None:
        team = (body.get("team") or {}).get("id") or (body.get("user") or {}).get("team_id")
        user = str((body.get("user") or {})["id"])
        container = body.get("container") or {}
        channel = (body.get("channel") or {}).get("id") or container.get("channel_id")
        in_dm = bool(channel and str(channel).startswith("D")) and not container.get("is_ephemeral")
        target = ReplyTarget(
            team_id=team,
            user_id=user,
            channel_id=channel,
            is_dm=in_dm or container.get("type") == "view",
            response_url=body.get("response_url"),
            trigger_id=body.get("trigger_id"),
            pressed=True,
        )
        value = action.get("value") or (action.get("selected_option") or {}).get("value") or ""
        event = ButtonPressed(
            actor=await self.directory.actor(client, team, user),
            conversation=Conversation(id=str(channel or user), is_direct=target.is_dm),
            event_id=f"action:{body.get('trigger_id')}" if body.get("trigger_id") else None,
            action_id=strip_action_suffix(str(action.get("action_id", ""))),
            value=str(value),
            raw=body,
        )
        await self._answer(client, event, target)

    async def _submission(self, body: dict[str, Any], client: AsyncWebClient) -> None:
        view = body.get("view") or {}
        team = (body.get("team") or {}).get("id") or view.get("team_id")
        user = str((body.get("user") or {})["id"])
        try:
            private = json.loads(view.get("private_metadata") or "{}")
        except ValueError:
            private = {}
        action_id = str(private.get("action") or "")
        if not action_id:
            logger.warning("form submission without an action; ignored (view %s)", view.get("id"))
            return
        event = ButtonPressed(
            actor=await self.directory.actor(client, team, user),
            conversation=Conversation(id=str(private.get("channel") or user), is_direct=True),
            event_id=f"view:{view.get('id')}:{view.get('hash')}",
            action_id=action_id,
            value=json.dumps(form_values(view)),
            raw=body,
        )
        await self._answer(client, event, ReplyTarget(team_id=team, user_id=user, is_dm=True))

    # -- replies ------------------------------------------------------------------------------
    async def _answer(self, client: AsyncWebClient, event: Event, target: ReplyTarget) -> None:
        replies = await self.learnbot.handle(event)
        if not target.is_dm and any(r.dm or r.attachments for r in replies):
            # Asked in a channel, answered in the DM: say so where they asked (only to them).
            replies = [*replies, plain(PRIVATE_POINTER)]
        for reply in replies:
            try:
                await self.reply(client, reply, target)
            except SlackApiError as exc:
                if not target.response_url:
                    raise
                # e.g. the DM could not be opened (missing im:write): still answer privately
                logger.warning(
                    "could not reply in the DM (%s); answering via response_url", exc.response.get("error")
                )
                text, blocks = render_message(reply)
                await AsyncWebhookClient(target.response_url).send(
                    text=text, blocks=blocks, response_type="ephemeral", replace_original=False
                )

    async def reply(self, client: AsyncWebClient, message: Message, target: ReplyTarget) -> None:
        form = find_form(message)
        if form is not None and target.trigger_id:
            view = render_modal(
                message, form, {"action": form.submit_action_id, "channel": target.channel_id}
            )
            try:
                await client.views_open(trigger_id=target.trigger_id, view=view)
                return
            except SlackApiError as exc:
                # The trigger lasts 3 s and works once; the message below still offers the
                # step-by-step way.
                logger.warning("could not open the form: %s", exc.response.get("error"))
        text, blocks = render_message(message)
        replace = message.replaces_pressed and target.pressed and not message.attachments
        if replace and target.response_url and await self._replace_pressed(target.response_url, text, blocks):
            return
        if message.dm or target.is_dm or message.attachments:
            # files can only be shared into a conversation, so a reply with an attachment
            # goes to the person's DM rather than an ephemeral message
            channel = await self._dm_channel(client, target)
            await client.chat_postMessage(channel=channel, text=text, blocks=blocks, unfurl_links=False)
            await send_attachments(client, channel, message)
        elif target.response_url:
            webhook = AsyncWebhookClient(target.response_url)
            response = await webhook.send(
                text=text, blocks=blocks, response_type="ephemeral", replace_original=False
            )
            if response.status_code >= 400:
                logger.warning("response_url answered %s: %s", response.status_code, response.body)
        elif target.channel_id and target.ephemeral_in_channel:
            await client.chat_postEphemeral(
                channel=target.channel_id, user=target.user_id, text=text, blocks=blocks
            )
        else:
            channel = await self._dm_channel(client, target)
            await client.chat_postMessage(channel=channel, text=text, blocks=blocks, unfurl_links=False)

    async def _replace_pressed(self, response_url: str, text: str, blocks: list[dict[str, Any]]) -> bool:
        """Show the reply in place of the message whose button was pressed (its buttons go);
        ``False`` when Slack refused, so the caller answers the ordinary way."""
        webhook = AsyncWebhookClient(response_url)
        response = await webhook.send(text=text, blocks=blocks, replace_original=True)
        if response.status_code < 400:
            return True
        logger.info("could not replace the pressed message (%s); replying instead", response.status_code)
        return False

    async def _dm_channel(self, client: AsyncWebClient, target: ReplyTarget) -> str:
        if (
            target.is_dm
            and target.channel_id
            and target.channel_id.startswith("D")
            and not target.response_url
        ):
            return target.channel_id  # the bot's own DM, where the message came from
        return await self.directory.dm_channel(client, target.team_id, target.user_id)

    def _office_channels(self) -> set[str]:
        return {
            channel.slack.rsplit("/", 1)[-1]
            for office in self.learnbot.config.offices
            for channel in office.channels
            if channel.slack
        }


def _client(context: AsyncBoltContext) -> AsyncWebClient:
    client = context.client
    if client is None:
        raise RuntimeError("Bolt gave no authorized client")
    return client


def _unescape_incoming(text: str) -> str:
    """Slack escapes ``&<>`` in what people type; the core wants the text they typed."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


__all__ = ["PLATFORM", "ReplyTarget", "SlackAdapter"]
