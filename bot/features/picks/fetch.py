"""Network access for weekly picks: feeds fetched concurrently with conditional GET, and the
shared pages read for ``/learning share``.

Everything that talks HTTP is here and takes an :class:`httpx.AsyncClient`, so tests (and the
benchmark) inject a client or point the feeds at a local server. A dead or slow feed becomes a
failed :class:`FeedFetch`, never an exception that could stop the digest.
"""

from __future__ import annotations

import asyncio
import hashlib
import html
import ipaddress
import logging
import re
import time
from collections.abc import Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from urllib.parse import urljoin, urlsplit

import httpx

from bot.features.picks.config import Feed
from bot.features.picks.feeds import FeedEntry, MalformedFeed, parse_feed
from bot.features.picks.opengraph import PageInfo, read_page
from storage.picks import FetchStatus

logger = logging.getLogger(__name__)

MAX_FEED_BYTES = 5 * 1024 * 1024
MAX_PAGE_BYTES = 512 * 1024
MAX_REDIRECTS = 5
MAX_URL_LENGTH = 2000
USER_AGENT = "Learnbot weekly picks (+https://github.com/learnbot)"


@dataclass(frozen=True, slots=True)
class Validators:
    """What the feed said last time: ETag and Last-Modified are sent back so an unchanged feed
    can answer 304; the body's digest catches feeds that ignore them (no parsing when equal)."""

    etag: str | None = None
    last_modified: str | None = None
    body_sha256: str | None = None


@dataclass(frozen=True, slots=True)
class FeedFetch:
    """The outcome for one feed: ``status`` is ``ok``, ``not-modified`` or ``failed``."""

    feed: Feed
    status: FetchStatus
    entries: tuple[FeedEntry, ...] = ()
    validators: Validators = Validators()
    error: str = ""
    seconds: float = 0.0


class PageError(Exception):
    """A shared link could not be read; the message is meant for the person who shared it."""


def make_client(timeout: float) -> httpx.AsyncClient:
    """The production client. Callers bound each whole exchange with ``asyncio.timeout``
    (httpx's timeouts are per connect/read, so a server dripping bytes could outlast them);
    httpx's own timeout is only a backstop, a little longer, so the message people see is the
    end-to-end one."""
    return httpx.AsyncClient(
        timeout=httpx.Timeout(timeout + 1.0),
        headers={"User-Agent": USER_AGENT},
        follow_redirects=False,
        limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
    )


async def fetch_feeds(
    client: httpx.AsyncClient,
    feeds: Sequence[Feed],
    validators: dict[str, Validators],
    *,
    per_feed_seconds: float,
    concurrency: int = 50,
) -> list[FeedFetch]:
    """Fetch every feed at once (at most ``concurrency`` in flight), each within ``per_feed_seconds``
    seconds end to end, so one slow feed costs its own timeout and nothing more."""
    gate = asyncio.Semaphore(concurrency)
    # One parsing thread: feedparser holds the GIL, so more threads would only fight over it
    # (and starve the event loop); one keeps parsing off the loop without that contention.
    parser = ThreadPoolExecutor(max_workers=1, thread_name_prefix="feedparser")

    async def one(feed: Feed) -> FeedFetch:
        async with gate:
            started = time.perf_counter()
            try:
                async with asyncio.timeout(per_feed_seconds):
                    result = await _fetch_feed(client, feed, validators.get(feed.id, Validators()), parser)
            except TimeoutError:
                result = FeedFetch(feed, FetchStatus.FAILED, error=f"no answer within {per_feed_seconds:g} s")
            except httpx.HTTPError as exc:
                result = FeedFetch(feed, FetchStatus.FAILED, error=_describe(exc))
            except MalformedFeed as exc:
                result = FeedFetch(feed, FetchStatus.FAILED, error=str(exc))
            elapsed = time.perf_counter() - started
            if result.status == FetchStatus.FAILED:
                logger.warning("feed %s (%s) skipped: %s", feed.id, feed.url, result.error)
            return FeedFetch(
                result.feed, result.status, result.entries, result.validators, result.error, elapsed
            )

    try:
        return list(await asyncio.gather(*(one(feed) for feed in feeds)))
    finally:
        parser.shutdown(wait=False, cancel_futures=True)


