"""What every inbound webhook shares: refusing a bad request with a 4xx and one log line.

The internet sends webhooks garbage: scanners, truncated retries, someone's curl. Each refusal
is one line (never a traceback) and is counted in ``learnbot_http_rejected``; the first of a
kind (route and reason) in a minute is a WARNING, the repeats are DEBUG and the next WARNING
says how many were folded into it, so a flood of 600 bad requests writes a handful of lines
at the default level, not a megabyte.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web

from scheduler.metrics import Metrics

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 512 * 1024
"""Slack's and Teams' own payloads are a few KB (a big view submission tens of KB)."""
WINDOW_SECONDS = 60.0


@dataclass
class Rejections:
    """Refuses requests, logging each once at a rate-limited level."""

    metrics: Metrics | None = None
    window: float = WINDOW_SECONDS
    now: Callable[[], float] = time.monotonic
    _seen: dict[tuple[str, str], tuple[float, int]] = field(default_factory=dict)

    def refuse(self, request: web.Request, status: int, reason: str) -> web.Response:
        """A ``status`` JSON answer naming ``reason``, logged once."""
        route = request.path
        if self.metrics is not None:
            self.metrics.rejected.labels(route, str(status)).inc()
        key = (route, reason)
        now = self.now()
        started, folded = self._seen.get(key, (float("-inf"), 0))
        line = "refused %s %s from %s with %s: %s"
        args: tuple[object, ...] = (request.method, route, request.remote or "?", status, reason)
        fields = {"route": route, "status": status, "reason": reason, "remote": request.remote}
        if now - started >= self.window:
            self._seen[key] = (now, 0)
            if folded:
                line += " (and %s more like it in the last minute)"
                args = (*args, folded)
            logger.warning(line, *args, extra={**fields, "folded": folded})
        else:
            self._seen[key] = (started, folded + 1)
            logger.debug(line + " (repeat)", *args, extra=fields)
        return web.json_response({"error": reason}, status=status)


async def read_body(request: web.Request, rejections: Rejections) -> bytes | web.Response:
    """The request body, or a 413 refusal when it is over ``MAX_BODY_BYTES``."""
    too_big = f"body over {MAX_BODY_BYTES} bytes"
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        return rejections.refuse(request, 413, too_big)
    try:
        body = await request.read()  # cached: the SDKs read it again from the request
    except web.HTTPRequestEntityTooLarge:
        return rejections.refuse(request, 413, too_big)
    except (ConnectionError, ValueError) as exc:
        return rejections.refuse(request, 400, f"unreadable body ({type(exc).__name__})")
    if len(body) > MAX_BODY_BYTES:
        return rejections.refuse(request, 413, too_big)
    return body
