"""Teams activities -> neutral events -> the core -> Adaptive Card replies.

* Messages in a personal chat, and @mentions in a channel or group chat (the mention is
  stripped), become :class:`MessageReceived`; the core treats a leading command word
  (``skillshare offer``, ``/learning help``) as a command.
* Adaptive Card submits (``Action.Submit`` data, ``Action.Execute`` invokes named
  ``adaptiveCard/action``) become :class:`ButtonPressed`.
* ``conversationUpdate`` with members added (the app installed for a person or a team, or a new
  member in a team) becomes :class:`MemberJoined` for each person, who gets the welcome.
* Installed in a team (``channelData.team``): the team's roster and channels are read in the
  background (:mod:`adapters.teams.roster`), so its members and configured channels are
  reachable without anyone opening the app; members removed, channels created, renamed and
  deleted, the team deleted or the app removed keep that current.

Every time a person or channel talks to the bot or installs it, its conversation reference is
stored first (see :mod:`adapters.teams.refs`), so the welcome and later nudges can reach them.
The activity id is the event id: a redelivered activity is handled once by the core.

Activities arrive through the inbox (:mod:`adapters.teams.inbox`): when the turn carries an
inbox job, the core stores the replies with its changes and the replies not sent yet are sent,
so a turn run again after a crash neither redoes the work nor repeats what was said. Replies
pace through the outbox's rate limiter; a 429 is retried after its Retry-After, and a reply
that still fails goes to the outbox, not before that Retry-After.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from http import HTTPStatus
from typing import Any

import aiohttp
from botbuilder.core import ActivityHandler, InvokeResponse, TurnContext
from botbuilder.core.teams import TeamsInfo
from botbuilder.schema import Activity, AdaptiveCardInvokeResponse, ChannelAccount
from botbuilder.schema.teams import TeamsChannelAccount
from msrest.exceptions import ClientRequestError, HttpOperationError
from msrest.serialization import Model
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.files import download
from adapters.teams import refs
from adapters.teams.refs import StoredRef
from adapters.teams.render import render_activity
from adapters.teams.roster import TeamInfo, TeamsRoster
from adapters.teams.sender import TeamsSender, http_status
from bot.core import Learnbot
from bot.events import Actor, ButtonPressed, Conversation, Event, FileShared, MemberJoined, MessageReceived
from bot.messages import PRIVATE_FAILED, PRIVATE_POINTER, Message, plain
from bot.outbox import ToPerson
from bot.people import resolve_actor
from scheduler.delivery import RetryLater, Undeliverable
from scheduler.inbox import InboxJob
from scheduler.ratelimit import Limit, RateLimiter
from scheduler.replies import pause, send_paced
from storage.models import Person, PlatformAccount
from storage.teams import TeamsTeam

logger = logging.getLogger(__name__)

PLATFORM = "teams"
TEAM_EVENTS = {
    "channelCreated",
    "channelRenamed",
    "channelRestored",
    "channelDeleted",
    "teamDeleted",
    "teamArchived",
    "teamRenamed",
    "teamRestored",
    "teamUnarchived",
}
"""``channelData.eventType`` values of Teams' conversationUpdate that change what is reachable."""
ROSTER_RETRY_WAITS = (30.0, 120.0, 600.0)
"""Seconds before reading a new team's roster again after a 429 or 5xx."""
INBOX_JOB = "learnbot.inbox_job"
"""Where :mod:`adapters.teams.inbox` leaves the turn's inbox job in ``turn_state``."""
REPLY_DEADLINE_SECONDS = 30.0
"""Retry a throttled turn reply in place this long; after that it goes to the outbox."""
ReplyLimits = Callable[[str, str], list[Limit]]


def _tenant(activity: Activity) -> str:
    conversation = activity.conversation
    if conversation is not None and conversation.tenant_id:
        return str(conversation.tenant_id)
    data = activity.channel_data or {}
    tenant = data.get("tenant") if isinstance(data, dict) else None
    return str(tenant.get("id", "")) if isinstance(tenant, dict) else ""


def _channel_data(activity: Activity) -> dict[str, Any]:
    data = activity.channel_data
    return data if isinstance(data, dict) else {}


def _is_personal(activity: Activity) -> bool:
    conversation = activity.conversation
    kind = conversation.conversation_type if conversation else None
    return kind in (None, "personal") and not (conversation and conversation.is_group)


