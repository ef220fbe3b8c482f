"""The inbox: inbound requests are written to the database before they are acknowledged, then
processed from there exactly once, by this process or, after a crash, by whichever process
takes the row when its lease has passed.

Why: Slack and Teams do not resend a request once it was acknowledged, so a request held only
in memory between the ack and its processing is lost by a ``kill -9``. Here the adapter
:meth:`Inbox.put` s the request (one short INSERT, well inside Slack's 3 s) and only then
acks; an :class:`InboxWorker` in every process claims open rows with a lease and hands them to
the platform's processor.

Exactly once:

* a platform retry of the same request has the same ``dedup_key``: no second row;
* a row is claimed by one process at a time (``FOR UPDATE SKIP LOCKED`` on PostgreSQL; the
  UPDATE re-checks on SQLite), with a lease it extends while it works;
* the processor hands :meth:`InboxJob.record` to the core, which runs it in the event's own
  transaction: the core's changes and the row's move to ``answered`` (with the replies)
  commit together, or neither does. A process that lost its lease finds out there and rolls
  back (:class:`bot.errors.Abandoned`);
* replies are counted as they are sent, so a crash after the core committed sends only the
  replies that were not sent yet (the one in flight at the crash may be sent twice).

A person's rows are processed one at a time, oldest first (``order_key``), on every replica, so
a burst of messages is answered in the order it was written.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from bot.clock import Clock
from bot.errors import Abandoned
from bot.messages import Message
from storage.db import dialect_name
from storage.models import InboxItem, InboxStatus

logger = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)
MAX_ATTEMPTS = 5
"""A row that was taken this many times without finishing (it crashes the process, or its
processing keeps failing) is set aside as ``failed`` rather than blocking the person's next."""
CONCURRENCY = 8
"""Rows processed at once per process: enough to overlap platform and database round trips,
few enough that acks never queue behind them."""
POLL_SECONDS = 2.0
"""How often to look for rows left by another process (a crash) when nothing happens here."""
OPEN = (InboxStatus.PENDING, InboxStatus.TAKEN, InboxStatus.ANSWERED)


@dataclass(slots=True)
class InboxJob:
    """One claimed row, as a processor sees it."""

    inbox: Inbox
    id: int
    platform: str
    kind: str
    payload: dict[str, Any]
    token: str
    attempt: int
    replies: list[Message] | None = None
    """Set when the core already handled the request (a previous process crashed after)."""
    replies_sent: int = 0

    async def record(self, session: AsyncSession, replies: list[Message]) -> None:
        """The core's commit hook: store the replies in the event's own transaction."""
        result = await session.execute(
            update(InboxItem)
            .where(InboxItem.id == self.id, InboxItem.claimed_by == self.token)
            .values(
                status=InboxStatus.ANSWERED,
                replies={"messages": [reply.to_json() for reply in replies]},
                replies_sent=0,
            )
            .execution_options(synchronize_session=False)
        )
        if getattr(result, "rowcount", 1) != 1:
            raise Abandoned(f"inbox row {self.id} was taken over by another process")
        self.replies, self.replies_sent = list(replies), 0

    async def answered(self, replies: list[Message]) -> list[Message]:
        """The replies to send: the stored ones, else ``replies`` (stored now when the core
        did not, e.g. a refusal whose changes were rolled back)."""
        if self.replies is None:
            async with self.inbox.sessions() as session, session.begin():
                await self.record(session, replies)
        return list(self.replies or [])

    async def sent(self, count: int) -> None:
        """``count`` replies have been sent (a crash after this does not send them again)."""
        self.replies_sent = count
        await self.inbox.update(self, replies_sent=count)


Processor = Callable[[InboxJob], Awaitable[None]]


