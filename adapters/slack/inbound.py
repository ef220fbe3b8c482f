"""Screening ``POST /slack/events`` before Bolt sees it.

Bolt parses the body before it checks the signature, so an unsigned invalid JSON body or a
non-numeric ``X-Slack-Request-Timestamp`` raised inside Bolt and answered 500 with a traceback.
Here the size, the timestamp and the signature are checked first (cheap, and nothing is
parsed for a caller who cannot sign), then the body is parsed the way Bolt will parse it; only
a request that passes reaches Bolt. Bolt still verifies the signature itself
(with slack_sdk's ``SignatureVerifier``).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from slack_bolt.request.internals import parse_body

from adapters.webhooks import Rejections, read_body

MAX_SKEW_SECONDS = 300
"""Slack's replay window: a signature older than five minutes is refused."""


@dataclass
class SlackScreen:
    """Refuses what Bolt should never see; ``None`` means "let it through"."""

    signing_secret: str | None
    rejections: Rejections = field(default_factory=Rejections)
    now: Callable[[], float] = time.time

    async def check(self, request: web.Request) -> web.Response | None:
        body = await read_body(request, self.rejections)
        if isinstance(body, web.Response):
            return body
        if self.signing_secret:
            problem = self._signature_problem(request, body)
            if problem:
                return self.rejections.refuse(request, 401, problem)
        problem = _body_problem(body, request.headers.get("Content-Type"))
        if problem:
            return self.rejections.refuse(request, 400, problem)
        return None

    def _signature_problem(self, request: web.Request, body: bytes) -> str | None:
        timestamp = request.headers.get("X-Slack-Request-Timestamp", "")
        signature = request.headers.get("X-Slack-Signature", "")
        if not timestamp or not signature:
            return "unsigned (no X-Slack-Signature or X-Slack-Request-Timestamp)"
        if not timestamp.isascii() or not timestamp.isdigit():
            return "X-Slack-Request-Timestamp is not a number"
        if abs(self.now() - int(timestamp)) > MAX_SKEW_SECONDS:
            return "stale or future X-Slack-Request-Timestamp"
        if not hmac.compare_digest(
            signature_of(self.signing_secret or "", timestamp, body), signature.encode()
        ):
            return "bad signature"
        return None


def signature_of(secret: str, timestamp: str, body: bytes) -> bytes:
    """Slack's ``v0=`` HMAC-SHA256 of ``v0:{timestamp}:{body}``, over the body's bytes
    (slack_sdk's ``SignatureVerifier`` decodes the body as UTF-8 first and raises on anything
    else)."""
    digest = hmac.new(secret.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256)
    return b"v0=" + digest.hexdigest().encode()


def _body_problem(body: bytes, content_type: str | None) -> str | None:
    """Why Bolt could not use ``body`` (``None`` if it can)."""
    if not body.strip():
        return "empty body"
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return "body is not UTF-8"
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    try:
        parsed: Any = parse_body(text, media_type or None)
    except (ValueError, RecursionError):
        return "body is not valid JSON"
    if not isinstance(parsed, dict):
        return f"body is a JSON {type(parsed).__name__}, not an object"
    if not parsed:
        return "body has no fields"
    if (media_type == "application/json" or text.lstrip().startswith("{")) and "type" not in parsed:
        return "JSON body without a 'type'"
    return _shape_problem(parsed)


_OBJECTS = ("event", "view", "container", "message")


def _shape_problem(parsed: dict[str, Any]) -> str | None:
    """Fields Bolt's middleware reads as objects (``"event": null`` made it raise, a 500)."""
    for key in _OBJECTS:
        if key in parsed and not isinstance(parsed[key], dict):
            return f"'{key}' is not an object"
    if "user" in parsed and not isinstance(parsed["user"], dict | str):
        return "'user' is neither an object nor an id"
    actions = parsed.get("actions")
    if actions is not None and not (isinstance(actions, list) and all(isinstance(a, dict) for a in actions)):
        return "'actions' is not a list of objects"
    return None


__all__ = ["SlackScreen"]