def _teams_channel(activity: Activity) -> str | None:
    """The Teams channel id (``19:…@thread.tacv2``) of a channel conversation, else None."""
    channel = _channel_data(activity).get("channel")
    if isinstance(channel, dict) and channel.get("id"):
        return str(channel["id"])
    conversation = activity.conversation
    if conversation is not None and conversation.conversation_type == "channel":
        return str(conversation.id).split(";", 1)[0]
    return None


def message_text(activity: Activity) -> str:
    """What the person typed, without the @mention of the bot (Teams sends it as
    ``<at>Learnbot</at>`` in the text, with a mention entity)."""
    text = TurnContext.remove_recipient_mention(activity) or activity.text or ""
    return " ".join(text.replace("&nbsp;", " ").split())


class _InvokeMessage(Model):
    """The Universal Actions reply "show this text" (botbuilder's own model only takes an object
    as ``value``, but Teams wants a string for ``application/vnd.microsoft.activity.message``)."""

    _attribute_map = {
        "status_code": {"key": "statusCode", "type": "int"},
        "type": {"key": "type", "type": "str"},
        "value": {"key": "value", "type": "str"},
    }

    def __init__(self, *, status_code: int, type: str, value: str) -> None:
        super().__init__()
        self.status_code = status_code
        self.type = type
        self.value = value


def team_info(activity: Activity) -> TeamInfo | None:
    """The team of a team-scoped activity (``channelData.team``), else None."""
    team = _channel_data(activity).get("team")
    if not isinstance(team, dict) or not team.get("id"):
        return None
    return TeamInfo(
        team_id=str(team["id"]),
        name=str(team.get("name") or ""),
        tenant_id=_tenant(activity),
        service_url=activity.service_url or "",
        bot_id=activity.recipient.id if activity.recipient else "",
        bot_name=(activity.recipient.name if activity.recipient else "") or "",
    )


