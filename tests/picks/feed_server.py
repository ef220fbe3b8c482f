"""A small local web server that serves the feed fixtures the way real feed hosts do: with
ETag and Last-Modified, answering 304 to conditional GETs, and, when told, slowly, with errors
or with broken XML."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

FEEDS = Path(__file__).parent.parent / "fixtures" / "feeds"


@dataclass
class Route:
    body: bytes
    content_type: str = "application/rss+xml"
    status: int = 200
    delay: float = 0.0
    etag: str | None = None
    last_modified: str | None = None
    location: str | None = None


@dataclass
class FeedServer:
    routes: dict[str, Route] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    base_url: str = ""
    _runner: web.AppRunner | None = None

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    def serve_fixture(self, path: str, fixture: str, **options: object) -> str:
        content_type = "text/html; charset=utf-8" if fixture.endswith(".html") else "application/rss+xml"
        options.setdefault("content_type", content_type)
        self.routes[path] = Route(body=(FEEDS / fixture).read_bytes(), **options)  # type: ignore[arg-type]
        return self.url(path)

    def hits(self, path: str) -> list[dict[str, str]]:
        return [headers for hit, headers in self.requests if hit == path]

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path.lstrip("/")
        self.requests.append((path, {k.lower(): v for k, v in request.headers.items()}))
        route = self.routes.get(path)
        if route is None:
            return web.Response(status=404, text="not found")
        if route.delay:
            await asyncio.sleep(route.delay)
        if route.location:
            return web.Response(status=route.status, headers={"Location": route.location})
        if route.status != 200:
            return web.Response(status=route.status, text="upstream trouble")
        headers = {}
        if route.etag:
            headers["ETag"] = route.etag
            if request.headers.get("If-None-Match") == route.etag:
                return web.Response(status=304, headers=headers)
        if route.last_modified:
            headers["Last-Modified"] = route.last_modified
            if not route.etag and request.headers.get("If-Modified-Since") == route.last_modified:
                return web.Response(status=304, headers=headers)
        return web.Response(body=route.body, headers={**headers, "Content-Type": route.content_type})

    async def start(self) -> FeedServer:
        app = web.Application()
        app.router.add_route("GET", "/{tail:.*}", self._handle)
        # A short shutdown timeout: a deliberately slow answer must not hold up the teardown.
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
