"""The outbox delivery worker: claim due rows, send them through the platform's deliverer,
record the outcome. Exactly once, across ambiguous answers, storms, crashes and replicas.

How a row moves (:class:`storage.models.OutboxStatus`):

* ``pending`` -> ``claimed``: a worker holds it with a lease (``claimed_by``, ``lease_until``)
  while it waits for the shared rate limiter. Nothing has been sent; a lapsed claim is simply
  taken again. On PostgreSQL, claiming uses ``FOR UPDATE SKIP LOCKED``.
* ``claimed`` -> ``sending``: committed right before the send starts, with ``in_doubt_since``
  = now. Only now may the message reach the platform.
* Every send ends in one :class:`SendOutcome`:

  - delivered: ``sent`` with the platform's message id;
  - rejected (permanent): ``failed`` with the reason;
  - throttled (429): back to ``pending`` after the Retry-After, which pauses the bucket for
    every replica; no attempt is used;
  - not delivered (refused before posting): back to ``pending`` after a backoff;
  - ambiguous (a 5xx or a timeout after the platform may have posted): back to ``pending``
    with ``in_doubt_since`` kept.

* A claimed row with ``in_doubt_since`` (an ambiguous answer, or a crash mid-send that left it
  ``sending`` until its lease lapsed) is never simply resent: the deliverer first reads the
  platform back (:meth:`Deliverer.reconcile`, Slack message metadata). Where it cannot
  (Teams), the message kind's policy decides (``outbox.when_in_doubt``): at most once records
  it ``unconfirmed``; at least once sends again.
* A row gives up at its deadline (``expires_at``: ``expired``), never by a count of tries.

The worker streams: it keeps up to ``concurrency`` rows in hand and claims more as soon as one
finishes, with no batch barrier. Each row's lease is extended by its own task for as long as it
runs. On shutdown it stops claiming, releases rows that have not started sending, lets sends
under way finish within the grace period, and records any it had to cut off as ambiguous.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import ClassVar, Protocol

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from bot.clock import Clock
from bot.config import InDoubt, OutboxPolicy
from bot.messages import Message
from bot.outbox import WAITING
from scheduler.metrics import Metrics
from scheduler.ratelimit import Limit, RateLimiter
from scheduler.waiting import release_waiting, waiting_finders
from storage.db import dialect_name
from storage.models import OutboxMessage, OutboxStatus, Person

logger = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(minutes=30)
SETTLE = timedelta(seconds=2)
"""After an ambiguous answer, wait this long before reading the platform back (let it settle)."""


class SendOutcome(StrEnum):
    """How one send ended."""

    DELIVERED = "delivered"
    REJECTED = "rejected"  # permanent: the reason is recorded
    THROTTLED = "throttled"  # refused with Retry-After: wait, no attempt used
    NOT_DELIVERED = "not_delivered"  # refused before posting: safe to resend
    AMBIGUOUS = "ambiguous"  # may have been posted: reconcile or apply the kind's policy


OUTCOME_METRIC = {
    SendOutcome.REJECTED: "failed",
    SendOutcome.THROTTLED: "throttled",
    SendOutcome.NOT_DELIVERED: "retry",
    SendOutcome.AMBIGUOUS: "ambiguous",
}
"""How each failed send is counted in ``learnbot_sends`` (a delivered one counts as ``sent``)."""


@dataclass(frozen=True, slots=True)
class Delivery:
    """One claimed outbox row, as a deliverer sees it."""

    outbox_id: int
    key: str
    platform: str
    destination_kind: str  # "person" or "channel"
    destination_key: str  # person id or channel key
    message: Message
    attempt: int
    person_email: str | None = None
    person_name: str = ""
    previously_claimed_at: datetime | None = None
    """When an earlier send whose outcome is unknown started (for :meth:`Deliverer.reconcile`)."""
    kind: str = ""


class SendFailed(Exception):
    """A send that did not end delivered; ``outcome`` says what the worker may do next."""

    outcome: ClassVar[SendOutcome] = SendOutcome.NOT_DELIVERED

    def __init__(self, reason: str, retry_after: float | None = None, bucket: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after
        self.bucket = bucket


class RetryLater(SendFailed):
    """Not delivered (refused before posting, could not connect): safe to resend after a
    backoff, or after ``retry_after`` seconds if the platform said."""


class Throttled(RetryLater):
    """Refused by a rate limit (429): resend after ``retry_after``; ``bucket`` is paused that
    long for every replica; no attempt is used."""

    outcome = SendOutcome.THROTTLED


class Ambiguous(RetryLater):
    """The platform may have posted it (a 5xx or a timeout after the request was sent)."""

    outcome = SendOutcome.AMBIGUOUS


class Undeliverable(SendFailed):
    """Rejected for good: retrying cannot help (channel gone, bot not in channel, user
    deactivated, person not reachable). Recorded as ``failed`` with this reason."""

    outcome = SendOutcome.REJECTED


class NotReachableYet(Undeliverable):
    """The destination cannot be reached *yet* (no linked account, the bot not in the team):
    the row waits (status ``waiting``) and is re-checked until it expires, rather than failing."""


class Deliverer(Protocol):
    platform: str

    def limits(self, delivery: Delivery) -> list[Limit]:
        """The rate-limit buckets this send counts against."""
        ...

    async def send(self, delivery: Delivery) -> str | None:
        """Send it; return the platform's message id. Raise a :class:`SendFailed`."""
        ...

    async def reconcile(self, delivery: Delivery) -> bool | None:
        """Did an earlier send of this delivery arrive? ``None`` if the platform can't tell."""
        ...