class LearnbotTeamsBot(ActivityHandler):
    def __init__(
        self,
        app: Learnbot,
        sender: TeamsSender,
        now: Callable[[], datetime],
        roster: TeamsRoster | None = None,
        *,
        limiter: RateLimiter | None = None,
        reply_limits: ReplyLimits | None = None,
    ) -> None:
        self.app = app
        self.sender = sender
        self.now = now
        self.roster = roster
        self._roster_reads: set[asyncio.Task[None]] = set()
        self.limiter = limiter or RateLimiter()
        self.reply_limits: ReplyLimits = reply_limits or (lambda _conversation, _tenant: [])

    # -- activities --------------------------------------------------------------------------
    async def on_message_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        event: Event
        actor, conversation = await self._enter(turn_context, activity.from_property)
        files = _shared_files(activity) if conversation.is_direct else []
        if isinstance(activity.value, dict) and activity.value.get("action_id"):
            event = self._button(actor, conversation, activity, activity.value)
        elif files:
            for index, (name, url, size) in enumerate(files):
                await self._handle(
                    turn_context,
                    FileShared(
                        actor=actor,
                        conversation=conversation,
                        event_id=f"{activity.id}:{index}" if activity.id else None,
                        name=name,
                        size=size,
                        fetch=functools.partial(download, url),
                    ),
                    single=len(files) == 1,
                )
            return
        else:
            text = message_text(activity)
            if not text:
                return
            event = MessageReceived(actor=actor, conversation=conversation, text=text, event_id=activity.id)
        await self._handle(turn_context, event)

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse | None:
        activity = turn_context.activity
        if activity.name != "adaptiveCard/action":
            return await super().on_invoke_activity(turn_context)
        value: dict[str, Any] = activity.value if isinstance(activity.value, dict) else {}
        action: dict[str, Any] = value["action"] if isinstance(value.get("action"), dict) else {}
        data: dict[str, Any] = action["data"] if isinstance(action.get("data"), dict) else {}
        action_id = str(data.get("action_id") or action.get("verb") or "")
        if not action_id:
            return InvokeResponse(
                status=int(HTTPStatus.BAD_REQUEST),
                body=AdaptiveCardInvokeResponse(
                    status_code=400,
                    type="application/vnd.microsoft.error",
                    value={"code": "BadRequest", "message": "the action carries no action_id or verb"},
                ),
            )
        actor, conversation = await self._enter(turn_context, activity.from_property)
        await self._handle(
            turn_context, self._button(actor, conversation, activity, {**data, "action_id": action_id})
        )
        return InvokeResponse(
            status=int(HTTPStatus.OK),
            body=_InvokeMessage(
                status_code=200, type="application/vnd.microsoft.activity.message", value="Done"
            ),
        )

    async def on_members_added_activity(
        self, members_added: list[ChannelAccount], turn_context: TurnContext
    ) -> None:
        activity = turn_context.activity
        bot_id = activity.recipient.id if activity.recipient else ""
        bot_added = any(member.id == bot_id for member in members_added)
        team = team_info(activity)
        if bot_added:
            # Installed: remember the team's channel (or the personal chat) right away, then
            # read the team's roster and channels so its members and channels are reachable.
            await self._remember_channel(activity)
            if team is not None:
                await self._sync_installed(team)
        people = [m for m in members_added if m.id != bot_id]
        if bot_added and _is_personal(activity) and not people and activity.from_property:
            people = [activity.from_property]
        for member in people:
            actor, conversation = await self._enter(turn_context, member)
            event_id = f"{activity.id}:{member.id}" if activity.id else None
            if team is not None and self.roster is not None:
                await self._joined_team(team, member, actor)
            await self._handle(
                turn_context,
                MemberJoined(actor=actor, conversation=conversation, event_id=event_id),
                single=False,
            )

    async def on_members_removed_activity(
        self, members_removed: list[ChannelAccount], turn_context: TurnContext
    ) -> None:
        """Someone left a team (no longer reachable through it), or the app was removed from it."""
        activity = turn_context.activity
        team = team_info(activity)
        if team is None or self.roster is None:
            return
        bot_id = activity.recipient.id if activity.recipient else ""
        async with self.app.sessions() as session, session.begin():
            if any(member.id == bot_id for member in members_removed):
                await self.roster.team_removed(session, team.team_id)
                return
            for member in members_removed:
                await self.roster.member_removed(session, team.team_id, member.id)

    async def on_conversation_update_activity(self, turn_context: TurnContext) -> None:
        """Teams' team events (``channelData.eventType``): channels created, renamed, deleted, the
        team deleted. Members added and removed go on to the usual handlers."""
        activity = turn_context.activity
        data = _channel_data(activity)
        event_type = str(data.get("eventType") or "")
        team = team_info(activity)
        raw_channel = data.get("channel")
        channel: dict[str, Any] = raw_channel if isinstance(raw_channel, dict) else {}
        if team is not None and self.roster is not None and event_type in TEAM_EVENTS:
            async with self.app.sessions() as session, session.begin():
                if event_type in {"channelCreated", "channelRenamed", "channelRestored"} and channel.get(
                    "id"
                ):
                    await self.roster.channel_changed(
                        session, team, str(channel["id"]), str(channel.get("name") or ""), self.now()
                    )
                elif event_type == "channelDeleted" and channel.get("id"):
                    await self.roster.channel_deleted(session, str(channel["id"]))
                elif event_type in {"teamDeleted", "teamArchived"}:
                    await self.roster.team_removed(session, team.team_id)
                elif event_type in {"teamRenamed", "teamRestored", "teamUnarchived"}:
                    await self.roster.team_renamed(session, team)
        await super().on_conversation_update_activity(turn_context)

    async def on_installation_update_add(self, turn_context: TurnContext) -> None:
        """Teams sends this next to the conversationUpdate on install: store the reference (the
        welcome comes from the conversationUpdate, once)."""
        activity = turn_context.activity
        if _is_personal(activity) and activity.from_property:
            await self._enter(turn_context, activity.from_property)
        else:
            await self._remember_channel(activity)

    async def on_installation_update_remove(self, turn_context: TurnContext) -> None:
        """Uninstalled: forget the reference, so later messages are reported as not reachable
        instead of failing one by one with 403."""
        activity = turn_context.activity
        async with self.app.sessions() as session, session.begin():
            if _is_personal(activity) and activity.from_property:
                who = activity.from_property
                user_id = who.aad_object_id or who.id
                person_id = await session.scalar(
                    select(PlatformAccount.person_id).where(
                        PlatformAccount.platform == PLATFORM,
                        PlatformAccount.workspace_id == _tenant(activity),
                        PlatformAccount.external_id == user_id,
                    )
                )
                if person_id is not None:
                    await refs.forget(session, refs.PERSON, str(person_id))
            else:
                channel = _teams_channel(activity)
                key = refs.channel_key(self.app.config, channel) if channel else None
                if key is not None:
                    await refs.forget(session, refs.CHANNEL, key)
                team = team_info(activity)
                if team is not None and self.roster is not None:
                    await self.roster.team_removed(session, team.team_id)

    # -- rosters -----------------------------------------------------------------------------
    async def _sync_installed(self, team: TeamInfo) -> None:
        """Read the new team's roster in the background: a team of thousands takes seconds, and
        the install activity must be answered quickly (Teams retries a slow one)."""
        if self.roster is None:
            return
        task = asyncio.create_task(self._read_roster(self.roster, team))
        self._roster_reads.add(task)
        task.add_done_callback(self._roster_reads.discard)

    async def _read_roster(self, roster: TeamsRoster, team: TeamInfo) -> None:
        """A failure never breaks anything: the team records it; a throttled or unavailable
        roster is read again after a short wait, anything else at the scheduled sync (or with
        ``learnbot teams-link``)."""
        for wait in (*ROSTER_RETRY_WAITS, None):
            try:
                report = await roster.install(team)
            except Exception:
                logger.exception("reading the roster of Teams team %s failed", team.team_id)
                return
            logger.info("installed in Teams team: %s", report)
            if not report.retryable or wait is None:
                return
            await asyncio.sleep(wait)

    async def rosters_read(self) -> None:
        """Wait for the roster reads under way (tests; the server's shutdown cancels them)."""
        while self._roster_reads:
            await asyncio.gather(*list(self._roster_reads), return_exceptions=True)

    def cancel_roster_reads(self) -> None:
        for task in self._roster_reads:
            task.cancel()

    async def _joined_team(self, team: TeamInfo, member: ChannelAccount, actor: Actor) -> None:
        assert self.roster is not None
        account = TeamsChannelAccount(
            id=member.id,
            name=actor.display_name or member.name,
            aad_object_id=member.aad_object_id,
            email=actor.email,
        )
        async with self.app.sessions() as session, session.begin():
            if await session.get(TeamsTeam, team.team_id) is not None:
                await self.roster.member_added(session, team, account)

    # -- helpers -----------------------------------------------------------------------------
    def _button(
        self, actor: Actor, conversation: Conversation, activity: Activity, data: dict[str, Any]
    ) -> ButtonPressed:
        if data.get("form"):
            fields = {k: v for k, v in data.items() if k not in {"action_id", "form", "msteams"}}
            value = json.dumps({k: "" if v is None else str(v) for k, v in fields.items()})
        else:
            value = str(data.get("value", ""))
        return ButtonPressed(
            actor=actor,
            conversation=conversation,
            action_id=str(data["action_id"]),
            value=value,
            event_id=activity.id,
        )

    async def _enter(self, turn_context: TurnContext, who: ChannelAccount) -> tuple[Actor, Conversation]:
        """The neutral actor and conversation; stores the references needed to reach them."""
        activity = turn_context.activity
        tenant = _tenant(activity)
        personal = _is_personal(activity)
        user_id = (who.aad_object_id if who else None) or (who.id if who else "unknown")
        async with self.app.sessions() as session:
            known_email = await self._known_email(session, user_id, tenant)
        email, name = known_email, who.name if who else None
        if not known_email and who:
            # A roster call (HTTP), made outside any database transaction.
            email, name = await self._profile(turn_context, who)
        async with self.app.sessions() as session, session.begin():
            actor = Actor(
                platform=PLATFORM,
                user_id=user_id,
                email=email,
                display_name=name or None,
                timezone=activity.local_timezone or None,
                locale=activity.locale or None,
                workspace_id=tenant or None,
            )
            person = await resolve_actor(session, self.app.config, actor, self.now())
            base = self._base_ref(activity)
            if personal:
                ref = StoredRef(
                    **{**base, "conversation_id": activity.conversation.id, "conversation_type": "personal"},
                    user_id=who.id if who else "",
                    user_name=name or "",
                )
                await refs.save(session, refs.PERSON, str(person.id), ref, self.now())
            elif who and who.id:
                ref = StoredRef(**base, user_id=who.id, user_name=name or "")
                await refs.save(
                    session, refs.PERSON, str(person.id), ref, self.now(), keep_existing_conversation=True
                )
            await self._save_channel(session, activity)
        channel = _teams_channel(activity)
        conversation = Conversation(
            id=str(activity.conversation.id),
            is_direct=personal,
            channel_name=(_channel_data(activity).get("channel") or {}).get("name") if channel else None,
        )
        return actor, conversation

    def _base_ref(self, activity: Activity) -> dict[str, Any]:
        return {
            "service_url": activity.service_url or "",
            "tenant_id": _tenant(activity),
            "bot_id": activity.recipient.id if activity.recipient else "",
            "bot_name": (activity.recipient.name if activity.recipient else "") or "",
            "channel_id": activity.channel_id or "msteams",
        }

    async def _remember_channel(self, activity: Activity) -> None:
        async with self.app.sessions() as session, session.begin():
            await self._save_channel(session, activity)

    async def _save_channel(self, session: AsyncSession, activity: Activity) -> None:
        channel = _teams_channel(activity)
        if not channel:
            return
        key = refs.channel_key(self.app.config, channel)
        if key is None:
            logger.info(
                'Teams channel %s is not in app.yaml; add `teams: "%s"` to a channel to post there',
                channel,
                channel,
            )
            return
        ref = StoredRef(**self._base_ref(activity), conversation_id=channel, conversation_type="channel")
        await refs.save(session, refs.CHANNEL, key, ref, self.now())

    async def _known_email(self, session: AsyncSession, user_id: str, tenant: str) -> str | None:
        """The email of a person already linked to this Teams account (saves a roster call)."""
        person_id = await session.scalar(
            select(PlatformAccount.person_id).where(
                PlatformAccount.platform == PLATFORM,
                PlatformAccount.workspace_id == tenant,
                PlatformAccount.external_id == user_id,
            )
        )
        if person_id is None:
            return None
        person = await session.get(Person, person_id)
        return person.email if person and person.email else None

    async def _profile(self, turn_context: TurnContext, who: ChannelAccount) -> tuple[str | None, str | None]:
        """Email (or UPN) and name from the Teams roster; what the activity carries if that fails."""
        try:
            member = await TeamsInfo.get_member(turn_context, who.id)
        except Exception as exc:  # the roster is a nicety: never let it break a turn (Emulator, 404, ...)
            logger.info("Teams roster lookup for %s failed (%s); using the activity's name", who.id, exc)
            return None, who.name
        email = member.email or member.user_principal_name
        return (str(email) if email else None), (member.name or who.name)

    async def _handle(self, turn_context: TurnContext, event: Event, *, single: bool = True) -> None:
        """Handle ``event`` and reply. With the turn's inbox job (one event per activity), the
        core runs once and only the replies not sent yet are sent; an activity with several
        events (members added) relies on the core's event ids."""
        job: InboxJob | None = turn_context.turn_state.get(INBOX_JOB) if single else None
        if job is None:
            replies, start = await self.app.handle(event), 0
        else:
            handled = (
                job.replies if job.replies is not None else await self.app.handle(event, record=job.record)
            )
            replies, start = await job.answered(handled), job.replies_sent
        outcomes: set[str] = set()
        for index in range(start, len(replies)):
            reply = replies[index]
            try:
                outcomes.add(await self._reply(turn_context, event, reply))
            except (HttpOperationError, ClientRequestError, aiohttp.ClientError, TimeoutError) as exc:
                # The event is handled and committed, so a redelivery would do nothing: hand the
                # reply to the outbox, which retries it with backoff, rather than lose it. The
                # outbox sends to the person, so a personal reply stays private.
                logger.warning("reply to %s failed (%s); queued in the outbox", event.actor.user_id, exc)
                await self._queue_reply(event, reply, index, _retry_after(exc))
            if job is not None:
                await job.sent(index + 1)
        # One short note in the shared conversation, never the personal content itself.
        note = PRIVATE_FAILED if "withheld" in outcomes else PRIVATE_POINTER if "private" in outcomes else ""
        if note:
            await self._send_in_turn(turn_context, render_activity(plain(note)))

    async def _queue_reply(self, event: Event, reply: Message, index: int, retry_after: float | None) -> None:
        """To the outbox, not before the Retry-After Teams gave (if it gave one)."""
        key = f"teams-reply:{event.event_id or uuid.uuid4().hex}:{index}"
        not_before = self.now() + timedelta(seconds=retry_after) if retry_after else None
        async with self.app.sessions() as session, session.begin():
            person = await resolve_actor(session, self.app.config, event.actor, self.now())
            await self.app.plan(
                session, destination=ToPerson(person.id), message=reply, key=key, not_before=not_before
            )

    async def _reply(self, turn_context: TurnContext, event: Event, reply: Message) -> str:
        """Send one reply; returns where it went: ``here``, ``private`` (the person's 1:1 chat,
        for a personal or DM reply to something said in a channel or group chat) or
        ``withheld`` (personal, and no 1:1 chat could be reached: not shown at all)."""
        activity = render_activity(reply, public_url=self.app.config.learning_days.public_url)
        pressed_on = turn_context.activity.reply_to_id
        personal = reply.dm or reply.private
        replace = reply.replaces_pressed and isinstance(event, ButtonPressed) and not personal
        if replace and pressed_on and await self._replace_pressed(turn_context, pressed_on, activity):
            return "here"
        if (reply.dm or reply.private) and not event.conversation.is_direct:
            if await self._reply_privately(event, activity):
                return "private"
            if reply.private:
                logger.warning(
                    "personal reply to %s withheld: no 1:1 chat could be reached", event.actor.user_id
                )
                return "withheld"
            logger.info("could not open a 1:1 chat with %s; replying where they wrote", event.actor.user_id)
        await self._send_in_turn(turn_context, activity)
        return "here"

    async def _replace_pressed(
        self, turn_context: TurnContext, activity_id: str, activity: dict[str, Any]
    ) -> bool:
        """Show the reply in place of the card whose button was pressed (Teams
        ``updateActivity``), so its buttons can't be pressed again; ``False`` when Teams
        refused, so the caller sends it as a new message instead."""
        update = Activity().deserialize({**activity, "id": activity_id})
        try:
            await turn_context.update_activity(update)
        except (HttpOperationError, ClientRequestError, aiohttp.ClientError, TimeoutError) as exc:
            logger.info("could not update the pressed card (%s); replying instead", exc)
            return False
        return True

    async def _send_in_turn(self, turn_context: TurnContext, activity: dict[str, Any]) -> None:
        """A turn reply, paced with the outbox's limiter (this conversation and the tenant);
        a 429 pauses the conversation for its Retry-After and the reply is sent again."""
        incoming = turn_context.activity
        conversation = str(incoming.conversation.id) if incoming.conversation else ""
        limits = self.reply_limits(conversation, _tenant(incoming))

        async def send() -> None:
            try:
                await turn_context.send_activity(Activity().deserialize(activity))
            except HttpOperationError as exc:
                status, retry_after = http_status(exc)
                if status != 429:
                    raise
                bucket = limits[0].bucket if limits else None
                raise _Throttled(
                    f"Teams answered 429 to a reply in {conversation}", retry_after, bucket, exc
                ) from exc

        try:
            await send_paced(
                self.limiter,
                limits,
                send,
                what=f"Teams reply in {conversation}",
                deadline_seconds=REPLY_DEADLINE_SECONDS,
            )
        except _Throttled as exc:
            if exc.bucket and exc.retry_after:
                await pause(self.limiter, exc.bucket, exc.retry_after)
            raise exc.error from None

    async def _reply_privately(self, event: Event, activity: dict[str, Any]) -> bool:
        async with self.app.sessions() as session:
            person = await resolve_actor(session, self.app.config, event.actor, self.now())
            owner = str(person.id)
            ref = await refs.load(session, refs.PERSON, owner)
            await session.commit()
        if ref is None:
            return False
        try:
            await self.sender.send(refs.PERSON, owner, ref, activity)
        except (RetryLater, Undeliverable) as exc:
            logger.warning("private reply to person %s failed: %s", owner, exc)
            return False
        return True


class _Throttled(RetryLater):
    """A turn reply refused with 429 (carries the Bot Connector's error for the fallback)."""

    def __init__(self, reason: str, retry_after: float | None, bucket: str | None, error: HttpOperationError):
        super().__init__(reason, retry_after, bucket)
        self.error = error


def _retry_after(exc: BaseException) -> float | None:
    """The Retry-After of a failed Bot Connector call, if it gave one."""
    if isinstance(exc, HttpOperationError):
        return http_status(exc)[1]
    return None


FILE_DOWNLOAD_INFO = "application/vnd.microsoft.teams.file.download.info"


def _shared_files(activity: Activity) -> list[tuple[str, str, int]]:
    """(name, download URL, size) of files sent in a personal chat: Teams attaches each as
    ``application/vnd.microsoft.teams.file.download.info`` with a pre-authorised
    ``content.downloadUrl`` (the size is not given; 0 means unknown)."""
    found: list[tuple[str, str, int]] = []
    for attachment in activity.attachments or []:
        content = attachment.content if isinstance(attachment.content, dict) else {}
        url = content.get("downloadUrl")
        if attachment.content_type == FILE_DOWNLOAD_INFO and isinstance(url, str) and url:
            found.append((str(attachment.name or "file"), url, 0))
    return found
