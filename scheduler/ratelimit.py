"""Pacing for platform rate limits, per bucket (a channel, a workspace, a tenant), shared by
every replica.

A sliding window per bucket: at most ``count`` sends in any ``per`` seconds (the platforms
count this way, so a token bucket's bursts would overshoot them). A 429's ``Retry-After``
closes a bucket until the given time, for every replica.

Where the counts live (:class:`PaceStore`):

* :class:`MemoryStore`: in this process (SQLite deployments run one process).
* :class:`PostgresStore`: one ``rate_buckets`` row per bucket, taken ``FOR UPDATE`` and timed
  by the database's clock, so replicas on different machines count the same sends.
* :class:`RedisStore`: a sorted set and a pause key per bucket, checked and taken in one Lua
  script (atomic), timed by Redis' clock; used when ``REDIS_URL`` is set.

:class:`RateLimiter` queues a process's sends per bucket, so only one of them at a time asks
the shared store (instead of every waiting send polling the database).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy import delete, func, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from storage.models import RateBucket

logger = logging.getLogger(__name__)

MAX_SLEEP = 2.0
"""Ask the shared store again at least this often while waiting (another replica may pause)."""
STALE_SECONDS = 3600.0
TAKE = text("SELECT learnbot_pace_take(:buckets, :counts, :pers)")


@dataclass(frozen=True, slots=True)
class Limit:
    """At most ``count`` sends per ``per`` seconds in ``bucket``."""

    bucket: str
    count: int
    per: float


class PaceStore(Protocol):
    async def try_take(self, limits: Sequence[Limit]) -> float:
        """Count one send in every limit if they all allow it now and return 0; otherwise
        take nothing and return the seconds to wait before asking again."""
        ...

    async def pause(self, bucket: str, seconds: float) -> None:
        """Close ``bucket`` for ``seconds`` from now (a 429's Retry-After), for everyone."""
        ...

    async def paused_for(self, bucket: str) -> float: ...


def _window_wait(stamps: list[float], paused_until: float, limit: Limit, now: float) -> float:
    """Seconds until ``limit`` allows one more send, given its recent ``stamps`` (pruned)."""
    if paused_until > now:
        return paused_until - now
    if len(stamps) >= limit.count:
        return max(stamps[len(stamps) - limit.count] + limit.per - now, 0.001)
    return 0.0


@dataclass(slots=True)
class _Window:
    stamps: deque[float] = field(default_factory=deque)
    closed_until: float = 0.0


class MemoryStore:
    """Counts in this process only: right for one process (SQLite)."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._windows: dict[str, _Window] = {}
        self._monotonic = monotonic

    def _window(self, bucket: str) -> _Window:
        return self._windows.setdefault(bucket, _Window())

    async def try_take(self, limits: Sequence[Limit]) -> float:
        now = self._monotonic()
        wait = 0.0
        for limit in limits:
            window = self._window(limit.bucket)
            while window.stamps and window.stamps[0] <= now - limit.per:
                window.stamps.popleft()
            wait = max(wait, _window_wait(list(window.stamps), window.closed_until, limit, now))
        if wait > 0:
            return wait
        for limit in limits:
            self._window(limit.bucket).stamps.append(now)
        return 0.0

    async def pause(self, bucket: str, seconds: float) -> None:
        window = self._window(bucket)
        window.closed_until = max(window.closed_until, self._monotonic() + seconds)

    async def paused_for(self, bucket: str) -> float:
        return max(0.0, self._window(bucket).closed_until - self._monotonic())


class PostgresStore:
    """Counts in PostgreSQL rows (``rate_buckets``), checked and taken by one server-side
    function call, timed by the database's clock."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions
        bind = sessions.kw.get("bind")
        if not isinstance(bind, AsyncEngine):
            raise TypeError("PostgresStore needs a session factory bound to an engine")
        self.engine = bind
        self._calls = 0
        self._open: AsyncConnection | None = None
        self._lock = asyncio.Lock()

    async def _now(self, session: AsyncSession) -> float:
        return float(await session.scalar(select(func.extract("epoch", func.clock_timestamp()))) or 0)

    async def try_take(self, limits: Sequence[Limit]) -> float:
        """One call of the ``learnbot_pace_take`` function (migration 0014): the rows are
        locked only while it runs in the server, not across client round trips, so replicas
        taking turns on a busy bucket do not queue behind each other's network latency. It
        runs on a connection of its own, kept open (no pool checkout or pre-ping per turn)."""
        ordered = sorted(limits, key=lambda limit: limit.bucket)
        parameters = {
            "buckets": [limit.bucket for limit in ordered],
            "counts": [limit.count for limit in ordered],
            "pers": [float(limit.per) for limit in ordered],
        }
        async with self._lock:
            for attempt in (1, 2):
                try:
                    connection = await self._connection()
                    wait = await connection.scalar(TAKE, parameters)
                    break
                except (DBAPIError, OSError):
                    await self.close()  # a broken connection: open a new one once
                    if attempt == 2:
                        raise
        self._calls += 1
        if self._calls % 1000 == 0:
            await self._sweep()
        return float(wait or 0.0)

    async def _connection(self) -> AsyncConnection:
        if self._open is None:
            connection = await self.engine.connect()
            self._open = await connection.execution_options(isolation_level="AUTOCOMMIT")
        return self._open

    async def close(self) -> None:
        if self._open is not None:
            with contextlib.suppress(Exception):
                await self._open.close()
            self._open = None

    async def _sweep(self) -> None:
        """Now and then, forget buckets nobody used for an hour (one per DM'd person)."""
        async with self.sessions() as session, session.begin():
            now = await self._now(session)
            await session.execute(
                delete(RateBucket).where(
                    RateBucket.touched_at < now - STALE_SECONDS, RateBucket.paused_until < now
                )
            )

    async def pause(self, bucket: str, seconds: float) -> None:
        clock = func.extract("epoch", func.clock_timestamp())
        statement = pg_insert(RateBucket).values(
            bucket=bucket, stamps=[], paused_until=clock + seconds, touched_at=clock
        )
        statement = statement.on_conflict_do_update(
            index_elements=["bucket"],
            set_={
                "paused_until": func.greatest(RateBucket.paused_until, statement.excluded.paused_until),
                "touched_at": statement.excluded.touched_at,
            },
        )
        async with self.sessions() as session, session.begin():
            await session.execute(statement)

    async def paused_for(self, bucket: str) -> float:
        async with self.sessions() as session:
            now = await self._now(session)
            until = await session.scalar(select(RateBucket.paused_until).where(RateBucket.bucket == bucket))
            return max(0.0, (until or 0.0) - now)


_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local n = #KEYS / 2
local wait = 0
for i = 1, n do
  local window, pause = KEYS[2 * i - 1], KEYS[2 * i]
  local count, per = tonumber(ARGV[2 * i]), tonumber(ARGV[2 * i + 1])
  local paused = tonumber(redis.call('GET', pause) or '0')
  if paused > now then
    wait = math.max(wait, paused - now)
  else
    redis.call('ZREMRANGEBYSCORE', window, '-inf', now - per)
    if redis.call('ZCARD', window) >= count then
      local oldest = redis.call('ZRANGE', window, -count, -count, 'WITHSCORES')
      wait = math.max(wait, tonumber(oldest[2]) + per - now, 0.001)
    end
  end
end
if wait > 0 then return tostring(wait) end
for i = 1, n do
  local per = tonumber(ARGV[2 * i + 1])
  redis.call('ZADD', KEYS[2 * i - 1], now, ARGV[1] .. ':' .. i)
  redis.call('PEXPIRE', KEYS[2 * i - 1], math.ceil(per * 1000) + 1000)
end
return '0'
"""

_PAUSE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local wanted = now + tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if wanted > current then
  redis.call('SET', KEYS[1], tostring(wanted), 'PX', math.ceil(tonumber(ARGV[1]) * 1000) + 1000)
end
return tostring(math.max(wanted, current) - now)
"""

_PAUSED_FOR = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
return tostring(math.max(tonumber(redis.call('GET', KEYS[1]) or '0') - now, 0))
"""


class RedisStore:
    """Counts in Redis (``REDIS_URL``): each check-and-take is one atomic Lua script."""

    def __init__(self, url: str, prefix: str = "learnbot:pace:") -> None:
        import redis.asyncio as redis  # only deployments with REDIS_URL need the client

        self._redis = redis.from_url(url)
        self._prefix = prefix
        self._take = self._redis.register_script(_TAKE)
        self._pause = self._redis.register_script(_PAUSE)
        self._paused_for = self._redis.register_script(_PAUSED_FOR)

    def _keys(self, bucket: str) -> list[str]:
        return [f"{self._prefix}{bucket}:window", f"{self._prefix}{bucket}:pause"]

    async def try_take(self, limits: Sequence[Limit]) -> float:
        keys: list[str] = []
        args: list[str | float | int] = [uuid.uuid4().hex]
        for limit in limits:
            keys.extend(self._keys(limit.bucket))
            args.extend([limit.count, limit.per])
        return float(await self._take(keys=keys, args=args))

    async def pause(self, bucket: str, seconds: float) -> None:
        await self._pause(keys=self._keys(bucket)[1:], args=[seconds])

    async def paused_for(self, bucket: str) -> float:
        return float(await self._paused_for(keys=self._keys(bucket)[1:]))

    async def close(self) -> None:
        await self._redis.aclose()


class RateLimiter:
    """Waits until every limit of a send allows it, then counts it (in the shared store)."""

    def __init__(
        self, store: PaceStore | None = None, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self.store: PaceStore = store or MemoryStore(monotonic)
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def _queue(self, bucket: str) -> AsyncIterator[None]:
        """This process's sends for ``bucket`` take turns asking the store."""
        lock, users = self._locks.get(bucket) or (asyncio.Lock(), 0)
        self._locks[bucket] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[bucket]
            if users <= 1:
                del self._locks[bucket]
            else:
                self._locks[bucket] = (lock, users - 1)

    async def acquire(self, limits: Sequence[Limit]) -> None:
        """Buckets are queued for in a fixed order so two sends sharing buckets cannot deadlock."""
        if not limits:
            return
        ordered = sorted(limits, key=lambda item: item.bucket)
        async with AsyncExitStack() as stack:
            for limit in ordered:
                await stack.enter_async_context(self._queue(limit.bucket))
            while True:
                wait = await self.store.try_take(ordered)
                if wait <= 0:
                    return
                await asyncio.sleep(min(wait, MAX_SLEEP))

    async def pause(self, bucket: str, seconds: float) -> None:
        """Close ``bucket`` for ``seconds`` (a 429's Retry-After) for every replica."""
        await self.store.pause(bucket, seconds)

    async def paused_for(self, bucket: str) -> float:
        return await self.store.paused_for(bucket)

    async def close(self) -> None:
        """Close the store's own connections (PostgreSQL, Redis), if it has any."""
        close = getattr(self.store, "close", None)
        if close is not None:
            await close()


def shared_store(
    sessions: async_sessionmaker[AsyncSession], dialect: str, redis_url: str | None
) -> PaceStore:
    """Redis when ``REDIS_URL`` is set, else PostgreSQL rows, else (SQLite) this process."""
    if redis_url:
        return RedisStore(redis_url)
    if dialect == "postgresql":
        return PostgresStore(sessions)
    return MemoryStore()
