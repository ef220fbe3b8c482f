"""Teams activities through the inbox (:mod:`scheduler.inbox`).

What the ack means in Teams: the Bot Framework channel waits for the HTTP response to its POST
(up to about 15 s, and an ``invoke`` response carries the result of a card action), and replies
are Bot Connector calls made during the turn. So, unlike Slack, Learnbot keeps processing in
the turn: the activity is written to the inbox first (after botbuilder checked its token), then
handled in the same request, and the row is marked done before the response goes out.

If the process dies mid-turn, Teams gets no answer and the row stays in the inbox: once its
lease passes, any process takes it and runs the same handler in a proactive turn built from the
stored activity (``CloudAdapter.process_proactive``), whose replies go to the same conversation
(``replyToId`` the original activity). If Teams redelivers the activity meanwhile (same id), it
is not a second row. A person's activities are handled one at a time, in order: one that
arrives while their previous one is still being handled is answered at once (200, or an invoke
response saying it is queued) and handled from the inbox right after.
"""

from __future__ import annotations

import logging
import uuid
from contextvars import ContextVar
from http import HTTPStatus
from typing import Any

from botbuilder.core import InvokeResponse, TurnContext
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity, ActivityTypes
from botframework.connector.auth import AuthenticationConstants

from adapters.teams.handler import INBOX_JOB, PLATFORM, LearnbotTeamsBot
from scheduler.inbox import Inbox, InboxJob, InboxWorker

logger = logging.getLogger(__name__)

RAW_ACTIVITY: ContextVar[dict[str, Any] | None] = ContextVar("learnbot_teams_raw_activity", default=None)
"""The request's JSON body, set by the ``/api/messages`` handler around ``CloudAdapter.process``."""
KINDS = {ActivityTypes.message, ActivityTypes.conversation_update, ActivityTypes.installation_update}
CARD_ACTION = "adaptiveCard/action"


def _kind(activity: Activity) -> str | None:
    if activity.type in KINDS:
        return str(activity.type)
    if activity.type == ActivityTypes.invoke and activity.name == CARD_ACTION:
        return CARD_ACTION
    return None


def order_key(activity: Activity) -> str:
    who = activity.from_property
    person = (who.aad_object_id or who.id) if who else None
    if not person and activity.conversation is not None:
        person = activity.conversation.id
    return f"{PLATFORM}:{person or 'anyone'}"


class TeamsInbox:
    """The bot ``CloudAdapter.process`` runs: inbox first, then the real bot in the turn."""

    def __init__(
        self, adapter: CloudAdapter, app_id: str, bot: LearnbotTeamsBot, inbox: Inbox, poll: float
    ) -> None:
        self.adapter = adapter
        self.app_id = app_id
        self.bot = bot
        self.inbox = inbox
        self.worker = InboxWorker(inbox, {PLATFORM: self.process}, poll_seconds=poll)

    async def on_turn(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        kind = _kind(activity)
        if kind is None:  # typing, reactions, ...: nothing to keep
            await self.bot.on_turn(turn_context)
            return
        key = str(activity.id or uuid.uuid4().hex)
        # The body as Teams sent it: botbuilder's models drop fields they do not declare
        # (a mention entity's "mentioned"), so a re-serialised Activity would lose them.
        payload: dict[str, Any] = {"activity": RAW_ACTIVITY.get() or activity.serialize()}
        self.worker.start()
        job = await self.inbox.put_and_take(PLATFORM, kind, key, order_key(activity), payload)
        if job is None:
            logger.info("Teams %s %s is queued behind the person's previous one", kind, key)
            if kind == CARD_ACTION:
                await turn_context.send_activity(
                    Activity(
                        type=ActivityTypes.invoke_response,
                        value=InvokeResponse(status=int(HTTPStatus.OK), body={"statusCode": 200}),
                    )
                )
            return
        turn_context.turn_state[INBOX_JOB] = job
        await self.worker.run(job, lambda _job: self.bot.on_turn(turn_context))

    async def process(self, job: InboxJob) -> None:
        """A row left by another process (or queued behind the person's previous activity):
        the same handler, in a proactive turn built from the stored activity."""
        activity = Activity().deserialize(job.payload["activity"])
        claims = self.adapter.create_claims_identity(self.app_id)
        claims.claims[AuthenticationConstants.SERVICE_URL_CLAIM] = activity.service_url

        async def logic(turn_context: TurnContext) -> None:
            turn_context.turn_state[INBOX_JOB] = job
            await self.bot.on_turn(turn_context)

        await self.adapter.process_proactive(claims, activity, None, logic)

    async def start(self) -> None:
        self.worker.start()

    async def idle(self) -> None:
        await self.worker.idle()

    async def close(self, grace: float = 10.0) -> None:
        await self.worker.close(grace)
