"""The network module with an injected httpx client (``MockTransport``): redirects,
validators, failures described for people, and the refusal to read private addresses."""

from __future__ import annotations

import asyncio
import hashlib
import time
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest

from bot.config import Feed
from bot.core import Learnbot
from bot.features import basics
from bot.features.picks import handlers as picks_handlers
from bot.features.picks.fetch import (
    PageError,
    Validators,
    check_share_url,
    fetch_feeds,
    fetch_page,
    make_client,
    unwrap_links,
)
from tests.picks.feed_server import FeedServer

FEEDS = Path(__file__).parent.parent / "fixtures" / "feeds"
TALKS = (FEEDS / "ted-talks.rss").read_bytes()


def _feed(name: str, kind: str = "talk") -> Feed:
    return Feed(id=name, url=f"https://feeds.example.org/{name}", kind=kind)  # type: ignore[arg-type]


def _client(handler: httpx.MockTransport) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=handler, follow_redirects=False)


async def test_redirects_are_followed_and_validators_returned() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/old":
            return httpx.Response(301, headers={"Location": "/talks"})
        return httpx.Response(
            200, content=TALKS, headers={"ETag": '"v2"', "Last-Modified": "Mon, 30 Nov 2026"}
        )

    feed = Feed(id="t", url="https://feeds.example.org/old", kind="talk")
    async with _client(httpx.MockTransport(answer)) as client:
        [result] = await fetch_feeds(client, [feed], {}, per_feed_seconds=2)
    assert result.status == "ok" and len(result.entries) == 6
    assert result.validators.etag == '"v2"'
    assert result.validators.last_modified == "Mon, 30 Nov 2026"
    assert result.validators.body_sha256 == hashlib.sha256(TALKS).hexdigest()


async def test_failures_are_results_not_exceptions() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        name = request.url.path.strip("/")
        if name == "refused":
            raise httpx.ConnectError("refused", request=request)
        if name == "loop":
            return httpx.Response(302, headers={"Location": "/loop"})
        if name == "teapot":
            return httpx.Response(418)
        return httpx.Response(304)

    feeds = [_feed("refused"), _feed("loop"), _feed("teapot"), _feed("same")]
    async with _client(httpx.MockTransport(answer)) as client:
        results = await fetch_feeds(client, feeds, {"same": Validators('"v1"')}, per_feed_seconds=2)
    assert [(r.status, r.error) for r in results] == [
        ("failed", "could not connect"),
        ("failed", "more than 5 redirects"),
        ("failed", "HTTP 418 I'm a teapot"),
        ("not-modified", ""),
    ]
    assert results[3].validators == Validators('"v1"')


async def test_feeds_are_fetched_concurrently() -> None:
    async def answer(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0.2)
        return httpx.Response(200, content=TALKS)

    started = time.perf_counter()
    async with _client(httpx.MockTransport(answer)) as client:
        results = await fetch_feeds(client, [_feed(f"f{i}") for i in range(10)], {}, per_feed_seconds=2)
    assert all(r.status == "ok" for r in results)
    assert time.perf_counter() - started < 1.0  # 10 x 0.2 s one after another would be 2 s


def test_links_are_unwrapped_from_slack_and_teams_markup() -> None:
    assert (
        unwrap_links("<https://ex.org/a?b=1&amp;c=2|ex.org/a> so good") == "https://ex.org/a?b=1&c=2 so good"
    )
    teams = '<a href="https://ex.org/a?b=1&amp;c=2" rel="noreferrer noopener">https://ex.org/a</a> worth it'
    assert unwrap_links(teams) == "https://ex.org/a?b=1&c=2 worth it"
    assert unwrap_links("just text <b>bold</b>") == "just text <b>bold</b>"


def test_share_url_must_be_a_web_address() -> None:
    assert check_share_url("<https://ex.org/a|ex.org/a>") == "https://ex.org/a"
    for bad in ("ex.org/a", "file:///etc/passwd", "https://", "https://user:pw@ex.org/"):
        with pytest.raises(PageError):
            check_share_url(bad)


async def test_private_addresses_are_refused_unless_allowed() -> None:
    async with make_client(1.0) as client:
        with pytest.raises(PageError, match="private network"):
            await fetch_page(client, "http://127.0.0.1:9/admin", allow_private=False)
        with pytest.raises(PageError, match="private network"):
            await fetch_page(client, "http://localhost:9/admin", allow_private=False)


async def test_redirect_to_a_private_address_is_refused() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"Location": "http://10.0.0.5/internal"})

    async with _client(httpx.MockTransport(answer)) as client:
        with pytest.raises(PageError, match="private network"):
            await fetch_page(client, "http://93.184.215.14/start", allow_private=False)


async def test_the_http_client_is_injectable(app: Learnbot, feed_server: FeedServer) -> None:
    """A deployment (or test) can hand the feature its own client, e.g. with a proxy."""
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, content=TALKS)

    feature = SimpleNamespace(
        register=lambda router: picks_handlers.register_with(
            router, client_factory=lambda timeout: _client(httpx.MockTransport(answer))
        )
    )
    injected = Learnbot(app.config, app.sessions, clock=app.clock, features=[basics, feature])  # type: ignore[list-item]
    summary = await injected.run_job("refresh_feeds", {})
    assert seen == [feed_server.url("ted-talks.rss"), feed_server.url("ted-ideas.rss")]
    assert feed_server.requests == []  # the injected client answered, not the network
    assert "12 new item(s)" in summary
