"""The outbox delivery worker: claim due rows, send them through the platform's deliverer,
record the outcome. Exactly once, across crashes, restarts and replicas.

How a row moves:

* ``pending`` -> claimed: set to ``sending`` with a lease (``claimed_by``, ``lease_until``)
  and committed *before* anything is sent. On PostgreSQL, claiming uses
  ``FOR UPDATE SKIP LOCKED`` so replicas never take the same row.
* sent: ``sent`` with the platform's message id, committed right after the send.
* a 429/5xx: back to ``pending`` with ``next_attempt_at`` = now + max(Retry-After, backoff).
* a permanent error (not in channel, account inactive, ...): ``failed`` with the reason.

A crash between the send and the commit leaves the row ``sending``. When its lease runs out, a
worker reclaims it and first asks the deliverer whether the message already arrived
(:meth:`Deliverer.reconcile`, e.g. Slack message metadata carrying the outbox key). Only a
message that did not arrive is sent again, so nothing is lost and nothing is sent twice.
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
from typing import Protocol

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.messages import Message
from scheduler.metrics import Metrics
from scheduler.ratelimit import Limit, RateLimiter
from storage.db import dialect_name
from storage.models import OutboxMessage, OutboxStatus, Person

logger = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(minutes=30)


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


class RetryLater(Exception):
    """Temporary failure (429, 5xx, timeout). ``retry_after`` in seconds if the platform said;
    ``bucket`` names the rate-limit bucket to pause for that long."""

    def __init__(self, reason: str, retry_after: float | None = None, bucket: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after
        self.bucket = bucket


class Undeliverable(Exception):
    """Permanent failure: retrying cannot help (channel gone, bot not in channel, user
    deactivated, person not reachable). Recorded as ``failed`` with this reason."""


class Deliverer(Protocol):
    platform: str

    def limits(self, delivery: Delivery) -> list[Limit]:
        """The rate-limit buckets this send counts against."""
        ...

    async def send(self, delivery: Delivery) -> str | None:
        """Send it; return the platform's message id. Raise RetryLater or Undeliverable."""
        ...

    async def reconcile(self, delivery: Delivery) -> bool | None:
        """After a crash: did this delivery already arrive? ``None`` if the platform can't tell."""
        ...


def backoff(attempt: int, rng: random.Random | None = None) -> timedelta:
    """Exponential backoff with full jitter: about 2 s, 4 s, 8 s ... capped at 30 minutes."""
    rng = rng or random.Random()
    ceiling = min(MAX_BACKOFF.total_seconds(), 2.0 * (2 ** max(attempt - 1, 0)))
    return timedelta(seconds=ceiling / 2 + rng.uniform(0, ceiling / 2))


