"""Interactive replies through the delivery worker's pacing.

A reply to a person (a DM, an ephemeral message, a ``response_url`` post, a Teams turn reply)
counts against the same rate-limit buckets as the outbox's proactive messages, through the
same :class:`~scheduler.ratelimit.RateLimiter`, so a fan-out and a conversation never together
exceed a platform's limit. A reply the platform refuses with 429 is not dropped: its bucket is
paused for the ``Retry-After`` (for the outbox too) and the reply is sent again after it, up to
a deadline past which a reply is no longer an answer.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from scheduler.delivery import RetryLater
from scheduler.ratelimit import Limit, RateLimiter

logger = logging.getLogger(__name__)

T = TypeVar("T")

DEADLINE_SECONDS = 300.0
"""Give up on a reply still refused this long after it was first tried."""
DEFAULT_RETRY_AFTER = 1.0


async def pause(limiter: RateLimiter, bucket: str, seconds: float) -> None:
    """Close ``bucket`` for ``seconds`` (the in-process limiter pauses at once; a limiter whose
    pauses are shared between replicas does it asynchronously)."""
    pausing: Callable[[str, float], object] = limiter.pause
    paused = pausing(bucket, seconds)
    if inspect.isawaitable(paused):
        await paused


async def send_paced(
    limiter: RateLimiter,
    limits: Sequence[Limit],
    send: Callable[[], Awaitable[T]],
    *,
    what: str = "reply",
    deadline_seconds: float = DEADLINE_SECONDS,
    monotonic: Callable[[], float] = time.monotonic,
) -> T:
    """Wait for a slot in every limit, then ``send``; when ``send`` raises :class:`RetryLater`
    (the platform answered 429), pause the bucket for the Retry-After and send again."""
    give_up_at = monotonic() + deadline_seconds
    attempt = 0
    while True:
        attempt += 1
        await limiter.acquire(list(limits))
        try:
            return await send()
        except RetryLater as exc:
            wait = exc.retry_after if exc.retry_after is not None else DEFAULT_RETRY_AFTER
            if monotonic() + wait > give_up_at:
                logger.warning("%s: still refused after %s tries (%s); giving up", what, attempt, exc.reason)
                raise
            buckets = [exc.bucket] if exc.bucket else [limit.bucket for limit in limits]
            for bucket in buckets:
                await pause(limiter, bucket, wait)
            if not any(limit.bucket in buckets for limit in limits):
                await asyncio.sleep(wait)  # no bucket of ours holds the pause: wait here
            logger.info("%s: %s; trying again in %.1fs", what, exc.reason, wait)