def backoff(attempt: int, rng: random.Random | None = None) -> timedelta:
    """Exponential backoff with full jitter: about 2 s, 4 s, 8 s ... capped at 30 minutes."""
    rng = rng or random.Random()
    ceiling = min(MAX_BACKOFF.total_seconds(), 2.0 * (2 ** max(min(attempt, 20) - 1, 0)))
    return timedelta(seconds=ceiling / 2 + rng.uniform(0, ceiling / 2))


@dataclass(frozen=True, slots=True)
class WorkerSettings:
    lease: timedelta = timedelta(seconds=60)
    concurrency: int = 16
    send_timeout: float = 15.0
    """A send still unanswered after this long is cut off (and is ambiguous): the platform
    clients have their own, shorter-or-equal timeouts; this is the backstop."""
    shutdown_grace: float = 20.0
    resend_when_in_doubt: bool = False
    """Resend every ambiguous message the platform cannot read back (the console)."""
    waiting_expiry: timedelta = timedelta(days=7)
    """A message waiting for its destination to become reachable expires after this long."""
    waiting_recheck: timedelta = timedelta(minutes=15)
    """How often a waiting message's destination is checked again (besides when linking)."""
    when_in_doubt: Mapping[str, InDoubt] | None = None
    default_when_in_doubt: InDoubt = "at_most_once"

    @classmethod
    def from_policy(cls, policy: OutboxPolicy, *, resend_when_in_doubt: bool = False) -> WorkerSettings:
        """The settings app.yaml's ``outbox:`` section asks for."""
        return cls(
            lease=timedelta(seconds=policy.lease_seconds),
            concurrency=policy.concurrency,
            # The platform clients give up after send_timeout_seconds per call; a send makes
            # at most a few calls (open the DM, post, attach), so this backstop comes later.
            send_timeout=policy.send_timeout_seconds * 2 + 5,
            shutdown_grace=policy.shutdown_grace_seconds,
            resend_when_in_doubt=resend_when_in_doubt,
            when_in_doubt=dict(policy.when_in_doubt),
            default_when_in_doubt=policy.default_when_in_doubt,
            waiting_expiry=timedelta(days=policy.waiting_days),
            waiting_recheck=timedelta(minutes=policy.waiting_recheck_minutes),
        )

    def policy(self, kind: str) -> InDoubt:
        if self.resend_when_in_doubt:
            return "at_least_once"
        return (self.when_in_doubt or {}).get(kind, self.default_when_in_doubt)


@dataclass(slots=True)
class _Loaded:
    delivery: Delivery
    expires_at: datetime | None
    in_doubt_since: datetime | None


