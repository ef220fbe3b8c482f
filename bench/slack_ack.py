"""Benchmark: how fast a slash command is acked through Learnbot's full HTTP stack, beside a
bare Bolt app with a no-op handler and beside Learnbot as it was before the inbox, in the same
run, on the same machine.

Full stack: ``learnbot.server.build_server`` (aiohttp, the Slack plugin, signature check,
Bolt dispatch, the listener that writes the request to the inbox table and only then acks; the
inbox worker then does the work: users.info, the core, chat.postMessage to a fake Slack).
Before the inbox: the same server from the merge base with ``main`` (``git archive``), whose
listener acked and handed the work to an in-memory queue. Bare: ``AsyncApp`` with one
``/learning`` listener that only acks, behind the same aiohttp glue; measured with Bolt's
default (``process_before_response=False``, Bolt polls for the ack) and with
``process_before_response=True`` (what Learnbot uses), and the ratio is taken against the
faster of the two.

Each round sends 50 signed requests at once; latency is request start to response.

    .venv/bin/python bench/slack_ack.py [--rounds 20] [--database-url postgresql://...]

``--database-url`` puts the full stack's database (and so its inbox) on PostgreSQL; the other
stacks stay on SQLite files.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.app import SlackAdapter
from bot.config import load_config
from learnbot.runtime import build_runtime
from learnbot.server import build_server
from learnbot.settings import Settings
from tests.slack.fake import TEAM, FakeSlack, serve_locally, sign

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-secret"
CONCURRENCY = 50


async def serve(web_app: web.Application) -> tuple[web.AppRunner, str]:
    runner, base = await serve_locally(web_app)
    return runner, f"{base}/slack/events"


def bare_app(fake: FakeSlack, process_before_response: bool) -> web.Application:
    bolt = AsyncApp(
        client=AsyncWebClient(token="xoxb-bench", base_url=fake.api_url),
        signing_secret=SECRET,
        process_before_response=process_before_response,
    )

    @bolt.command("/learning")
    async def _noop(ack: AsyncAck) -> None:
        await ack()

    async def events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

    web_app = web.Application()
    web_app.router.add_post("/slack/events", events)
    return web_app


def command_body(fake: FakeSlack, user_id: str, n: int) -> str:
    return urlencode(
        {
            "team_id": TEAM,
            "channel_id": "D" + user_id[1:],
            "channel_name": "directmessage",
            "user_id": user_id,
            "command": "/learning",
            "text": "help",
            "response_url": fake.response_url(f"b{n}"),
            "trigger_id": f"{n}.{time.time_ns()}.bench",
        }
    )


async def one(http: aiohttp.ClientSession, url: str, body: str) -> float:
    headers = {**sign(SECRET, body), "Content-Type": "application/x-www-form-urlencoded"}
    start = time.perf_counter()
    async with http.post(url, data=body.encode(), headers=headers) as response:
        await response.read()
        assert response.status == 200, response.status
    return time.perf_counter() - start


async def round_of(
    http: aiohttp.ClientSession, url: str, fake: FakeSlack, users: list[str], n: int
) -> list[float]:
    bodies = [command_body(fake, user, n * CONCURRENCY + i) for i, user in enumerate(users)]
    return list(await asyncio.gather(*(one(http, url, body) for body in bodies)))


def summary(name: str, samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p50 = statistics.median(ordered) * 1000
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
    print(
        f"{name:<44} n={len(ordered):<5} p50={p50:7.2f} ms  p99={p99:7.2f} ms  "
        f"max={ordered[-1] * 1000:7.2f} ms"
    )
    return p50, p99


async def servers(api_url: str, database_url: str | None) -> None:
    """The server side, in its own process (as in production: Slack is elsewhere): print the
    URLs, serve until stdin closes."""
    fake_api = FakeSlack()
    fake_api.url = api_url.removesuffix("/api/")
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            database_url=database_url or f"sqlite:///{tmp}/bench.db",
            slack_bot_token="xoxb-bench",
            slack_signing_secret=SECRET,
            slack_api_url=api_url,
        )
        config = load_config(str(ROOT / "tests" / "fixtures" / "app.yaml"))
        runtime = await build_runtime(settings, ["slack"], config=config)
        full = await build_server(settings, runtime=runtime, start_background=False)
        adapter: SlackAdapter = next(
            r.handler.__self__  # type: ignore[attr-defined]
            for r in full.router.routes()
            if r.resource and r.resource.canonical == "/slack/events"
        )

        async def idle(request: web.Request) -> web.Response:
            await adapter.idle()
            return web.Response(text="idle")

        full.router.add_get("/bench/idle", idle)
        running = {
            "Learnbot full stack": await serve(full),
            "bare Bolt, no-op (defaults)": await serve(bare_app(fake_api, False)),
            "bare Bolt, no-op (process_before_response)": await serve(bare_app(fake_api, True)),
        }
        print(json.dumps({name: url for name, (_, url) in running.items()}), flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
        for runner, _ in running.values():
            await runner.cleanup()
        await runtime.close()


BEFORE = "Learnbot before the inbox (main)"


def old_code(target: Path) -> Path:
    """Learnbot at the merge base with ``main`` (before the inbox), from ``git archive``."""
    base = subprocess.run(
        ["git", "merge-base", "HEAD", "main"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    archive = subprocess.run(["git", "archive", base], cwd=ROOT, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target


async def start_servers(
    code: Path, api_url: str, database_url: str | None
) -> tuple[asyncio.subprocess.Process, dict[str, str]]:
    extra = ["--database-url", database_url] if database_url else []
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        str(code / "bench" / "slack_ack.py"),
        "--serve",
        api_url,
        *extra,
        cwd=code,
        env={**os.environ, "PYTHONPATH": str(code)},
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert child.stdout is not None
    return child, json.loads(await child.stdout.readline())


async def main(rounds: int, database_url: str | None) -> None:
    fake = await FakeSlack().start()
    users = [fake.add_user(f"p{i}@example.org", f"P {i}").id for i in range(CONCURRENCY)]
    with tempfile.TemporaryDirectory() as tmp:
        child, urls = await start_servers(ROOT, fake.api_url, database_url)
        old_child, old_urls = await start_servers(old_code(Path(tmp)), fake.api_url, None)
        urls[BEFORE] = old_urls["Learnbot full stack"]
        idle_urls = [
            u.replace("/slack/events", "/bench/idle") for u in (urls["Learnbot full stack"], urls[BEFORE])
        ]
        samples: dict[str, list[float]] = {name: [] for name in urls}
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:

            async def settle() -> None:
                for idle_url in idle_urls:
                    async with http.get(idle_url) as response:
                        await response.read()

            for url in urls.values():  # warm-up: auth.test, first users.info, DB pages, connections
                await round_of(http, url, fake, users, 0)
            await settle()
            for n in range(1, rounds + 1):
                for name, url in urls.items():
                    samples[name] += await round_of(http, url, fake, users, n)
                    await settle()
        for process in (child, old_child):
            assert process.stdin is not None
            process.stdin.close()
            await process.wait()
    print(
        f"{rounds} rounds x {CONCURRENCY} concurrent signed /learning commands per app; client and fake Slack"
    )
    print("in one process, the servers in two others; 2 cores shared with other work")
    print(f"full stack database: {'PostgreSQL' if database_url else 'SQLite'}; the others on SQLite")
    results: dict[str, Any] = {name: summary(name, s) for name, s in samples.items()}
    full_p50, full_p99 = results["Learnbot full stack"]
    bare_p50, bare_p99 = min(
        results["bare Bolt, no-op (defaults)"], results["bare Bolt, no-op (process_before_response)"]
    )
    print(
        f"ratio full/bare (faster bare): p50 {full_p50 / bare_p50:.2f}, "
        f"p99 {full_p99 / bare_p99:.2f} (target <= 1.3)"
    )
    before_p50, before_p99 = results[BEFORE]
    print(f"ratio full/before the inbox: p50 {full_p50 / before_p50:.2f}, p99 {full_p99 / before_p99:.2f}")
    slowest = max(samples["Learnbot full stack"]) * 1000
    print(f"slowest ack with the inbox: {slowest:.1f} ms (Slack's budget: 3000 ms)")
    print(f"replies both Learnbot stacks sent after their acks: {len(fake.called('chat.postMessage'))}")
    await fake.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--serve", metavar="API_URL", help="internal: run the servers against this fake")
    parser.add_argument("--database-url", help="the full stack's database (default: a SQLite file)")
    options = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    if options.serve:
        asyncio.run(servers(options.serve, options.database_url))
    else:
        asyncio.run(main(options.rounds, options.database_url))