@dataclass(frozen=True, slots=True)
class WorkerSettings:
    max_attempts: int = 8
    lease: timedelta = timedelta(seconds=60)
    batch_size: int = 100
    concurrency: int = 32
    resend_when_in_doubt: bool = False


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
        self._semaphore = asyncio.Semaphore(self.settings.concurrency)

    async def run_once(self) -> int:
        """Claim one batch of due rows and deliver them; return how many were handled."""
        token, claimed = await self._claim()
        if not claimed:
            return 0
        keeper = asyncio.create_task(self._keep_leases(token))
        try:
            await asyncio.gather(*(self._deliver(row_id) for row_id in claimed))
        finally:
            keeper.cancel()
        return len(claimed)

    async def _keep_leases(self, token: str) -> None:
        """Extend the lease of rows still being worked on (a long Retry-After pause or a slow
        rate limit must not let another worker reclaim and resend them)."""
        interval = max(self.settings.lease.total_seconds() / 3, 0.05)
        while True:
            await asyncio.sleep(interval)
            try:
                async with self.sessions() as session, session.begin():
                    await session.execute(
                        update(OutboxMessage)
                        .where(
                            OutboxMessage.claimed_by == token, OutboxMessage.status == OutboxStatus.SENDING
                        )
                        .values(lease_until=self.clock.now() + self.settings.lease)
                    )
            except Exception:
                logger.exception("could not extend outbox leases for %s", token)

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
        logger.info("delivery worker %s started for %s", self.name, ", ".join(self.deliverers))
        while True:
            try:
                handled = await self.run_once()
            except Exception:
                logger.exception("delivery round failed; retrying shortly")
                handled = 0
            if handled:
                continue
            if wake is None:
                await asyncio.sleep(poll_seconds)
                continue
            wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), timeout=poll_seconds)

    # -- claiming ---------------------------------------------------------------------------
    async def _claim(self) -> tuple[str, list[int]]:
        now = self.clock.now()
        due = or_(
            (OutboxMessage.status == OutboxStatus.PENDING) & (OutboxMessage.next_attempt_at <= now),
            (OutboxMessage.status == OutboxStatus.SENDING) & (OutboxMessage.lease_until < now),
        )
        platforms = list(self.deliverers)
        async with self.sessions() as session, session.begin():
            query = (
                select(OutboxMessage.id)
                .where(due, OutboxMessage.platform.in_(platforms))
                .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
                .limit(self.settings.batch_size)
            )
            if dialect_name(session) == "postgresql":
                query = query.with_for_update(skip_locked=True)
            ids = list(await session.scalars(query))
            if not ids:
                return "", []
            # On SQLite the UPDATE re-checks "due", so a row another worker took in between
            # (SQLite serialises writers) is not taken twice.
            token = f"{self.name}:{uuid.uuid4().hex[:8]}"
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(ids), due)
                .values(status=OutboxStatus.SENDING, claimed_by=token, lease_until=now + self.settings.lease)
                .execution_options(synchronize_session=False)
            )
            return token, list(
                await session.scalars(
                    select(OutboxMessage.id).where(
                        OutboxMessage.claimed_by == token, OutboxMessage.status == OutboxStatus.SENDING
                    )
                )
            )

    # -- delivering -------------------------------------------------------------------------
    async def _deliver(self, row_id: int) -> None:
        async with self._semaphore:
            async with self.sessions() as session:
                row = await session.get_one(OutboxMessage, row_id)
                person = await session.get(Person, row.person_id) if row.person_id else None
                in_doubt = row.attempts > 0 and row.last_error == _IN_FLIGHT
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
                    previously_claimed_at=row.next_attempt_at if in_doubt else None,
                )
                deliverer = self.deliverers[row.platform]
                if in_doubt and await self._already_arrived(session, row, deliverer, delivery):
                    return
                row.attempts += 1
                row.last_error = _IN_FLIGHT  # marks "a send may be under way" until recorded
                row.next_attempt_at = self.clock.now()
                await session.commit()

            platform = delivery.platform
            try:
                await self.limiter.acquire(deliverer.limits(delivery))
                with self.metrics.send_seconds.labels(platform).time():
                    message_id = await deliverer.send(delivery)
            except RetryLater as exc:
                if exc.bucket and exc.retry_after:
                    self.limiter.pause(exc.bucket, exc.retry_after)
                throttled = exc.retry_after is not None or "429" in exc.reason
                self.metrics.sends.labels(platform, "throttled" if throttled else "retry").inc()
                if throttled:
                    self.metrics.throttled.labels(platform).inc()
                await self._record_retry(row_id, delivery, exc)
                return
            except Undeliverable as exc:
                self.metrics.sends.labels(platform, "failed").inc()
                await self._record(row_id, status=OutboxStatus.FAILED, error=str(exc))
                logger.warning("outbox %s to %s failed: %s", delivery.key, delivery.platform, exc)
                return
            except Exception as exc:
                self.metrics.sends.labels(platform, "error").inc()
                logger.exception("outbox %s: unexpected error from %s", delivery.key, delivery.platform)
                await self._record_retry(row_id, delivery, RetryLater(f"unexpected error: {exc!r}"))
                return
            self.metrics.sends.labels(platform, "sent").inc()
            if self._after_send is not None:
                await self._after_send(delivery)
            await self._record(row_id, status=OutboxStatus.SENT, message_id=message_id)

    async def _already_arrived(
        self, session: AsyncSession, row: OutboxMessage, deliverer: Deliverer, delivery: Delivery
    ) -> bool:
        """A previous attempt may have sent this before crashing: ask the platform."""
        try:
            arrived = await deliverer.reconcile(delivery)
        except Exception:
            self.metrics.ambiguous.labels(delivery.platform, "error").inc()
            logger.exception("outbox %s: could not reconcile; will ask again", row.idempotency_key)
            row.status, row.claimed_by, row.lease_until = OutboxStatus.PENDING, None, None
            row.next_attempt_at = self.clock.now() + backoff(row.attempts)
            await session.commit()
            return True
        if arrived:
            row.status, row.sent_at, row.last_error = OutboxStatus.SENT, self.clock.now(), None
            row.lease_until = None
            await session.commit()
            self.metrics.ambiguous.labels(delivery.platform, "arrived").inc()
            logger.info("outbox %s had already arrived before a crash; not resent", row.idempotency_key)
            return True
        if arrived is None and not self.settings.resend_when_in_doubt:
            row.status, row.lease_until = OutboxStatus.FAILED, None
            row.last_error = (
                "in doubt: a crash interrupted the send and the platform cannot say "
                "whether it arrived; not resent to avoid a duplicate"
            )
            await session.commit()
            self.metrics.ambiguous.labels(delivery.platform, "not resent").inc()
            logger.warning("outbox %s: %s", row.idempotency_key, row.last_error)
            return True
        self.metrics.ambiguous.labels(delivery.platform, "resent").inc()
        return False

    async def _record(
        self, row_id: int, *, status: OutboxStatus, error: str | None = None, message_id: str | None = None
    ) -> None:
        async with self.sessions() as session, session.begin():
            row = await session.get_one(OutboxMessage, row_id)
            row.status, row.last_error, row.lease_until = status, error, None
            if status == OutboxStatus.SENT:
                row.sent_at = self.clock.now()
                row.platform_message_id = message_id

    async def _record_retry(self, row_id: int, delivery: Delivery, exc: RetryLater) -> None:
        now = self.clock.now()
        wait = backoff(delivery.attempt)
        if exc.retry_after is not None:
            wait = max(wait, timedelta(seconds=exc.retry_after))
        async with self.sessions() as session, session.begin():
            row = await session.get_one(OutboxMessage, row_id)
            row.lease_until = None
            self.metrics.retries.labels(delivery.platform).inc()
            if row.attempts >= self.settings.max_attempts:
                row.status = OutboxStatus.FAILED
                row.last_error = f"gave up after {row.attempts} attempts: {exc.reason}"
                logger.warning("outbox %s: %s", row.idempotency_key, row.last_error)
            else:
                row.status, row.next_attempt_at = OutboxStatus.PENDING, now + wait
                row.last_error = f"retrying: {exc.reason}"
                logger.info(
                    "outbox %s: %s; next try in %.0fs", row.idempotency_key, exc.reason, wait.total_seconds()
                )


_IN_FLIGHT = "in flight"
