"""Pacing for platform rate limits, per bucket (a channel, a workspace, a tenant).

A sliding window per bucket: at most ``count`` sends in any ``per`` seconds. A 429's
``Retry-After`` closes a bucket until the given time. Limits are per process: with several
replicas each paces itself, and the platform's 429s (honoured here) keep the total in check.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Limit:
    """At most ``count`` sends per ``per`` seconds in ``bucket``."""

    bucket: str
    count: int
    per: float


@dataclass(slots=True)
class _Window:
    stamps: deque[float] = field(default_factory=deque)
    closed_until: float = 0.0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class RateLimiter:
    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._windows: dict[str, _Window] = {}
        self._monotonic = monotonic

    def _window(self, bucket: str) -> _Window:
        window = self._windows.get(bucket)
        if window is None:
            window = self._windows[bucket] = _Window()
        return window

    def pause(self, bucket: str, seconds: float) -> None:
        """Close ``bucket`` for ``seconds`` (a 429's Retry-After)."""
        window = self._window(bucket)
        window.closed_until = max(window.closed_until, self._monotonic() + seconds)

    def paused_for(self, bucket: str) -> float:
        return max(0.0, self._window(bucket).closed_until - self._monotonic())

    async def acquire(self, limits: list[Limit]) -> None:
        """Wait until every limit allows one more send, then count it in all of them.

        Buckets are taken in a fixed order so two sends sharing buckets cannot deadlock.
        """
        for limit in sorted(limits, key=lambda item: item.bucket):
            await self._acquire_one(limit)

    async def _acquire_one(self, limit: Limit) -> None:
        window = self._window(limit.bucket)
        async with window.lock:
            while True:
                now = self._monotonic()
                while window.stamps and window.stamps[0] <= now - limit.per:
                    window.stamps.popleft()
                wait = window.closed_until - now
                if wait <= 0 and len(window.stamps) < limit.count:
                    window.stamps.append(now)
                    return
                if wait <= 0:
                    wait = window.stamps[0] + limit.per - now
                await asyncio.sleep(max(wait, 0.001))
