"""A local Bot Connector: what the Teams service looks like to a bot's outgoing calls.

Serves the REST calls botbuilder makes (send to a conversation, reply to an activity, create a
1:1 conversation, read a roster member, read a team's members page by page and its channels),
records every activity, checks it against the Bot
Framework and Adaptive Card schemas, and can misbehave: answer the next calls with a given
status (429 with Retry-After, 403, 404, 5xx) or enforce Teams' per-conversation rate limits.
"""

from __future__ import annotations

import itertools
import random
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.teams.schemas import problems

Listener = Callable[[str, dict[str, Any]], None]


@dataclass(slots=True)
class Member:
    id: str  # the Teams user id, "29:…"
    aad_object_id: str
    name: str
    email: str
    upn: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "aadObjectId": self.aad_object_id,
            "email": self.email,
            "userPrincipalName": self.upn or self.email,
            "givenName": self.name.split(" ")[0],
            "userRole": "user",
        }


@dataclass(slots=True)
class Failure:
    status: int
    retry_after: float | None = None


@dataclass(slots=True)
class FakeConnector:
    members: dict[str, Member] = field(default_factory=dict)
    teams: dict[str, list[str]] = field(default_factory=dict)
    """Team id -> the ids of its members (``GET /v3/conversations/{team}/pagedmembers``)."""
    team_channels: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    """Team id -> its channels as Teams lists them (the General channel's id is the team id
    and it has no name)."""
    roster_calls: list[str] = field(default_factory=list)
    activities: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)
    created: list[dict[str, Any]] = field(default_factory=list)
    auth_headers: list[str] = field(default_factory=list)
    failures: deque[Failure] = field(default_factory=deque)
    listeners: list[Listener] = field(default_factory=list)
    enforce_limits: bool = False
    fail_after_processing: float = 0.0
    """This share of sends is delivered and then answered 500 (an ambiguous answer)."""
    after_processing_failures: int = 0
    validate: bool = True
    throttled: int = 0
    requests: int = 0
    arrivals: list[float] = field(default_factory=list)
    updates: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    _windows: dict[str, deque[float]] = field(default_factory=dict)
    _ids: Any = field(default_factory=lambda: itertools.count(1))
    _rng: random.Random = field(default_factory=lambda: random.Random(15))
    url: str = ""
    shared: dict[str, bytes] = field(default_factory=dict)
    _runner: web.AppRunner | None = None

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/v3/conversations", self._create)
        app.router.add_post("/v3/conversations/{cid}/activities", self._send)
        app.router.add_post("/v3/conversations/{cid}/activities/{aid}", self._send)
        app.router.add_put("/v3/conversations/{cid}/activities/{aid}", self._update)
        app.router.add_get("/v3/conversations/{cid}/members/{mid}", self._member)
        app.router.add_get("/v3/conversations/{cid}/pagedmembers", self._paged_members)
        app.router.add_get("/v3/teams/{tid}/conversations", self._team_channels)
        app.router.add_get("/_stats", self._stats)
        app.router.add_get("/files/{file_id}", self._download)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}/"
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def share(self, name: str, data: bytes) -> dict[str, Any]:
        """A file sent in the personal chat, as the activity's attachment: Teams gives a
        pre-authorised ``content.downloadUrl`` (on SharePoint/OneDrive; here on this server)."""
        file_id = f"{next(self._ids)}"
        self.shared[file_id] = data
        return {
            "contentType": "application/vnd.microsoft.teams.file.download.info",
            "contentUrl": f"https://contoso.sharepoint.com/personal/files/{name}",
            "name": name,
            "content": {
                "downloadUrl": f"{self.url}files/{file_id}?tempauth=v1.test",
                "uniqueId": f"{file_id}-0000",
                "fileType": name.rsplit(".", 1)[-1],
            },
        }

    async def _download(self, request: web.Request) -> web.Response:
        data = self.shared.get(request.match_info["file_id"])
        if data is None or request.query.get("tempauth") != "v1.test":
            return web.Response(status=401)
        return web.Response(body=data, content_type="application/octet-stream")

    def fail_next(self, status: int, times: int = 1, retry_after: float | None = None) -> None:
        self.failures.extend(Failure(status, retry_after) for _ in range(times))

    def in_conversation(self, conversation_id: str) -> list[dict[str, Any]]:
        return [activity for cid, activity in self.activities if cid == conversation_id]

    # -- handlers ----------------------------------------------------------------------------
    def _failure(self) -> web.Response | None:
        if not self.failures:
            return None
        failure = self.failures.popleft()
        headers = {"Retry-After": f"{failure.retry_after:g}"} if failure.retry_after is not None else {}
        body = {"error": {"code": "Failure", "message": f"fake connector answered {failure.status}"}}
        return web.json_response(body, status=failure.status, headers=headers)

    def _over_limit(self, conversation_id: str) -> float | None:
        """Teams' limits (per conversation 7 in 1 s and 60 in 30 s; 50 a second for the whole
        tenant): seconds to wait, or None when the call is allowed (and then counted)."""
        now = time.monotonic()
        tenant = self._windows.setdefault("tenant", deque())
        while tenant and tenant[0] <= now - 1:
            tenant.popleft()
        if len(tenant) >= 50:
            return tenant[0] + 1 - now
        window = self._windows.setdefault(conversation_id, deque())
        while window and window[0] <= now - 30:
            window.popleft()
        last_second = sum(1 for stamp in window if stamp > now - 1)
        if last_second >= 7:
            return 1.0
        if len(window) >= 60:
            return window[0] + 30 - now
        window.append(now)
        tenant.append(now)
        return None

    async def _send(self, request: web.Request) -> web.Response:
        self.requests += 1
        self.auth_headers.append(request.headers.get("Authorization", ""))
        failure = self._failure()
        if failure is not None:
            return failure
        conversation_id = request.match_info["cid"]
        if self.enforce_limits:
            wait = self._over_limit(conversation_id)
            if wait is not None:
                self.throttled += 1
                return web.json_response(
                    {"error": {"code": "Throttled", "message": "too many requests"}},
                    status=429,
                    headers={"Retry-After": f"{max(wait, 0.05):.2f}"},
                )
        activity = await request.json()
        refused = self._invalid(activity)
        if refused is not None:
            return refused
        self.activities.append((conversation_id, activity))
        self.arrivals.append(time.monotonic())
        for listener in self.listeners:
            listener(conversation_id, activity)
        if self.fail_after_processing and self._rng.random() < self.fail_after_processing:
            self.after_processing_failures += 1
            body = {"error": {"code": "ServiceError", "message": "fake connector: 500 after delivering"}}
            return web.json_response(body, status=500)
        return web.json_response({"id": f"act-{next(self._ids)}"})

    def _invalid(self, activity: dict[str, Any]) -> web.Response | None:
        """A 400 like the real connector's when ``activity`` breaks the schemas."""
        found = problems(activity) if self.validate else []
        if not found:
            return None
        self.invalid.extend(found)
        return web.json_response({"error": {"code": "BadSyntax", "message": "; ".join(found)}}, status=400)

    async def _update(self, request: web.Request) -> web.Response:
        """``updateActivity``: the bot replaces a message it sent (e.g. a card after a press)."""
        self.requests += 1
        activity = await request.json()
        refused = self._failure() or self._invalid(activity)
        if refused is not None:
            return refused
        self.updates.append((request.match_info["cid"], request.match_info["aid"], activity))
        return web.json_response({"id": request.match_info["aid"]})

    async def _create(self, request: web.Request) -> web.Response:
        self.requests += 1
        failure = self._failure()
        if failure is not None:
            return failure
        parameters = await request.json()
        self.created.append(parameters)
        # The service reads JSON keys case-insensitively (botbuilder-python sends "tenantID").
        top = {key.lower(): value for key, value in parameters.items()}
        tenant = top.get("tenantid") or ((top.get("channeldata") or {}).get("tenant") or {}).get("id")
        if not tenant:
            # Teams refuses to create a 1:1 chat without the tenant.
            error = {"code": "BadArgument", "message": "tenant id is required"}
            return web.json_response({"error": error}, status=400)
        member_ids = [m["id"] for m in parameters.get("members", [])]
        if not member_ids or any(mid not in self.members for mid in member_ids):
            return web.json_response({"error": {"code": "NotFound", "message": "no such user"}}, status=404)
        return web.json_response({"id": f"a:created-{member_ids[0]}", "activityId": None})

    async def _paged_members(self, request: web.Request) -> web.Response:
        """Teams' paged roster: ``pageSize`` (50..500, default 200) members per page and an
        opaque ``continuationToken`` while more remain; 404 for a team it does not know."""
        self.requests += 1
        team_id = request.match_info["cid"]
        self.roster_calls.append(f"pagedmembers {team_id} {request.query_string}")
        failure = self._failure()
        if failure is not None:
            return failure
        if team_id not in self.teams:
            return web.json_response({"error": {"code": "NotFound", "message": "no such team"}}, status=404)
        try:
            size = min(max(int(request.query.get("pageSize", "200")), 50), 500)
            start = int(request.query.get("continuationToken", "0") or "0")
        except ValueError:
            error = {"code": "BadArgument", "message": "bad pageSize or continuationToken"}
            return web.json_response({"error": error}, status=400)
        ids = self.teams[team_id]
        page = [self.members[mid].to_json() for mid in ids[start : start + size] if mid in self.members]
        body: dict[str, Any] = {"members": page}
        if start + size < len(ids):
            body["continuationToken"] = str(start + size)
        return web.json_response(body)

    async def _team_channels(self, request: web.Request) -> web.Response:
        self.requests += 1
        team_id = request.match_info["tid"]
        self.roster_calls.append(f"channels {team_id}")
        failure = self._failure()
        if failure is not None:
            return failure
        if team_id not in self.teams:
            return web.json_response({"error": {"code": "NotFound", "message": "no such team"}}, status=404)
        channels = self.team_channels.get(team_id) or [{"id": team_id}]
        return web.json_response({"conversations": channels})

    async def _stats(self, request: web.Request) -> web.Response:
        """What arrived (for a benchmark running the connector in its own process)."""
        return web.json_response(
            {
                "summaries": [
                    activity.get("summary") or activity.get("text") for _, activity in self.activities
                ],
                "arrivals": self.arrivals,
                "throttled": self.throttled,
            }
        )

    async def _member(self, request: web.Request) -> web.Response:
        member = self.members.get(request.match_info["mid"])
        if member is None:
            error = {"code": "NotFound", "message": "member not found"}
            return web.json_response({"error": error}, status=404)
        return web.json_response(member.to_json())


def main() -> None:
    """Run the fake on its own (``python -m tests.teams.fake_connector --limits``): prints its URL."""
    import argparse
    import asyncio

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--limits", action="store_true", help="enforce Teams' rate limits with 429s")
    parser.add_argument("--no-validate", action="store_true", help="skip the schema checks")
    args = parser.parse_args()

    async def serve() -> None:
        fake = FakeConnector(enforce_limits=args.limits, validate=not args.no_validate)
        print(await fake.start(), flush=True)
        await asyncio.Event().wait()

    asyncio.run(serve())


if __name__ == "__main__":
    main()
