"""The outbox deliverer for Teams: proactive messages through stored conversation references."""

from __future__ import annotations

import asyncio
import logging
import random

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.teams import refs
from adapters.teams.pacing import ArrivalPacer
from adapters.teams.render import render_activity
from adapters.teams.roster import TeamsRoster
from adapters.teams.sender import TeamsSender, Throttled
from scheduler.delivery import Delivery, NotReachableYet, RetryLater
from scheduler.ratelimit import Limit
from scheduler.waiting import Target

logger = logging.getLogger(__name__)

PER_SECOND = 7
PER_30_SECONDS = 60
TENANT_PER_SECOND = 50
"""Teams' documented limits: per bot per conversation 7 in 1 s and 60 in 30 s; globally
50 requests a second per app per tenant."""
IN_PLACE_RETRIES = 2
MAX_IN_PLACE_WAIT = 5.0
"""A 429 asking to wait up to this long is retried in place (twice at most); longer waits go
back to the outbox, which reschedules the row with backoff and jitter."""


class TeamsDeliverer:
    platform = "teams"

    def __init__(
        self,
        sender: TeamsSender,
        sessions: async_sessionmaker[AsyncSession],
        default_tenant: str = "",
        tenant_per_second: int = TENANT_PER_SECOND,
        roster: TeamsRoster | None = None,
        *,
        public_url: str = "",
    ) -> None:
        self.sender = sender
        self.roster = roster
        self.public_url = public_url
        """Where calendar files are linked from (Teams takes no files)."""
        self.sessions = sessions
        self.default_tenant = default_tenant
        self.tenant_per_second = tenant_per_second
        self._tenants: dict[tuple[str, str], str] = {}
        self._random = random.Random()
        self._wire = ArrivalPacer()
        """Paces again around the HTTP call itself, by arrival (see :mod:`adapters.teams.pacing`)."""
        """Destination -> tenant, learnt when its reference is loaded (``limits`` can't query)."""

    def limits(self, delivery: Delivery) -> list[Limit]:
        """Per conversation (a destination is one conversation: a person's 1:1 chat or a
        channel) and per tenant. A destination's first send counts against the configured
        tenant, since its own tenant is only known once its reference has been read."""
        destination = f"{delivery.destination_kind}:{delivery.destination_key}"
        tenant = self._tenants.get(
            (delivery.destination_kind, delivery.destination_key), self.default_tenant or "default"
        )
        return [
            Limit(self._bucket(delivery), PER_SECOND, 1.0),
            Limit(f"teams:conversation30:{destination}", PER_30_SECONDS, 30.0),
            Limit(f"teams:tenant:{tenant}", self.tenant_per_second, 1.0),
        ]

    def reply_limits(self, conversation_id: str, tenant: str) -> list[Limit]:
        """The limits a turn reply in ``conversation_id`` counts against: the conversation's
        (per second first: its bucket is the one a 429 pauses) and the tenant's, which the
        outbox's proactive messages share."""
        return [
            Limit(f"teams:conversation:reply:{conversation_id}", PER_SECOND, 1.0),
            Limit(f"teams:conversation30:reply:{conversation_id}", PER_30_SECONDS, 30.0),
            Limit(f"teams:tenant:{tenant or self.default_tenant or 'default'}", self.tenant_per_second, 1.0),
        ]

    @staticmethod
    def _bucket(delivery: Delivery) -> str:
        return f"teams:conversation:{delivery.destination_kind}:{delivery.destination_key}"

    async def send(self, delivery: Delivery) -> str | None:
        async with self.sessions() as session:
            ref = await refs.load(session, delivery.destination_kind, delivery.destination_key)
        if ref is None and await self.reachable(_target(delivery)):
            async with self.sessions() as session:
                ref = await refs.load(session, delivery.destination_kind, delivery.destination_key)
        if ref is None:
            raise NotReachableYet(self.why_not(delivery))
        self._tenants[(delivery.destination_kind, delivery.destination_key)] = ref.tenant_id or "default"
        activity = render_activity(delivery.message, public_url=self.public_url)
        if delivery.destination_kind == refs.PERSON:
            # Show proactive DMs in the person's activity feed, like a colleague's message.
            activity["channelData"] = {"notification": {"alert": True}}
        for attempt in range(1, IN_PLACE_RETRIES + 2):
            try:
                async with self._wire.slot(self.limits(delivery)):
                    return await self.sender.send(
                        delivery.destination_kind, delivery.destination_key, ref, activity
                    )
            except Throttled as exc:
                # Refused unprocessed: wait what Teams asked (plus jitter) and try again here,
                # rather than queueing it behind the outbox's backoff of several seconds.
                wait = exc.retry_after
                exc.bucket = self._bucket(delivery)
                if wait is None or wait > MAX_IN_PLACE_WAIT or attempt > IN_PLACE_RETRIES:
                    raise
                self._wire.pause(exc.bucket, wait)
                await asyncio.sleep(wait * (1 + self._random.uniform(0, 0.2)))
            except RetryLater as exc:
                exc.bucket = exc.bucket or self._bucket(delivery)
                if exc.retry_after:
                    self._wire.pause(exc.bucket, exc.retry_after)
                raise
        raise AssertionError("unreachable: the loop returns or raises")

    @staticmethod
    def why_not(delivery: Delivery) -> str:
        """What an admin must do, in the words ``learnbot reach`` and the outbox show."""
        if delivery.destination_kind == refs.PERSON:
            who = delivery.person_name or delivery.person_email or f"person {delivery.destination_key}"
            return (
                f"not reachable in Teams: {who} is in no team Learnbot is installed in, under this "
                "email or UPN (install the app in their team, or check the email)"
            )
        return (
            f"not reachable in Teams: Learnbot has not been added to the team of channel "
            f"'{delivery.destination_key}' yet (add the app to that team, or check channels[].teams "
            "in app.yaml)"
        )

    async def reachable(self, target: Target) -> bool:
        """Stored reference, else the stored roster of an installed team (no API call)."""
        async with self.sessions() as session:
            if await refs.load(session, target.destination_kind, target.destination_key) is not None:
                return True
        if self.roster is None:
            return False
        if target.destination_kind == refs.PERSON and target.person_id is not None:
            return await self.roster.link_person(target.person_id, target.email)
        if target.destination_kind == refs.CHANNEL:
            return await self.roster.link_channel(target.destination_key)
        return False

    async def reconcile(self, delivery: Delivery) -> bool | None:
        """Teams cannot say whether an earlier send arrived: the Bot Connector has no API to
        read a conversation's messages back (only to send, update and delete by id, and an
        ambiguous answer or a crash lost the id). So the honest answer is ``None``; the worker
        then applies the message kind's policy (``outbox.when_in_doubt`` in app.yaml): a
        reminder is not resent (``unconfirmed``), a cancellation is."""
        return None


def _target(delivery: Delivery) -> Target:
    person_id = int(delivery.destination_key) if delivery.destination_kind == refs.PERSON else None
    return Target(
        destination_kind=delivery.destination_kind,
        destination_key=delivery.destination_key,
        person_id=person_id,
        email=delivery.person_email,
        name=delivery.person_name,
    )