def _earlier_in_line(now: datetime) -> ColumnElement[bool]:
    """An earlier row for the same conversation is in hand or due now: claim that one first,
    so one conversation's messages arrive in planning order (different conversations still go
    concurrently). An earlier row backing off or waiting does not hold the later ones up."""
    earlier = aliased(OutboxMessage)
    return (
        select(earlier.id)
        .where(
            earlier.platform == OutboxMessage.platform,
            earlier.destination_kind == OutboxMessage.destination_kind,
            earlier.destination_key == OutboxMessage.destination_key,
            earlier.id < OutboxMessage.id,
            or_(
                earlier.status.in_((OutboxStatus.CLAIMED, OutboxStatus.SENDING)),
                (earlier.status == OutboxStatus.PENDING) & (earlier.next_attempt_at <= now),
            ),
        )
        .exists()
    )


class DeliveryWorker:
    """Claims and sends outbox rows. Several workers (tasks or replicas) may run at once."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        deliverers: Mapping[str, Deliverer],
        clock: Clock,
        settings: WorkerSettings | None = None,
        *,
        limiter: RateLimiter | None = None,
        name: str | None = None,
        after_send: Callable[[Delivery], Awaitable[None]] | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.sessions = sessions
        self.deliverers = dict(deliverers)
        self.clock = clock
        self.settings = settings or WorkerSettings()
        self.limiter = limiter or RateLimiter()
        self.name = name or f"worker-{uuid.uuid4().hex[:8]}"
        self._after_send = after_send  # a test hook: simulate a crash between send and commit
        self.metrics = metrics or Metrics()
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._sending: set[int] = set()
        self._stop = asyncio.Event()
        self._loop_done = asyncio.Event()
        self._loop_done.set()

    # -- running ----------------------------------------------------------------------------
    async def run_once(self) -> int:
        """Claim what is due now (up to ``concurrency``) and deliver it; return how many."""
        await self._release_waiting()
        claimed = await self._claim(self.settings.concurrency)
        await asyncio.gather(*(self._deliver(row_id, token) for row_id, token in claimed))
        return len(claimed)

    async def drain(self, max_rounds: int = 1000) -> int:
        """Deliver until nothing is due now (for jobs run from the CLI, tests and benchmarks)."""
        total = 0
        for _ in range(max_rounds):
            handled = await self.run_once()
            if not handled:
                break
            total += handled
        return total

    async def run_forever(self, wake: asyncio.Event | None = None, poll_seconds: float = 1.0) -> None:
        """Stream: keep up to ``concurrency`` rows in hand, claiming more whenever one is done,
        until :meth:`shutdown`."""
        logger.info("delivery worker %s started for %s", self.name, ", ".join(self.deliverers))
        self._loop_done.clear()
        try:
            while not self._stop.is_set():
                free = self.settings.concurrency - len(self._tasks)
                claimed: list[tuple[int, str]] = []
                if free > 0:
                    await self._release_waiting()
                    try:
                        claimed = await self._claim(free)
                    except Exception:
                        logger.exception("could not claim outbox rows; trying again shortly")
                for row_id, token in claimed:
                    self._start(row_id, token)
                if claimed and len(claimed) == free:
                    await self._wait_for(self._slot_freed())
                elif not claimed:
                    await self._wait_for(self._woken(wake, poll_seconds))
        finally:
            self._loop_done.set()

    def _start(self, row_id: int, token: str) -> None:
        task = asyncio.create_task(self._deliver(row_id, token), name=f"outbox-{row_id}")
        self._tasks[row_id] = task
        task.add_done_callback(lambda done: self._forget(row_id, done))

    def _forget(self, row_id: int, task: asyncio.Task[None]) -> None:
        self._tasks.pop(row_id, None)
        if not task.cancelled():
            task.exception()  # already logged in _deliver; retrieved so asyncio does not warn

    async def _slot_freed(self) -> None:
        if self._tasks:
            await asyncio.wait(list(self._tasks.values()), return_when=asyncio.FIRST_COMPLETED)

    async def _woken(self, wake: asyncio.Event | None, poll_seconds: float) -> None:
        if wake is None:
            await asyncio.sleep(poll_seconds)
            return
        wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), timeout=poll_seconds)

    async def _wait_for(self, waiting: Awaitable[None]) -> None:
        """Wait for ``waiting`` or for a shutdown, whichever comes first."""
        stop = asyncio.ensure_future(self._stop.wait())
        other = asyncio.ensure_future(waiting)
        try:
            await asyncio.wait({stop, other}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for future in (stop, other):
                future.cancel()

    async def shutdown(self, grace: float | None = None) -> None:
        """Stop claiming; release rows not yet sending; let sends under way finish within
        ``grace`` seconds (default ``shutdown_grace``), then cut them off (recorded ambiguous,
        so whoever takes the row next reads the platform back first)."""
        grace = self.settings.shutdown_grace if grace is None else grace
        self._stop.set()
        await self._loop_done.wait()
        waiting = [task for row_id, task in self._tasks.items() if row_id not in self._sending]
        for task in waiting:
            task.cancel()
        pending = list(self._tasks.values())
        if pending:
            logger.info(
                "delivery worker %s stopping: %d sends to finish, %d rows released",
                self.name,
                len(pending) - len(waiting),
                len(waiting),
            )
            _, late = await asyncio.wait(pending, timeout=grace)
            for task in late:
                task.cancel()
            if late:
                await asyncio.wait(late, timeout=5.0)
        logger.info("delivery worker %s stopped", self.name)

    async def _release_waiting(self) -> None:
        """Waiting rows whose destination became reachable go back to ``pending`` first."""
        finders = waiting_finders(self.deliverers)
        if not finders:
            return
        try:
            await release_waiting(
                self.sessions,
                finders,
                self.clock.now(),
                expiry=self.settings.waiting_expiry,
                recheck=self.settings.waiting_recheck,
            )
        except Exception:
            logger.exception("could not re-check waiting messages; will try again")

    # -- claiming ---------------------------------------------------------------------------
    async def _claim(self, limit: int) -> list[tuple[int, str]]:
        now = self.clock.now()
        due = or_(
            (OutboxMessage.status == OutboxStatus.PENDING) & (OutboxMessage.next_attempt_at <= now),
            OutboxMessage.status.in_((OutboxStatus.CLAIMED, OutboxStatus.SENDING))
            & (OutboxMessage.lease_until < now),
        )
        async with self.sessions() as session, session.begin():
            query = (
                select(OutboxMessage.id)
                .where(due, OutboxMessage.platform.in_(list(self.deliverers)), ~_earlier_in_line(now))
                .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
                .limit(limit)
            )
            if dialect_name(session) == "postgresql":
                query = query.with_for_update(skip_locked=True)
            ids = list(await session.scalars(query))
            if not ids:
                return []
            # On SQLite the UPDATE re-checks "due", so a row another worker took in between
            # (SQLite serialises writers) is not taken twice. A row left "sending" by a crash
            # keeps its in_doubt_since, so it is reconciled before anything else.
            token = f"{self.name}:{uuid.uuid4().hex[:8]}"
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(ids), due)
                .values(status=OutboxStatus.CLAIMED, claimed_by=token, lease_until=now + self.settings.lease)
                .execution_options(synchronize_session=False)
            )
            taken = await session.scalars(
                select(OutboxMessage.id).where(
                    OutboxMessage.claimed_by == token, OutboxMessage.status == OutboxStatus.CLAIMED
                )
            )
            return [(row_id, token) for row_id in taken]

    async def _keep_lease(self, row_id: int, token: str) -> None:
        """Extend this row's lease for as long as its own task runs (waiting for the limiter,
        a long Retry-After, a slow platform), so no other worker reclaims it meanwhile."""
        interval = max(self.settings.lease.total_seconds() / 3, 0.05)
        while True:
            await asyncio.sleep(interval)
            try:
                async with self.sessions() as session, session.begin():
                    await session.execute(
                        update(OutboxMessage)
                        .where(OutboxMessage.id == row_id, OutboxMessage.claimed_by == token)
                        .values(lease_until=self.clock.now() + self.settings.lease)
                    )
            except Exception:
                logger.exception("could not extend the lease of outbox row %s", row_id)

    # -- delivering -------------------------------------------------------------------------
    async def _deliver(self, row_id: int, token: str) -> None:
        keeper = asyncio.create_task(self._keep_lease(row_id, token))
        started = False
        try:
            loaded = await self._load(row_id, token)
            if loaded is None:
                return
            deliverer = self.deliverers[loaded.delivery.platform]
            if loaded.in_doubt_since is not None and await self._settle_doubt(loaded, deliverer, token):
                return
            if self._past_deadline(loaded):
                await self._finish(row_id, token, OutboxStatus.EXPIRED, error=self._expiry_note(loaded))
                return
            if not await self._prepare(row_id, token, loaded.delivery, deliverer):
                return
            await self.limiter.acquire(deliverer.limits(loaded.delivery))
            if not await self._mark_sending(row_id, token):
                return
            started = True
            self._sending.add(row_id)
            await self._send(row_id, token, loaded.delivery, deliverer)
        except asyncio.CancelledError:
            await asyncio.shield(self._cut_off(row_id, token, started))
            raise
        except Exception:
            # A bug or the database gone: like a crash, the row's lease lapses and whoever
            # takes it next reads the platform back first if a send had started.
            logger.exception("outbox row %s: delivery failed unexpectedly", row_id)
            raise
        finally:
            self._sending.discard(row_id)
            keeper.cancel()

    async def _load(self, row_id: int, token: str) -> _Loaded | None:
        async with self.sessions() as session:
            row = await session.get_one(OutboxMessage, row_id)
            if row.claimed_by != token:
                return None
            person = await session.get(Person, row.person_id) if row.person_id else None
            delivery = Delivery(
                outbox_id=row.id,
                key=row.idempotency_key,
                platform=row.platform,
                destination_kind=row.destination_kind,
                destination_key=row.destination_key,
                message=Message.from_json(row.payload),
                attempt=row.attempts + 1,
                person_email=person.email if person else None,
                person_name=person.name if person else "",
                previously_claimed_at=row.in_doubt_since,
                kind=row.kind,
            )
            return _Loaded(delivery, row.expires_at, row.in_doubt_since)

    def _past_deadline(self, loaded: _Loaded) -> bool:
        return loaded.expires_at is not None and self.clock.now() >= loaded.expires_at

    @staticmethod
    def _expiry_note(loaded: _Loaded) -> str:
        deadline = loaded.expires_at.isoformat(timespec="minutes") if loaded.expires_at else "?"
        return f"expired: not delivered by its deadline ({deadline})"

    async def _prepare(self, row_id: int, token: str, delivery: Delivery, deliverer: Deliverer) -> bool:
        """Let the deliverer do what needs no pacing (open the DM) before the limiter, so that
        the paced post follows its turn at once. False when that already failed (recorded)."""
        prepare: Callable[[Delivery], Awaitable[None]] | None = getattr(deliverer, "prepare", None)
        if prepare is None:
            return True
        try:
            await asyncio.wait_for(prepare(delivery), self.settings.send_timeout)
        except TimeoutError:
            await self._record_failure(row_id, token, delivery, RetryLater("no answer while preparing"))
            return False
        except SendFailed as failure:
            if failure.outcome is SendOutcome.THROTTLED:  # no attempt was counted to give back
                wait = timedelta(seconds=failure.retry_after or 1.0)
                await self._reschedule(row_id, token, wait, f"throttled: {failure.reason}")
                return False
            if failure.outcome is SendOutcome.AMBIGUOUS:  # nothing is posted while preparing
                failure = RetryLater(failure.reason, failure.retry_after)
            await self._record_failure(row_id, token, delivery, failure)
            return False
        return True

    async def _mark_sending(self, row_id: int, token: str) -> bool:
        """Committed right before the send: from here on the message may reach the platform."""
        async with self.sessions() as session, session.begin():
            result = await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == row_id, OutboxMessage.claimed_by == token)
                .values(
                    status=OutboxStatus.SENDING,
                    attempts=OutboxMessage.attempts + 1,
                    in_doubt_since=self.clock.now(),
                    lease_until=self.clock.now() + self.settings.lease,
                )
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    async def _send(self, row_id: int, token: str, delivery: Delivery, deliverer: Deliverer) -> None:
        try:
            with self.metrics.send_seconds.labels(delivery.platform).time():
                message_id = await asyncio.wait_for(deliverer.send(delivery), self.settings.send_timeout)
        except TimeoutError:
            exc: SendFailed = Ambiguous(f"no answer within {self.settings.send_timeout:g} s")
            await self._record_failure(row_id, token, delivery, exc)
            return
        except SendFailed as failure:
            await self._record_failure(row_id, token, delivery, failure)
            return
        except Exception as error:
            logger.exception("outbox %s: unexpected error from %s", delivery.key, delivery.platform)
            await self._record_failure(row_id, token, delivery, Ambiguous(f"unexpected error: {error!r}"))
            return
        self.metrics.sends.labels(delivery.platform, "sent").inc()
        if self._after_send is not None:
            await self._after_send(delivery)
        await self._finish(row_id, token, OutboxStatus.SENT, message_id=message_id)

    async def _settle_doubt(self, loaded: _Loaded, deliverer: Deliverer, token: str) -> bool:
        """An earlier send may have arrived: ask the platform, else apply the kind's policy.
        True when the row is settled (nothing more to send)."""
        delivery = loaded.delivery
        row_id = delivery.outbox_id
        try:
            arrived = await deliverer.reconcile(delivery)
        except Exception as exc:
            logger.warning(
                "outbox %s: could not read the platform back (%s); asking later", delivery.key, exc
            )
            await self._reschedule(
                row_id, token, backoff(delivery.attempt), f"reconciling: {exc}", doubt=True
            )
            return True
        if arrived:
            self.metrics.ambiguous.labels(delivery.platform, "arrived").inc()
            logger.info("outbox %s had already arrived; not resent", delivery.key)
            await self._finish(row_id, token, OutboxStatus.SENT, error=None)
            return True
        if arrived is None and (
            self.settings.policy(delivery.kind) == "at_most_once" or self._past_deadline(loaded)
        ):
            note = (
                f"unconfirmed: an earlier send got an ambiguous answer and {delivery.platform} cannot "
                f"be asked whether it arrived; not resent ({delivery.kind or 'this kind'}: at most once)"
            )
            logger.warning("outbox %s: %s", delivery.key, note)
            self.metrics.ambiguous.labels(delivery.platform, "not resent").inc()
            await self._finish(row_id, token, OutboxStatus.UNCONFIRMED, error=note)
            return True
        self.metrics.ambiguous.labels(delivery.platform, "resent").inc()
        return False

    # -- recording --------------------------------------------------------------------------
    async def _finish(
        self,
        row_id: int,
        token: str,
        status: OutboxStatus,
        *,
        error: str | None = None,
        message_id: str | None = None,
    ) -> None:
        async with self.sessions() as session, session.begin():
            row = await session.get_one(OutboxMessage, row_id)
            if row.claimed_by != token:
                logger.warning(
                    "outbox row %s was taken over before its outcome (%s) was recorded", row_id, status
                )
                return
            row.status, row.last_error, row.lease_until = status, error, None
            if status != OutboxStatus.UNCONFIRMED:
                row.in_doubt_since = None
            if status == OutboxStatus.SENT:
                row.sent_at = self.clock.now()
                row.platform_message_id = message_id or row.platform_message_id

    async def _record_waiting(self, row_id: int, token: str, reason: str) -> None:
        """Not reachable yet (found while preparing or sending): wait and be re-checked before
        the next claims, until the message's deadline or ``waiting_expiry``. An attempt the
        send counted is given back: nothing was posted."""
        now = self.clock.now()
        async with self.sessions() as session, session.begin():
            row = await session.get_one(OutboxMessage, row_id)
            if row.claimed_by != token:
                return
            if row.status == OutboxStatus.SENDING:
                row.attempts = max(row.attempts - 1, 0)
            row.status, row.last_error = WAITING, f"waiting: {reason}"
            row.claimed_by, row.lease_until, row.in_doubt_since = None, None, None
            row.next_attempt_at = now + self.settings.waiting_recheck
            if row.expires_at is not None:
                row.next_attempt_at = min(row.next_attempt_at, row.expires_at)
        logger.info("outbox %s waits: %s", row_id, reason)

    async def _reschedule(
        self, row_id: int, token: str, wait: timedelta, note: str, *, used: bool = True, doubt: bool = False
    ) -> None:
        """Back to ``pending`` in ``wait``; ``used=False`` gives the attempt back (throttled);
        ``doubt`` keeps ``in_doubt_since`` (the send may have arrived)."""
        async with self.sessions() as session, session.begin():
            row = await session.get_one(OutboxMessage, row_id)
            if row.claimed_by != token:
                return
            row.status, row.lease_until, row.claimed_by = OutboxStatus.PENDING, None, None
            row.next_attempt_at = self.clock.now() + wait
            row.last_error = note
            if not used:
                row.attempts = max(row.attempts - 1, 0)
            if doubt:
                return
            row.in_doubt_since = None
            if row.expires_at is not None and row.next_attempt_at >= row.expires_at:
                deadline = row.expires_at.isoformat(timespec="minutes")
                row.status = OutboxStatus.EXPIRED
                row.last_error = f"expired: not delivered by its deadline ({deadline}); last: {note}"

    async def _record_failure(self, row_id: int, token: str, delivery: Delivery, exc: SendFailed) -> None:
        outcome = exc.outcome
        self.metrics.sends.labels(delivery.platform, OUTCOME_METRIC[outcome]).inc()
        if outcome is SendOutcome.THROTTLED:
            self.metrics.throttled.labels(delivery.platform).inc()
        if outcome is not SendOutcome.REJECTED:  # put back to be tried again later
            self.metrics.retries.labels(delivery.platform).inc()
        if isinstance(exc, NotReachableYet):
            await self._record_waiting(row_id, token, exc.reason)
            return
        if outcome is SendOutcome.REJECTED:
            logger.warning("outbox %s to %s rejected: %s", delivery.key, delivery.platform, exc.reason)
            await self._finish(row_id, token, OutboxStatus.FAILED, error=exc.reason)
            return
        if outcome is SendOutcome.THROTTLED:
            wait = timedelta(seconds=exc.retry_after if exc.retry_after is not None else 1.0)
            if exc.bucket:
                await self.limiter.pause(exc.bucket, wait.total_seconds())
            await self._reschedule(row_id, token, wait, f"throttled: {exc.reason}", used=False)
            return
        wait = backoff(delivery.attempt)
        if exc.retry_after is not None:
            wait = max(wait, timedelta(seconds=exc.retry_after))
        if outcome is SendOutcome.AMBIGUOUS:
            logger.info("outbox %s: ambiguous (%s); will read the platform back", delivery.key, exc.reason)
            await self._reschedule(row_id, token, max(SETTLE, wait), f"ambiguous: {exc.reason}", doubt=True)
            return
        logger.info("outbox %s: %s; next try in %.0fs", delivery.key, exc.reason, wait.total_seconds())
        await self._reschedule(row_id, token, wait, f"retrying: {exc.reason}")

    async def _cut_off(self, row_id: int, token: str, started: bool) -> None:
        """Hand the row back: not sent yet -> pending now (lease cleared); a send was under way
        -> ambiguous, so whoever takes it next reads the platform back first."""
        async with self.sessions() as session, session.begin():
            row = await session.get(OutboxMessage, row_id)
            if (
                row is None
                or row.claimed_by != token
                or row.status
                not in (
                    OutboxStatus.CLAIMED,
                    OutboxStatus.SENDING,
                )
            ):
                return
            if started and row.status == OutboxStatus.SENDING:
                row.last_error = "ambiguous: the send was cut off (shutdown or error)"
            elif row.status == OutboxStatus.SENDING:  # marked but the send never started
                row.attempts = max(row.attempts - 1, 0)
                row.in_doubt_since = None
            row.status, row.claimed_by, row.lease_until = OutboxStatus.PENDING, None, None
            row.next_attempt_at = self.clock.now()