@dataclass(slots=True)
class Inbox:
    """Writing and claiming inbox rows (no processing: see :class:`InboxWorker`)."""

    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    lease: timedelta = LEASE
    name: str = field(default_factory=lambda: f"inbox-{uuid.uuid4().hex[:8]}")
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    _waiting: list[tuple[dict[str, Any], asyncio.Future[bool]]] = field(default_factory=list)
    _writer: asyncio.Task[None] | None = None

    async def put(
        self, platform: str, kind: str, dedup_key: str, order_key: str, payload: dict[str, Any]
    ) -> bool:
        """Write a request before acking it; False when it is a platform retry of one already
        written (nothing to do: the first is, or was, processed).

        Requests arriving together are written in one transaction (a group commit): on SQLite
        fifty concurrent INSERTs would otherwise queue on the database lock, each waiting in
        SQLite's busy-timeout sleeps, and the acks with them."""
        values = self._values(platform, kind, dedup_key, order_key, payload, None)
        written: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting.append((values, written))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_waiting())
        created = await written
        if not created:
            logger.info("%s %s %s was already received; not written again", platform, kind, dedup_key)
        return created

    async def _write_waiting(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, []
            try:
                async with self.sessions() as session, session.begin():
                    insert = pg_insert if dialect_name(session) == "postgresql" else sqlite_insert
                    created = set(
                        await session.scalars(
                            insert(InboxItem)
                            .values([values for values, _ in batch])
                            .on_conflict_do_nothing(index_elements=["platform", "dedup_key"])
                            .returning(InboxItem.dedup_key)
                        )
                    )
            except Exception as exc:
                for _, written in batch:
                    if not written.done():
                        written.set_exception(exc)
                continue
            for values, written in batch:
                if not written.done():
                    written.set_result(values["dedup_key"] in created)
            if created:
                self.arrived.set()

    async def put_and_take(
        self, platform: str, kind: str, dedup_key: str, order_key: str, payload: dict[str, Any]
    ) -> InboxJob | None:
        """Write a request already claimed by this process, to process it in the request that
        brought it (no worker can take it in between). None when it must wait instead: the
        person's earlier request is not done, or it is a redelivery another process holds."""
        token = f"{self.name}:{uuid.uuid4().hex[:8]}"
        row_id = await self._insert(platform, kind, dedup_key, order_key, payload, token)
        if row_id is None:  # a redelivery: take it if it is free
            jobs = await self.claim([platform], 1, dedup_key=dedup_key)
            return jobs[0] if jobs else None
        job = InboxJob(self, row_id, platform, kind, payload, token, attempt=1)
        earlier = aliased(InboxItem)
        async with self.sessions() as session:
            blocked = await session.scalar(
                select(earlier.id)
                .where(earlier.order_key == order_key[:300], earlier.id < row_id, earlier.status.in_(OPEN))
                .limit(1)
            )
        if blocked is None:
            return job
        await self.update(job, claimed_by=None, lease_until=None, status=InboxStatus.PENDING, attempts=0)
        self.arrived.set()
        return None

    async def _insert(
        self,
        platform: str,
        kind: str,
        dedup_key: str,
        order_key: str,
        payload: dict[str, Any],
        token: str | None,
    ) -> int | None:
        values = self._values(platform, kind, dedup_key, order_key, payload, token)
        async with self.sessions() as session, session.begin():
            insert = pg_insert if dialect_name(session) == "postgresql" else sqlite_insert
            row_id = await session.scalar(
                insert(InboxItem)
                .values(**values)
                .on_conflict_do_nothing(index_elements=["platform", "dedup_key"])
                .returning(InboxItem.id)
            )
        if row_id is None:
            logger.info("%s %s %s was already received; not written again", platform, kind, dedup_key)
        return row_id

    def _values(
        self,
        platform: str,
        kind: str,
        dedup_key: str,
        order_key: str,
        payload: dict[str, Any],
        token: str | None,
    ) -> dict[str, Any]:
        now = self.clock.now()
        return {
            "platform": platform,
            "kind": kind,
            "dedup_key": dedup_key[:300],
            "order_key": order_key[:300],
            "payload": payload,
            "status": (InboxStatus.TAKEN if token else InboxStatus.PENDING).value,
            "attempts": 1 if token else 0,
            "claimed_by": token,
            "lease_until": now + self.lease if token else None,
            "replies_sent": 0,
            "received_at": now,
        }

    def _due(self, now: datetime) -> Any:
        earlier = aliased(InboxItem)
        blocked = exists().where(
            earlier.order_key == InboxItem.order_key,
            earlier.id < InboxItem.id,
            earlier.status.in_(OPEN),
        )
        return and_(
            InboxItem.status.in_(OPEN),
            or_(InboxItem.lease_until.is_(None), InboxItem.lease_until < now),
            ~blocked,
        )

    async def claim(
        self, platforms: list[str], limit: int, *, dedup_key: str | None = None
    ) -> list[InboxJob]:
        """Take up to ``limit`` open rows nobody holds (a person's oldest first); with
        ``dedup_key``, only that request (when it is free and the person's oldest)."""
        if limit <= 0:
            return []
        now = self.clock.now()
        due = self._due(now)
        if dedup_key is not None:
            due = and_(due, InboxItem.dedup_key == dedup_key[:300])
        async with self.sessions() as session, session.begin():
            query = (
                select(InboxItem.id)
                .where(due, InboxItem.platform.in_(platforms))
                .order_by(InboxItem.id)
                .limit(limit)
            )
            if dialect_name(session) == "postgresql":
                query = query.with_for_update(skip_locked=True)
            ids = list(await session.scalars(query))
            if not ids:
                return []
            token = f"{self.name}:{uuid.uuid4().hex[:8]}"
            await session.execute(
                update(InboxItem)
                .where(InboxItem.id.in_(ids), due)
                .values(
                    claimed_by=token,
                    lease_until=now + self.lease,
                    attempts=InboxItem.attempts + 1,
                )
                .execution_options(synchronize_session=False)
            )
            rows = list(await session.scalars(select(InboxItem).where(InboxItem.claimed_by == token)))
            jobs: list[InboxJob] = []
            for row in rows:
                if row.attempts > MAX_ATTEMPTS:
                    row.status, row.lease_until = InboxStatus.FAILED, None
                    row.last_error = f"gave up after {MAX_ATTEMPTS} tries: {row.last_error or 'crashed'}"
                    logger.error("inbox %s (%s %s): %s", row.id, row.platform, row.kind, row.last_error)
                    continue
                if row.status == InboxStatus.PENDING:
                    row.status = InboxStatus.TAKEN
                stored = (row.replies or {}).get("messages") if row.status == InboxStatus.ANSWERED else None
                jobs.append(
                    InboxJob(
                        inbox=self,
                        id=row.id,
                        platform=row.platform,
                        kind=row.kind,
                        payload=dict(row.payload),
                        token=token,
                        attempt=row.attempts,
                        replies=[Message.from_json(m) for m in stored] if stored is not None else None,
                        replies_sent=row.replies_sent,
                    )
                )
            return jobs

    async def update(self, job: InboxJob, **values: Any) -> bool:
        async with self.sessions() as session, session.begin():
            result = await session.execute(
                update(InboxItem)
                .where(InboxItem.id == job.id, InboxItem.claimed_by == job.token)
                .values(**values)
                .execution_options(synchronize_session=False)
            )
        return bool(getattr(result, "rowcount", 1))

    async def finish(self, job: InboxJob, error: str | None = None) -> None:
        await self.update(
            job, status=InboxStatus.DONE, lease_until=None, done_at=self.clock.now(), last_error=error
        )

    async def release(self, job: InboxJob, error: str) -> None:
        """Processing failed: leave the row for another try (by anyone) right away."""
        await self.update(job, lease_until=None, last_error=error[:2000])

    async def extend(self, job: InboxJob) -> None:
        await self.update(job, lease_until=self.clock.now() + self.lease)

    async def open_count(self, platforms: list[str]) -> int:
        async with self.sessions() as session:
            rows = await session.scalars(
                select(InboxItem.id).where(self._due(self.clock.now()), InboxItem.platform.in_(platforms))
            )
            return len(list(rows))


class InboxWorker:
    """Claims open inbox rows and runs each platform's processor on them, a few at a time."""

    def __init__(
        self,
        inbox: Inbox,
        processors: Mapping[str, Processor],
        *,
        concurrency: int = CONCURRENCY,
        poll_seconds: float = POLL_SECONDS,
        ready: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        """``ready`` is awaited before each claim (Slack: let the acks of a burst go first)."""
        self.inbox = inbox
        self.processors = dict(processors)
        self.concurrency = concurrency
        self.poll_seconds = poll_seconds
        self.ready = ready
        self._running: set[asyncio.Task[None]] = set()
        self._loop: asyncio.Task[None] | None = None
        self._stopping = False

    def start(self) -> None:
        if self._loop is None or self._loop.done():
            self._stopping = False
            self._loop = asyncio.create_task(self._run(), name=f"{self.inbox.name}-loop")

    async def _run(self) -> None:
        wake = self.inbox.arrived
        while not self._stopping:
            try:
                if self.ready is not None:
                    await self.ready()
                await self.run_once()
            except Exception:
                logger.exception("inbox round failed; trying again shortly")
            wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), timeout=self.poll_seconds)

    async def run_once(self) -> int:
        """Claim what this process has room for and start processing it."""
        jobs = await self.inbox.claim(list(self.processors), self.concurrency - len(self._running))
        for job in jobs:
            task = asyncio.create_task(self._process(job))
            self._running.add(task)
            task.add_done_callback(self._running.discard)
        return len(jobs)

    async def _process(self, job: InboxJob) -> None:
        await self.run(job, self.processors[job.platform])

    async def run(self, job: InboxJob, processor: Processor) -> None:
        """Process a claimed row, holding its lease meanwhile; done, or released for another
        try when the processor fails."""
        keeper = asyncio.create_task(self._keep_lease(job))
        try:
            await processor(job)
        except Abandoned as exc:
            logger.warning("inbox %s: %s", job.id, exc)
        except Exception as exc:
            logger.exception(
                "inbox %s (%s %s) failed; it will be tried again", job.id, job.platform, job.kind
            )
            await self.inbox.release(job, f"{type(exc).__name__}: {exc}")
        else:
            await self.inbox.finish(job)
        finally:
            keeper.cancel()
            self.inbox.arrived.set()  # the person's next row may be waiting for this one

    async def _keep_lease(self, job: InboxJob) -> None:
        interval = max(self.inbox.lease.total_seconds() / 3, 0.05)
        while True:
            await asyncio.sleep(interval)
            try:
                await self.inbox.extend(job)
            except Exception:
                logger.exception("could not extend the lease of inbox row %s", job.id)

    async def idle(self) -> None:
        """Wait until nothing this process could take is left (tests, benchmarks, shutdown)."""
        self.start()
        while True:
            if self._running:
                await asyncio.wait(set(self._running))
                continue
            if not await self.inbox.open_count(list(self.processors)):
                if not self._running:
                    return
                continue
            await self.run_once()
            await asyncio.sleep(0.005)

    async def close(self, grace: float) -> None:
        """Stop claiming; give what is under way ``grace`` seconds, then leave it to its lease."""
        self._stopping = True
        self.inbox.arrived.set()
        if self._loop is not None:
            self._loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop
        if self._running:
            _done, pending = await asyncio.wait(set(self._running), timeout=grace)
            for task in pending:
                task.cancel()
            if pending:
                logger.warning(
                    "stopping with %s inbox row(s) under way; another process takes them", len(pending)
                )
