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
import socket
import time
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from urllib.parse import urljoin, urlsplit, urlunsplit

import charset_normalizer
import httpx

from bot.features.picks.config import Feed
from bot.features.picks.feeds import FeedEntry, MalformedFeed, parse_feed
from bot.features.picks.opengraph import PageInfo, read_page
from storage.picks import FetchStatus

logger = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

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


Resolver = Callable[[str, int], Awaitable[list[str]]]
"""``(host, port) -> addresses``; the event loop's ``getaddrinfo`` unless a test injects one."""


async def _system_resolver(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


async def _public_address(
    host: str, port: int, resolve: Resolver, allowed: Callable[[IPAddress], bool]
) -> str:
    """The one address to connect to, after checking every address ``host`` resolves to is
    public, so ``share`` can't probe this network's own services. The caller connects to
    exactly this address: were httpx to resolve the name again, a DNS answer that changed in
    between (DNS rebinding) could point the request at a private machine after the check."""
    try:
        addresses = [ipaddress.ip_address(a.split("%", 1)[0]) for a in await resolve(host, port)]
    except (OSError, ValueError):
        raise PageError(f"I couldn't find the site {host}. Is the link spelled right?") from None
    if not addresses:
        raise PageError(f"I couldn't find the site {host}. Is the link spelled right?")
    if not all(allowed(address) for address in addresses):
        raise PageError(f"I can only read public web pages, and {host} is on a private network.")
    return str(addresses[0])


def pinned_request(url: str, address: str) -> tuple[str, dict[str, str], dict[str, str]]:
    """``url`` rewritten to connect to ``address``, with the ``Host`` header and the TLS server
    name (SNI, and the name the certificate is checked against) still the original host."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    literal = f"[{address}]" if ":" in address else address
    netloc = literal if parts.port is None else f"{literal}:{parts.port}"
    host_header = host if parts.port is None else f"{host}:{parts.port}"
    return (
        urlunsplit(parts._replace(netloc=netloc)),
        {"Host": host_header},
        {"sni_hostname": host},
    )


def decode_page(body: bytes, content_type: str) -> str:
    """The page's text: the charset the server declared, else the page's own ``<meta charset>``,
    else charset-normalizer's detection (pages without any declaration decoded as mojibake)."""
    for declared in (_charset_param(content_type), _meta_charset(body[:4096])):
        if declared:
            try:
                return body.decode(declared, errors="replace")
            except LookupError:
                continue
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    matches = charset_normalizer.from_bytes(body)
    best = matches.best()
    if best is None:
        return body.decode("utf-8", errors="replace")
    # Western European single-byte code pages often score alike on a short page; HTML's own
    # legacy default (WHATWG) is windows-1252, so it wins a tie.
    legacy = next(
        (m for m in matches if WEB_LEGACY in m.could_be_from_charset and m.chaos <= best.chaos + 0.01),
        None,
    )
    return str(legacy or best)


WEB_LEGACY = "cp1252"


_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.IGNORECASE)


def _charset_param(content_type: str) -> str | None:
    for param in content_type.split(";")[1:]:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip("\"'"):
            return value.strip().strip("\"'")
    return None


def _meta_charset(head: bytes) -> str | None:
    match = _META_CHARSET.search(head)
    return match.group(1).decode("ascii") if match else None


async def fetch_page(
    client: httpx.AsyncClient,
    url: str,
    *,
    allow_private: bool,
    resolve: Resolver | None = None,
    address_allowed: Callable[[IPAddress], bool] = lambda address: address.is_global,
) -> PageInfo:
    """Read a shared page's head and return what to show; :class:`PageError` when it can't."""
    current = url
    try:
        for _hop in range(MAX_REDIRECTS + 1):
            parts = urlsplit(current)
            if parts.scheme not in {"http", "https"} or not parts.hostname:
                raise PageError("That link redirects somewhere that isn't a web page.")
            target, headers = current, {"Accept": "text/html,*/*;q=0.5"}
            extensions: dict[str, str] = {}
            if not allow_private:
                port = parts.port or (443 if parts.scheme == "https" else 80)
                address = await _public_address(
                    parts.hostname, port, resolve or _system_resolver, address_allowed
                )
                target, pinned, extensions = pinned_request(current, address)
                headers.update(pinned)
            request = client.build_request("GET", target, headers=headers, extensions=extensions)
            response = await client.send(request, stream=True)
            try:
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
                return read_page(url, decode_page(body, kind))
            finally:
                await response.aclose()
    except httpx.HTTPError as exc:
        raise PageError(
            f"I couldn't reach that page ({_describe(exc)}). Check that the link works in a "
            "browser and try again."
        ) from None
    raise PageError("That link redirects too many times for me to follow.")
