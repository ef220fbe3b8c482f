"""Benchmark: 50 feeds on a local server, each answering after 200 ms, fetched and parsed the
way the weekly_picks job does it (httpx, concurrency from the default picks config).

Goal (issue 7): all 50 fetched in under 1.5 s. Run: ``.venv/bin/python bench/feeds.py``.
Also measures the second, conditional round (every feed answers 304 Not Modified).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import statistics
import sys
import time
from multiprocessing.connection import Connection
from pathlib import Path

from aiohttp import web

from bot.config import Feed, PicksPolicy
from bot.features.picks.fetch import FeedFetch, Validators, fetch_feeds, make_client

FEEDS = 50
LATENCY = 0.2
GOAL = 1.5
ROUNDS = 5
CPU: list[float] = []  # the bot process's CPU seconds per round (the machine is shared)
BODY = (Path(__file__).parent.parent / "tests" / "fixtures" / "feeds" / "ted-talks.rss").read_bytes()


def serve(port_out: Connection) -> None:
    """The feed host, in its own process as real feed hosts are: the figures measure the bot."""

    async def feed(request: web.Request) -> web.Response:
        await asyncio.sleep(LATENCY)
        etag = f'"{request.match_info["name"]}-v1"'
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(body=BODY, headers={"ETag": etag, "Content-Type": "application/rss+xml"})

    async def run() -> None:
        app = web.Application()
        app.router.add_get("/feeds/{name}.rss", feed)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        port_out.send(runner.addresses[0][1])
        await asyncio.Event().wait()

    asyncio.run(run())


async def timed(
    feeds: list[Feed], known: dict[str, Validators], policy: PicksPolicy
) -> tuple[float, list[FeedFetch]]:
    started = time.perf_counter()
    cpu = time.process_time()
    async with make_client(policy.fetch_timeout_seconds) as client:
        results = await fetch_feeds(
            client,
            feeds,
            known,
            per_feed_seconds=policy.fetch_timeout_seconds,
            concurrency=policy.max_concurrent_fetches,
        )
    CPU.append(time.process_time() - cpu)
    return time.perf_counter() - started, results


async def download_only(feeds: list[Feed], policy: PicksPolicy) -> float:
    """The network part alone: every body in hand, nothing parsed (same client settings)."""
    started = time.perf_counter()
    async with make_client(policy.fetch_timeout_seconds) as client:
        answers = await asyncio.gather(*(client.get(feed.url) for feed in feeds))
    assert all(answer.status_code == 200 for answer in answers)
    return time.perf_counter() - started


def line(name: str, figures: list[float]) -> str:
    return f"{name:<34} median {statistics.median(figures):.3f} s   worst {max(figures):.3f} s"


async def main() -> int:
    policy = PicksPolicy()
    receive, send = multiprocessing.Pipe(duplex=False)
    server = multiprocessing.Process(target=serve, args=(send,), daemon=True)
    server.start()
    base = f"http://127.0.0.1:{receive.recv()}"
    feeds = [Feed(id=f"feed-{i}", url=f"{base}/feeds/feed-{i}.rss", kind="talk") for i in range(FEEDS)]
    full: list[float] = []
    conditional: list[float] = []
    download: list[float] = []
    try:
        for _ in range(ROUNDS):
            seconds, results = await timed(feeds, {}, policy)
            assert all(r.status == "ok" and len(r.entries) == 6 for r in results), results
            full.append(seconds)
            known = {r.feed.id: r.validators for r in results}
            seconds, results = await timed(feeds, known, policy)
            assert all(r.status == "not-modified" for r in results)
            conditional.append(seconds)
            download.append(await download_only(feeds, policy))
    finally:
        server.terminate()
        server.join()
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"{FEEDS} feeds x {LATENCY * 1000:.0f} ms, "
        f"concurrency {policy.max_concurrent_fetches}, {ROUNDS} rounds"
    )
    print(f"machine: {os.cpu_count()} cores, load average {load}")
    print(line("fetch + parse (what the job does)", full))
    print(line("download only (no parsing)", download))
    print(line("conditional GET (all 304)", conditional))
    print(f"{'bot CPU, fetch + parse':<34} median {statistics.median(CPU[::2]):.3f} s")
    print(f"{'bot CPU, conditional':<34} median {statistics.median(CPU[1::2]):.3f} s")
    print(f"{'one after another would take':<34} {FEEDS * LATENCY:.1f} s")
    ok = statistics.median(full) < GOAL
    print(f"goal: fetch + parse under {GOAL} s (median): {'met' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
