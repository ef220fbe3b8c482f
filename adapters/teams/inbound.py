"""Screening ``POST /api/messages`` before botbuilder sees it.

botbuilder's ``CloudAdapter.process`` parses the body before it authenticates, and an invalid
JSON body, an empty one, a JSON array or ``"conversation": null`` raised inside it (a 500 and
a traceback), with or without an app id. Here, in order: the content type (415), the size
(413), the presence of a bearer token when authentication is on (401: nothing is parsed for a
caller with no token), then the Activity's shape (400). botbuilder still validates the token.

With authentication off (emulator mode), the bot would call back any ``serviceUrl`` it is
given, so only a loopback one is accepted there (403).
"""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from botbuilder.schema import Activity

from adapters.webhooks import Rejections, read_body


@dataclass
class TeamsScreen:
    """Refuses what botbuilder should never see; ``None`` means "let it through"."""

    auth_required: bool
    rejections: Rejections = field(default_factory=Rejections)

    async def check(self, request: web.Request) -> web.Response | None:
        if "application/json" not in request.headers.get("Content-Type", ""):
            return self.rejections.refuse(request, 415, "expected an application/json Activity")
        body = await read_body(request, self.rejections)
        if isinstance(body, web.Response):
            return body
        if self.auth_required and not request.headers.get("Authorization", "").startswith("Bearer "):
            return self.rejections.refuse(request, 401, "no Bot Framework bearer token")
        status, problem = activity_problem(body, loopback_only=not self.auth_required)
        if problem:
            return self.rejections.refuse(request, status, problem)
        return None


def activity_problem(body: bytes, *, loopback_only: bool = False) -> tuple[int, str | None]:
    """``(status, reason)`` when ``body`` is not an Activity botbuilder can take, else
    ``(200, None)``."""
    try:
        data: Any = json.loads(body)
    except (ValueError, RecursionError):
        return 400, "body is not valid JSON" if body.strip() else "empty body"
    if not isinstance(data, dict):
        return 400, f"body is a JSON {type(data).__name__}, not an Activity object"
    problem = _shape_problem(data)
    if problem:
        return 400, problem
    try:
        Activity().deserialize(data)
    except Exception as exc:  # msrest raises several kinds for a field of the wrong type
        return 400, f"not a Bot Framework Activity ({type(exc).__name__})"
    if loopback_only and not _is_loopback(urlsplit(data["serviceUrl"]).hostname or ""):
        return 403, "authentication is off (no MICROSOFT_APP_ID): only a loopback serviceUrl is accepted"
    return 200, None


def _shape_problem(data: dict[str, Any]) -> str | None:
    kind = data.get("type")
    if not isinstance(kind, str) or not kind:
        return "Activity without a 'type'"
    conversation = data.get("conversation")
    if not isinstance(conversation, dict) or not isinstance(conversation.get("id"), str):
        return "Activity without a 'conversation' object with an 'id'"
    sender = data.get("from")
    if not isinstance(sender, dict) or not isinstance(sender.get("id"), str):
        return "Activity without a 'from' object with an 'id'"
    service_url = data.get("serviceUrl")
    if not isinstance(service_url, str) or urlsplit(service_url).scheme not in {"http", "https"}:
        return "Activity without an http(s) 'serviceUrl'"
    if not urlsplit(service_url).hostname:
        return "Activity without an http(s) 'serviceUrl'"
    return None


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
