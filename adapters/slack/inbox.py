"""What the Slack adapter writes to the inbox before it acks: the request's body, under the
platform's own id for it (so a Slack retry is not a second row) and the person who sent it
(their requests are processed one at a time, in order)."""

from __future__ import annotations

import uuid
from typing import Any

from adapters.slack.directory import PLATFORM

COMMAND = "command"
MESSAGE = "message"
MENTION = "mention"
FILE_SHARE = "file_share"
HOME = "home"
TEAM_JOIN = "team_join"
MEMBER_JOINED = "member_joined_channel"
ACTION = "action"
VIEW = "view"


def team_of(body: dict[str, Any]) -> str | None:
    team = body.get("team_id") or (body.get("team") or {}).get("id")
    if not team:
        event = body.get("event") or {}
        team = event.get("team") or (body.get("user") or {}).get("team_id")
    return str(team) if team else None


def user_of(kind: str, body: dict[str, Any]) -> str:
    if kind == COMMAND:
        return str(body.get("user_id") or "")
    if kind in (ACTION, VIEW):
        return str((body.get("user") or {}).get("id") or "")
    user = (body.get("event") or {}).get("user")
    return str(user.get("id") if isinstance(user, dict) else user or "")


def dedup_key(kind: str, body: dict[str, Any]) -> str:
    """Slack's id of the request: ``event_id`` for events, the trigger for commands and
    button presses (one per click), the view's id and hash for a submission."""
    if body.get("event_id"):
        return f"event:{body['event_id']}"
    if kind == VIEW:
        view = body.get("view") or {}
        if view.get("id"):
            return f"view:{view.get('id')}:{view.get('hash')}"
    if body.get("trigger_id"):
        return f"{kind}:{body['trigger_id']}"
    return f"{kind}:{uuid.uuid4().hex}"


def order_key(kind: str, body: dict[str, Any]) -> str:
    return f"{PLATFORM}:{team_of(body) or ''}/{user_of(kind, body) or 'anyone'}"
