"""Pacing shared by replicas: two limiters on one store (PostgreSQL rows or Redis) count the
same sends and honour each other's Retry-After pauses; in memory (SQLite) for one process."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from scheduler.ratelimit import Limit, MemoryStore, PaceStore, PostgresStore, RateLimiter, RedisStore

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


async def _redis_up() -> bool:
    try:
        store = RedisStore(REDIS_URL)
        await store.paused_for("ping")
        await store.close()
        return True
    except Exception:
        return False


@pytest.fixture(params=[pytest.param("postgres", marks=pytest.mark.postgres), "redis"])
async def shared(
    request: pytest.FixtureRequest, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[tuple[PaceStore, PaceStore]]:
    """Two stores as two replicas would have them (separate objects, one backing store)."""
    if request.param == "postgres":  # left out of the SQLite pass (marked postgres)
        stores = PostgresStore(sessions), PostgresStore(sessions)
        yield stores
        for store in stores:
            await store.close()
        return
    if not await _redis_up():
        if os.environ.get("CI") == "true":
            raise RuntimeError(f"Redis at {REDIS_URL} is required under CI")
        pytest.skip(f"Redis at {REDIS_URL} is not reachable")
    prefix = f"learnbot-test:{uuid.uuid4().hex}:"
    first, second = RedisStore(REDIS_URL, prefix), RedisStore(REDIS_URL, prefix)
    yield first, second
    await first.close()
    await second.close()


async def _send_times(limiter: RateLimiter, limits: list[Limit], count: int) -> list[float]:
    stamps = []
    for _ in range(count):
        await limiter.acquire(limits)
        stamps.append(time.monotonic())
    return stamps


def _most_in_any_window(stamps: list[float], per: float) -> int:
    ordered = sorted(stamps)
    return max(sum(1 for t in ordered[i:] if t < start + per) for i, start in enumerate(ordered))


async def test_replicas_together_stay_within_the_limit(shared: tuple[PaceStore, PaceStore]) -> None:
    bucket = f"slack:workspace:{uuid.uuid4().hex}"
    limits = [Limit(bucket, 5, 0.5)]
    first, second = RateLimiter(shared[0]), RateLimiter(shared[1])
    started = time.monotonic()
    a, b = await asyncio.gather(_send_times(first, limits, 10), _send_times(second, limits, 10))
    elapsed = time.monotonic() - started
    assert a and b
    # 20 sends at 5 per 0.5 s take at least 1.5 s together; alone each replica would take 0.5 s.
    assert elapsed >= 1.4
    assert _most_in_any_window(a + b, 0.4) <= 5  # (seen from here, after the database granted)


async def test_a_pause_from_one_replica_holds_the_other(shared: tuple[PaceStore, PaceStore]) -> None:
    bucket = f"slack:workspace:{uuid.uuid4().hex}"
    first, second = RateLimiter(shared[0]), RateLimiter(shared[1])
    started = time.monotonic()
    await first.pause(bucket, 0.6)  # replica one got a 429 with Retry-After
    assert 0.0 < await second.paused_for(bucket) <= 0.6
    await second.acquire([Limit(bucket, 100, 1.0)])
    assert time.monotonic() - started >= 0.55


async def test_several_limits_are_taken_together_or_not_at_all(shared: tuple[PaceStore, PaceStore]) -> None:
    tag = uuid.uuid4().hex
    workspace, channel = Limit(f"w:{tag}", 100, 1.0), Limit(f"c:{tag}", 1, 30.0)
    store = shared[0]
    assert await store.try_take([workspace, channel]) == 0
    assert await store.try_take([workspace, channel]) > 25  # the channel is full ...
    assert await store.try_take([workspace]) == 0  # ... and took nothing from the workspace
    assert await store.try_take([Limit(f"w:{tag}", 2, 1.0)]) > 0  # (two counted, not three)


async def test_in_memory_store_for_one_process() -> None:
    limiter = RateLimiter(MemoryStore())
    limits = [Limit("channel:C1", 2, 0.2)]
    stamps = await _send_times(limiter, limits, 6)
    assert stamps[-1] - stamps[0] >= 0.4
    assert _most_in_any_window(stamps, 0.19) <= 2
