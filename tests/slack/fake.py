"""A small fake of the Slack Web API on 127.0.0.1, for running the real slack_sdk client and
Bolt app against: it records every call, keeps users, DM channels and channel histories
(with message metadata), enforces a configurable ``chat.postMessage`` rate limit (429 with
``Retry-After``) and can be told to fail a method with a given error.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import random
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web
from slack_sdk.signature import SignatureVerifier

TEAM = "T0LEARN"
BOT_USER = "U0BOT"


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    at: float = field(default_factory=time.monotonic)
    token: str = ""


@dataclass
class FakeUser:
    id: str
    email: str
    name: str
    tz: str | None = None
    locale: str | None = "en-US"
    deleted: bool = False
    fields: dict[str, dict[str, str]] = field(default_factory=dict)
    """Custom profile fields, ``{"Xf01": {"label": "Office", "value": "Dakar"}}``."""

    def as_slack(self) -> dict[str, Any]:
        user: dict[str, Any] = {
            "id": self.id,
            "team_id": TEAM,
            "name": self.email.split("@")[0],
            "real_name": self.name,
            "deleted": self.deleted,
            "profile": {"email": self.email, "display_name": self.name, "real_name": self.name},
        }
        if self.tz:
            user["tz"] = self.tz
        if self.locale:
            user["locale"] = self.locale
        return user


@dataclass
class Faults:
    rate: float
    hang: float
    rng: random.Random
    errors: int = 0
    hangs: int = 0


@dataclass
class Storm:
    until: float
    retry_after: float
    rejected_at: list[float] = field(default_factory=list)


@dataclass
class RateLimit:
    count: int
    per: float
    retry_after: int = 1
    stamps: deque[float] = field(default_factory=deque)

    def allow(self, now: float) -> bool:
        while self.stamps and self.stamps[0] <= now - self.per:
            self.stamps.popleft()
        if len(self.stamps) >= self.count:
            return False
        self.stamps.append(now)
        return True

    def wait(self, now: float) -> int:
        """Whole seconds until the window has room again (Slack's Retry-After is an integer)."""
        if not self.stamps:
            return self.retry_after
        return max(1, math.ceil(self.stamps[0] + self.per - now))


class FakeSlack:
    """``api_url`` is what ``SLACK_API_URL`` should be; ``response_url(user)`` makes a
    response_url whose posts are recorded as method ``response_url``."""

    def __init__(self, *, timestamp: Callable[[], float] = time.time) -> None:
        self.calls: list[Call] = []
        self.users: dict[str, FakeUser] = {}
        self.history: dict[str, list[dict[str, Any]]] = {}
        self.errors: dict[str, list[str]] = {}
        self.limits: dict[str, RateLimit] = {}
        self.delays: dict[str, float] = {}
        self.rejected = 0
        self._timestamp = timestamp
        self._seq = itertools.count(1)
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.url = ""
        self.sockets: list[web.WebSocketResponse] = []
        self.socket_replies: list[dict[str, Any]] = []
        self.installed_team = "T0OTHER"
        self.token = ""
        self.uploads: dict[str, str] = {}
        self._files: dict[str, str] = {}
        self.faults: dict[str, Faults] = {}
        self.storm: Storm | None = None
        self.storm_rejected = 0
        self.shared: dict[str, bytes] = {}
        self.downloads: list[str] = []

    # -- set-up -----------------------------------------------------------------------------
    async def start(self) -> FakeSlack:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/respond/{token}", self._respond)
        app.router.add_get("/socket", self._socket)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_get("/files-pri/{file_id}/{rest:.*}", self._download)
        self._runner, self.url = await serve_locally(app)
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    def add_user(self, email: str, name: str, tz: str | None = None) -> FakeUser:
        user = FakeUser(id=f"U{next(self._ids):06d}", email=email.lower(), name=name, tz=tz)
        self.users[user.id] = user
        return user

    def share(self, name: str, data: bytes, mimetype: str = "text/csv") -> dict[str, Any]:
        """A file someone sent in a DM, as the ``files[]`` entry of a ``file_share`` message
        event; its ``url_private_download`` serves the bytes to the bot token only."""
        file_id = f"F{next(self._ids):08d}"
        self.shared[file_id] = data
        return {
            "id": file_id,
            "name": name,
            "title": name,
            "mimetype": mimetype,
            "filetype": name.rsplit(".", 1)[-1],
            "size": len(data),
            "mode": "hosted",
            "url_private": f"{self.url}/files-pri/{file_id}/{name}",
            "url_private_download": f"{self.url}/files-pri/{file_id}/download/{name}",
        }

    def fail(self, method: str, error: str, times: int = 1) -> None:
        """The next ``times`` calls of ``method`` answer ``{"ok": false, "error": error}``
        (``ratelimited`` answers HTTP 429 with ``Retry-After``)."""
        self.errors.setdefault(method, []).extend([error] * times)

    def inject_faults(self, method: str, rate: float, *, hang: float = 2.0, seed: int = 15) -> Faults:
        """Answer ``rate`` of ``method``'s successful calls with a fault *after* doing the work:
        half HTTP 500 ``internal_error``, half no answer for ``hang`` seconds (the client times
        out). The message is posted either way: the answer is ambiguous."""
        self.faults[method] = Faults(rate, hang, random.Random(seed))
        return self.faults[method]

    def start_storm(self, seconds: float, retry_after: float) -> None:
        """Answer every ``chat.postMessage`` with 429 and ``Retry-After`` for ``seconds``."""
        self.storm = Storm(time.monotonic() + seconds, retry_after)

    def limit(self, method: str, count: int, per: float, retry_after: int = 1) -> None:
        self.limits[method] = RateLimit(count, per, retry_after)

    def response_url(self, token: str) -> str:
        return f"{self.url}/respond/{token}"

    def called(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method]

    def accepted_at(self, method: str) -> list[float]:
        """Monotonic times at which ``method`` calls were accepted (benchmarks)."""
        return [call.at for call in self.calls if call.method == method]

    # -- HTTP -------------------------------------------------------------------------------
    async def _args(self, request: web.Request) -> dict[str, Any]:
        args: dict[str, Any] = dict(request.query)
        body = await request.read()
        if body:
            if request.content_type == "application/json":
                args.update(json.loads(body))
            else:
                args.update(dict(parse_qsl(body.decode())))
        for key in ("blocks", "view", "metadata"):
            if isinstance(args.get(key), str):
                args[key] = json.loads(args[key])
        return args

    async def _download(self, request: web.Request) -> web.Response:
        """Like files.slack.com: without the bot token it answers the sign-in page (HTML), not
        the file."""
        file_id = request.match_info["file_id"]
        if (
            not request.headers.get("Authorization", "").startswith("Bearer xoxb-")
            or file_id not in self.shared
        ):
            return web.Response(status=302, headers={"Location": f"{self.url}/signin"})
        self.downloads.append(file_id)
        return web.Response(body=self.shared[file_id], content_type="application/octet-stream")

    async def _respond(self, request: web.Request) -> web.Response:
        args = await self._args(request)
        args["token"] = request.match_info["token"]
        queued = self.errors.get("response_url")  # fail("response_url", "ratelimited")
        if queued:
            error = queued.pop(0)
            status, headers = (429, {"Retry-After": "1"}) if error == "ratelimited" else (500, {})
            return web.Response(status=status, text=error, headers=headers)
        self.calls.append(Call("response_url", args))
        return web.Response(text="ok")

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = await self._args(request)
        if method not in {"auth.test", "oauth.v2.access"} and not request.headers.get(
            "Authorization", ""
        ).startswith("Bearer "):
            return web.json_response({"ok": False, "error": "not_authed"})
        delay = self.delays.get(method)
        if delay:
            await asyncio.sleep(delay)
        storm = self.storm
        if method == "chat.postMessage" and storm is not None and time.monotonic() < storm.until:
            self.storm_rejected += 1
            storm.rejected_at.append(time.monotonic())
            return web.json_response(
                {"ok": False, "error": "ratelimited"},
                status=429,
                headers={"Retry-After": f"{storm.retry_after:g}"},
            )
        limit = self.limits.get(method)
        if limit and not limit.allow(time.monotonic()):
            self.rejected += 1
            return web.json_response(
                {"ok": False, "error": "ratelimited"},
                status=429,
                headers={"Retry-After": str(limit.wait(time.monotonic()))},
            )
        queued = self.errors.get(method)
        if queued:
            error = queued.pop(0)
            if error == "ratelimited":
                return web.json_response(
                    {"ok": False, "error": error}, status=429, headers={"Retry-After": "1"}
                )
            return web.json_response({"ok": False, "error": error})
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        self.calls.append(Call(method, args, token=token))
        handler = getattr(self, "_" + method.replace(".", "_"), None)
        if handler is None:
            return web.json_response({"ok": False, "error": "unknown_method"})
        self.token = token
        answer = handler(args)
        faults = self.faults.get(method)
        if faults is not None and answer.get("ok") and faults.rng.random() < faults.rate:
            if faults.rng.random() < 0.5:
                faults.errors += 1
                return web.json_response({"ok": False, "error": "internal_error"}, status=500)
            faults.hangs += 1
            await asyncio.sleep(faults.hang)
        return web.json_response(answer)

    async def _upload(self, request: web.Request) -> web.Response:
        self.uploads[request.match_info["file_id"]] = (await request.read()).decode()
        return web.Response(text="OK")

    # -- Socket Mode ------------------------------------------------------------------------
    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self.sockets.append(socket)
        await socket.send_json(
            {"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A0LEARN"}}
        )
        async for message in socket:
            if message.type == web.WSMsgType.TEXT:
                self.socket_replies.append(json.loads(message.data))
        return socket

    async def push(self, envelope: dict[str, Any], within: float = 5.0) -> dict[str, Any]:
        """Send an envelope over the Socket Mode connection; return the app's ack."""
        for _ in range(int(within / 0.02)):
            if self.sockets:
                break
            await asyncio.sleep(0.02)
        assert self.sockets, "the app never connected in Socket Mode"
        await self.sockets[-1].send_json(envelope)
        for _ in range(int(within / 0.02)):
            for reply in self.socket_replies:
                if reply.get("envelope_id") == envelope["envelope_id"]:
                    return reply
            await asyncio.sleep(0.02)
        raise AssertionError(f"no ack for envelope {envelope['envelope_id']}")

    # -- methods ----------------------------------------------------------------------------
    def _files_getUploadURLExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        file_id = f"F{next(self._ids):06d}"
        self._files[file_id] = str(args.get("filename"))
        return {"ok": True, "file_id": file_id, "upload_url": f"{self.url}/upload/{file_id}"}

    def _files_completeUploadExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        files = args.get("files")
        files = json.loads(files) if isinstance(files, str) else files or []
        missing = [f["id"] for f in files if f["id"] not in self.uploads]
        if missing:
            return {"ok": False, "error": "file_upload_not_completed"}
        return {
            "ok": True,
            "files": [{"id": f["id"], "name": self._files[f["id"]], "title": f.get("title")} for f in files],
        }

    def _apps_connections_open(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "url": self.url.replace("http://", "ws://") + "/socket"}

    def _oauth_v2_access(self, args: dict[str, Any]) -> dict[str, Any]:
        if args.get("code") != "good-code":
            return {"ok": False, "error": "invalid_code"}
        return {
            "ok": True,
            "access_token": "xoxb-installed",
            "token_type": "bot",
            "scope": "chat:write,commands",
            "bot_user_id": BOT_USER,
            "app_id": "A0LEARN",
            "team": {"id": self.installed_team, "name": "Other"},
            "enterprise": None,
            "is_enterprise_install": False,
            "authed_user": {"id": "U0ADMIN"},
        }

    def _ts(self) -> str:
        return f"{self._timestamp():.0f}.{next(self._seq):06d}"

    def _auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        team = self.installed_team if self.token == "xoxb-installed" else TEAM
        return {"ok": True, "team_id": team, "user_id": BOT_USER, "bot_id": "B0BOT", "team": "Learning"}

    def _user(self, user_id: str) -> FakeUser | None:
        return self.users.get(user_id)

    def _users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user = self._user(str(args.get("user")))
        if user is None:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "user": user.as_slack()}

    def _users_profile_get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Custom fields come only from users.profile.get, with labels when asked."""
        user = self._user(str(args.get("user")))
        if user is None:
            return {"ok": False, "error": "user_not_found"}
        labels = str(args.get("include_labels", "")).lower() in {"1", "true"}
        fields = {
            key: {"value": entry.get("value", ""), "alt": "", **({"label": entry["label"]} if labels else {})}
            for key, entry in user.fields.items()
        }
        return {"ok": True, "profile": {**user.as_slack()["profile"], "fields": fields}}

    def _users_list(self, args: dict[str, Any]) -> dict[str, Any]:
        members = [user.as_slack() for user in self.users.values()]
        members.append({"id": "USLACKBOT", "team_id": TEAM, "deleted": False, "profile": {}})
        members.append({"id": BOT_USER, "team_id": TEAM, "is_bot": True, "profile": {"email": ""}})
        limit = int(args.get("limit") or 100)
        start = int(args.get("cursor") or 0)
        more = start + limit < len(members)
        return {
            "ok": True,
            "members": members[start : start + limit],
            "response_metadata": {"next_cursor": str(start + limit) if more else ""},
        }

    def _users_lookupByEmail(self, args: dict[str, Any]) -> dict[str, Any]:
        email = str(args.get("email", "")).lower()
        for user in self.users.values():
            if user.email == email:
                return {"ok": True, "user": user.as_slack()}
        return {"ok": False, "error": "users_not_found"}

    def _conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        user = self._user(str(args.get("users")))
        if user is None:
            return {"ok": False, "error": "user_not_found"}
        if user.deleted:
            return {"ok": False, "error": "account_inactive"}
        return {"ok": True, "channel": {"id": "D" + user.id[1:]}}

    def _post(self, args: dict[str, Any], **extra: Any) -> dict[str, Any]:
        channel = str(args.get("channel"))
        if (
            channel.startswith("D")
            and ("U" + channel[1:]) in self.users
            and self.users["U" + channel[1:]].deleted
        ):
            return {"ok": False, "error": "account_inactive"}
        message = {"ts": self._ts(), "text": args.get("text", ""), "blocks": args.get("blocks", []), **extra}
        if args.get("metadata"):
            message["metadata"] = args["metadata"]
        self.history.setdefault(channel, []).append(message)
        return {"ok": True, "channel": channel, "ts": message["ts"], "message": message}

    def _chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        return self._post(args)

    def _chat_postEphemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "message_ts": self._ts()}

    def _views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        view = dict(args.get("view") or {})
        view.update(id=f"V{next(self._ids):06d}", hash=f"h{next(self._seq)}")
        return {"ok": True, "view": view}

    def _views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "view": {"id": f"V{next(self._ids):06d}", **(args.get("view") or {})}}

    def _conversations_history(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = str(args.get("channel"))
        oldest = float(args.get("oldest") or 0)
        include_metadata = str(args.get("include_all_metadata", "")).lower() in {"1", "true"}
        found = [m for m in reversed(self.history.get(channel, [])) if float(m["ts"]) >= oldest]
        limit = int(args.get("limit") or 100)
        start = int(args.get("cursor") or 0)
        page = found[start : start + limit]
        messages = [{k: v for k, v in m.items() if include_metadata or k != "metadata"} for m in page]
        more = start + limit < len(found)
        return {
            "ok": True,
            "messages": messages,
            "has_more": more,
            "response_metadata": {"next_cursor": str(start + limit) if more else ""},
        }


async def serve_locally(app: web.Application) -> tuple[web.AppRunner, str]:
    """Serve ``app`` on 127.0.0.1 on a free port; return the runner and the base URL."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}"


def sign(secret: str, body: str, timestamp: int | None = None) -> dict[str, str]:
    """Headers Slack would send with ``body``, signed with slack_sdk's own signer."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=stamp, body=body)
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": signature}