async def _fetch_feed(
    client: httpx.AsyncClient, feed: Feed, known: Validators, parser: Executor
) -> FeedFetch:
    headers = {"Accept": "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.5"}
    if known.etag:
        headers["If-None-Match"] = known.etag
    if known.last_modified:
        headers["If-Modified-Since"] = known.last_modified
    url = feed.url
    for _hop in range(MAX_REDIRECTS + 1):
        async with client.stream("GET", url, headers=headers) as response:
            if response.is_redirect and "location" in response.headers:
                url = urljoin(url, response.headers["location"])
                continue
            if response.status_code == 304:
                return FeedFetch(feed, FetchStatus.NOT_MODIFIED, validators=known)
            if response.status_code >= 400:
                status = f"HTTP {response.status_code} {response.reason_phrase}".strip()
                return FeedFetch(feed, FetchStatus.FAILED, error=status)
            body = await _read_limited(response, MAX_FEED_BYTES)
            digest = hashlib.sha256(body).hexdigest()
            fresh = Validators(response.headers.get("etag"), response.headers.get("last-modified"), digest)
        if known.body_sha256 == digest:
            return FeedFetch(feed, FetchStatus.NOT_MODIFIED, validators=fresh)
        # feedparser is pure Python (~15 ms for a TED feed): parse in a worker thread so the
        # event loop keeps serving chat requests and the other fetches meanwhile.
        loop = asyncio.get_running_loop()
        entries = await loop.run_in_executor(
            parser, partial(parse_feed, body, source_name=feed.id, base_url=url)
        )
        return FeedFetch(feed, FetchStatus.OK, tuple(entries), fresh)
    return FeedFetch(feed, FetchStatus.FAILED, error=f"more than {MAX_REDIRECTS} redirects")


async def _read_limited(response: httpx.Response, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size >= limit:
            break
    return b"".join(chunks)[:limit]


def _describe(exc: httpx.HTTPError) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    if isinstance(exc, httpx.ConnectError):
        return "could not connect"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


_HTML_LINK = re.compile(r"<a\s[^>]*?href=([\"'])(.+?)\1[^>]*>.*?</a>", re.IGNORECASE | re.DOTALL)
_SLACK_LINK = re.compile(r"<((?:https?|ftp|mailto|file):[^|>\s]+)(?:\|[^>]*)?>", re.IGNORECASE)


def unwrap_links(text: str) -> str:
    """Plain addresses from what chat platforms send: Slack wraps links as ``<url|label>``,
    Teams may send an HTML anchor ``<a href="url">label</a>``."""
    text = _HTML_LINK.sub(lambda m: html.unescape(m.group(2)), text)
    return _SLACK_LINK.sub(lambda m: html.unescape(m.group(1)), text)  # Slack sends & as &amp;


def check_share_url(text: str) -> str:
    """The URL in ``text`` if it is a web address, else :class:`PageError` saying what to send.

    Slack may wrap links as ``<https://x|label>``; that wrapping is removed first."""
    url = text.strip().strip("<>").split("|", 1)[0].strip()
    parts = urlsplit(url)
    if parts.scheme.lower() not in {"http", "https"} or not parts.hostname:
        raise PageError(
            f"I can only share web links that start with http:// or https://, and '{url[:100]}' "
            "isn't one. Try `/learning share https://example.org/article why it's worth reading`."
        )
    if len(url) > MAX_URL_LENGTH:
        raise PageError(f"That link is {len(url)} characters long; please share a shorter one.")
    if parts.username or parts.password:
        raise PageError("Please share the link without a user name or password in it.")
    return url


async def _refuse_private(host: str, port: int) -> None:
    """Refuse links to this network's own machines, so ``share`` can't probe internal services."""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port)
    except OSError:
        raise PageError(f"I couldn't find the site {host}. Is the link spelled right?") from None
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]))
        if not address.is_global:
            raise PageError(f"I can only read public web pages, and {host} is on a private network.")


async def fetch_page(client: httpx.AsyncClient, url: str, *, allow_private: bool) -> PageInfo:
    """Read a shared page's head and return what to show; :class:`PageError` when it can't."""
    current = url
    try:
        for _hop in range(MAX_REDIRECTS + 1):
            parts = urlsplit(current)
            if parts.scheme not in {"http", "https"} or not parts.hostname:
                raise PageError("That link redirects somewhere that isn't a web page.")
            if not allow_private:
                await _refuse_private(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
            async with client.stream("GET", current, headers={"Accept": "text/html,*/*;q=0.5"}) as response:
                if response.is_redirect and "location" in response.headers:
                    current = urljoin(current, response.headers["location"])
                    continue
                if response.status_code >= 400:
                    raise PageError(
                        f"I couldn't open that page (it answered HTTP {response.status_code}). "
                        "Check that the link works in a browser and try again."
                    )
                kind = response.headers.get("content-type", "")
                if "html" not in kind:
                    return read_page(url, "")
                body = await _read_limited(response, MAX_PAGE_BYTES)
                return read_page(url, body.decode(response.encoding or "utf-8", errors="replace"))
    except httpx.HTTPError as exc:
        raise PageError(
            f"I couldn't reach that page ({_describe(exc)}). Check that the link works in a "
            "browser and try again."
        ) from None
    raise PageError("That link redirects too many times for me to follow.")
