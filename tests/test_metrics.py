"""``GET /metrics`` scraped while a fan-out is being delivered: the counters add up."""

from __future__ import annotations

from datetime import timedelta

from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.slack.plugin import build
from bot.clock import ManualClock
from bot.config import AppConfig
from bot.core import Learnbot
from bot.features import FEATURES
from bot.messages import plain
from bot.outbox import ToChannel
from learnbot.runtime import Runtime
from learnbot.server import build_server
from learnbot.settings import Settings
from scheduler.delivery import DeliveryWorker, WorkerSettings
from scheduler.jobs import _run
from scheduler.metrics import Metrics
from storage.db import session_factory
from tests.slack.fake import FakeSlack
from tests.slack.world import FAST

FAN_OUT = 40
THROTTLED = 3


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def _value(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_metrics_add_up_during_a_fan_out(
    engine: AsyncEngine, config: AppConfig, clock: ManualClock
) -> None:
    fake = await FakeSlack(timestamp=lambda: clock.now().timestamp()).start()
    settings = Settings(slack_bot_token="xoxb-test", slack_signing_secret="s", slack_api_url=fake.api_url)
    app = Learnbot(config, session_factory(engine), clock=clock, platforms=("slack",), features=FEATURES)
    runtime = Runtime(settings=Settings(), config=config, engine=engine, app=app, metrics=Metrics())
    parts = build(app, settings, policy=FAST, metrics=runtime.metrics)
    worker = DeliveryWorker(
        app.sessions,
        {"slack": parts.deliverer},
        clock,
        WorkerSettings(concurrency=4),
        metrics=runtime.metrics,
    )
    async with app.sessions() as session, session.begin():
        for index in range(FAN_OUT):
            channel = ("learning", "aprendizaje")[index % 2]
            await app.plan(
                session, destination=ToChannel(channel), message=plain(f"pick {index}"), key=f"k{index}"
            )
    fake.fail("chat.postMessage", "ratelimited", times=THROTTLED)
    web_app = await build_server(Settings(), runtime=runtime, start_background=False)
    try:
        async with TestClient(TestServer(web_app)) as client:
            before = _samples(await (await client.get("/metrics")).text())
            assert _value(before, "learnbot_outbox_messages", status="pending", platform="slack") == FAN_OUT

            # Each round takes the next message of each channel (a conversation's messages go in
            # planning order); the first rounds meet the 429s. A few rounds: the fan-out is under way.
            for _ in range(THROTTLED + 1):
                await worker.run_once()
            during = _samples(await (await client.get("/metrics")).text())
            sent_rows = _value(during, "learnbot_outbox_messages", status="sent", platform="slack")
            pending_rows = _value(during, "learnbot_outbox_messages", status="pending", platform="slack")
            assert 0 < sent_rows < FAN_OUT and sent_rows + pending_rows == FAN_OUT
            assert _value(during, "learnbot_sends_total", platform="slack", outcome="sent") == sent_rows
            assert _value(during, "learnbot_platform_throttled_total", platform="slack") == THROTTLED
            assert _value(during, "learnbot_send_retries_total", platform="slack") == THROTTLED

            for _ in range(10):
                clock.advance(timedelta(minutes=5))  # past every Retry-After and backoff
                await worker.drain()
            await _run(app, "expire_dialogs", {}, runtime.metrics)
            after = _samples(await (await client.get("/metrics")).text())
    finally:
        await parts.adapter.close()
        await fake.stop()
    assert _value(after, "learnbot_outbox_messages", status="sent", platform="slack") == FAN_OUT
    assert _value(after, "learnbot_outbox_messages", status="pending", platform="slack") == 0
    assert _value(after, "learnbot_sends_total", platform="slack", outcome="sent") == FAN_OUT
    assert _value(after, "learnbot_sends_total", platform="slack", outcome="throttled") == THROTTLED
    attempts = _value(after, "learnbot_send_seconds_count", platform="slack")
    assert attempts == FAN_OUT + THROTTLED
    assert len(fake.called("chat.postMessage")) == FAN_OUT  # the fake records accepted posts
    assert _value(after, "learnbot_job_runs_total", job="expire_dialogs", outcome="ok") == 1
    assert _value(after, "learnbot_job_seconds_count", job="expire_dialogs") == 1
    assert _value(after, "learnbot_dialogs_open") == 0


async def test_two_runtimes_count_separately() -> None:
    """Each runtime owns its registry: nothing leaks through prometheus-client's global one."""
    first, second = Metrics(), Metrics()
    first.sends.labels("slack", "sent").inc()
    assert b'learnbot_sends_total{outcome="sent",platform="slack"} 1.0' in first.exposition()
    assert b"learnbot_sends_total{" not in second.exposition()
