"""Pacing by arrival: Teams counts messages when they *arrive*, so a window here counts a send
from the moment it starts until its response comes back, and then remembers it with the time
of the response.

The outbox worker's :class:`scheduler.ratelimit.RateLimiter` counts a send when it is
*admitted*; the database read and rendering that follow take a variable time, so sends admitted
exactly at the limit can still reach Teams a little too close together and get 429s. Here a new
send may start only when fewer than ``count`` sends are in flight or answered within the last
``per`` seconds. The response time is an upper bound of the arrival and the start a lower bound
of the next arrival, so no window at Teams ever sees more than ``count``, whatever the latency.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from scheduler.ratelimit import Limit

POLL = 0.005
"""How often to look again when every slot is taken by a send still in flight."""


@dataclass(slots=True)
class _Window:
    answered: deque[float] = field(default_factory=deque)
    in_flight: int = 0
    closed_until: float = 0.0


class ArrivalPacer:
    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._windows: dict[str, _Window] = {}
        self._monotonic = monotonic

    def _window(self, bucket: str) -> _Window:
        return self._windows.setdefault(bucket, _Window())

    def pause(self, bucket: str, seconds: float) -> None:
        window = self._window(bucket)
        window.closed_until = max(window.closed_until, self._monotonic() + seconds)

    def _wait(self, limits: list[Limit]) -> float:
        """Seconds until every limit has a free slot (0 when they all have one now)."""
        now = self._monotonic()
        wait = 0.0
        for limit in limits:
            window = self._window(limit.bucket)
            while window.answered and window.answered[0] <= now - limit.per:
                window.answered.popleft()
            if window.closed_until > now:
                wait = max(wait, window.closed_until - now)
            elif len(window.answered) + window.in_flight >= limit.count:
                oldest = window.answered[0] + limit.per - now if window.answered else POLL
                wait = max(wait, oldest, POLL if not window.answered else 0.0)
        return wait

    @asynccontextmanager
    async def slot(self, limits: list[Limit]) -> AsyncIterator[None]:
        """Wait for a slot in every limit, hold it while the request runs, then count it at the
        time the response arrived. (One event loop: no await between the check and taking it.)"""
        while True:
            wait = self._wait(limits)
            if wait <= 0:
                break
            await asyncio.sleep(wait)
        windows = [self._window(limit.bucket) for limit in limits]
        for window in windows:
            window.in_flight += 1
        try:
            yield
        finally:
            answered = self._monotonic()
            for window in windows:
                window.in_flight -= 1
                window.answered.append(answered)
