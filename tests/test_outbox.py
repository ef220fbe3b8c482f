"""The outbox: planned once, delivered once, across crashes, retries and racing workers."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import ManualClock, SystemClock
from bot.core import Learnbot
from bot.features import FEATURES
from bot.messages import plain
from bot.outbox import ToChannel, ToPerson
from bot.people import get_or_create_by_email
from scheduler.delivery import Delivery, DeliveryWorker, RetryLater, Undeliverable, WorkerSettings
from scheduler.ratelimit import Limit, RateLimiter
from storage.models import OutboxMessage


class SimulatedCrash(BaseException):
    """Stands for the process dying: not an Exception, so nothing on the way catches it."""


class RecordingDeliverer:
    """A platform that remembers what arrived, so it can answer ``reconcile`` truthfully."""

    platform = "console"

    def __init__(self, *, can_reconcile: bool = True, delay: float = 0.0) -> None:
        self.arrived: list[str] = []
        self.failures: list[Exception] = []
        self.can_reconcile = can_reconcile
        self.delay = delay

    def limits(self, delivery: Delivery) -> list[Limit]:
        return []

    async def send(self, delivery: Delivery) -> str:
        if self.failures:
            raise self.failures.pop(0)
        if self.delay:
            await asyncio.sleep(self.delay)
        self.arrived.append(delivery.key)
        return f"m{len(self.arrived)}"

    async def reconcile(self, delivery: Delivery) -> bool | None:
        return delivery.key in self.arrived if self.can_reconcile else None


async def plan_dms(app: Learnbot, count: int, prefix: str = "hello") -> list[str]:
    keys = []
    async with app.sessions() as session, session.begin():
        person = await get_or_create_by_email(session, app.config, "ana@example.org", app.clock.now())
        for index in range(count):
            key = f"{prefix}:{index}"
            await app.plan(session, destination=ToPerson(person.id), message=plain(f"hi {index}"), key=key)
            keys.append(key)
    return keys


async def statuses(sessions: async_sessionmaker[AsyncSession]) -> Counter[str]:
    async with sessions() as session:
        return Counter(
            dict(
                (
                    await session.execute(
                        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
                    )
                ).all()
            )
        )


def worker(app: Learnbot, deliverer: RecordingDeliverer, **kwargs) -> DeliveryWorker:  # type: ignore[no-untyped-def]
    settings = kwargs.pop("settings", WorkerSettings(lease=timedelta(seconds=60)))
    return DeliveryWorker(
        app.sessions, {"console": deliverer}, kwargs.pop("clock", app.clock), settings, **kwargs
    )


async def test_planning_twice_makes_one_row(app: Learnbot) -> None:
    await plan_dms(app, 1)
    await plan_dms(app, 1)
    async with app.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(OutboxMessage)) == 1


async def test_channel_post_one_row_per_enabled_platform(config_data: dict, sessions, clock) -> None:
    from bot.config import parse_config

    config_data["offices"][1]["channels"][0].pop("teams", None)
    both = Learnbot(
        parse_config(config_data), sessions, clock=clock, platforms=("slack", "teams"), features=FEATURES
    )
    async with sessions() as session, session.begin():
        planned = await both.plan(session, destination=ToChannel("learning"), message=plain("x"), key="k")
        only_slack = await both.plan(
            session, destination=ToChannel("aprendizaje"), message=plain("x"), key="k2"
        )
    assert sorted(p.platform for p in planned) == ["slack", "teams"]
    assert [p.platform for p in only_slack] == ["slack"]  # that channel has no Teams id


async def test_unreachable_person_is_recorded_not_skipped(config, sessions, clock) -> None:
    teams_only = Learnbot(config, sessions, clock=clock, platforms=("teams",), features=FEATURES)
    async with sessions() as session, session.begin():
        person = await get_or_create_by_email(session, config, "bo@example.org", clock.now())
        planned = await teams_only.plan(
            session, destination=ToPerson(person.id), message=plain("x"), key="n:1"
        )
    assert planned[0].reachable is False
    async with sessions() as session:
        row = await session.scalar(select(OutboxMessage))
        assert row is not None and row.status == "failed"
        assert row.last_error is not None and row.last_error.startswith("not reachable in Teams")


async def test_delivers_each_row_once(app: Learnbot) -> None:
    keys = await plan_dms(app, 5)
    deliverer = RecordingDeliverer()
    assert await worker(app, deliverer).drain() == 5
    assert await worker(app, deliverer).drain() == 0
    assert sorted(deliverer.arrived) == sorted(keys)
    assert await statuses(app.sessions) == Counter(sent=5)


async def test_crash_between_send_and_commit_is_not_sent_again(app: Learnbot, clock: ManualClock) -> None:
    await plan_dms(app, 1)
    deliverer = RecordingDeliverer()

    async def crash(delivery: Delivery) -> None:
        raise SimulatedCrash

    with pytest.raises(SimulatedCrash):
        await worker(app, deliverer, after_send=crash).run_once()
    assert deliverer.arrived == ["hello:0"]
    assert await statuses(app.sessions) == Counter(sending=1)

    restarted = worker(app, deliverer)
    assert await restarted.run_once() == 0  # the lease still holds
    clock.advance(timedelta(seconds=61))
    assert await restarted.run_once() == 1  # reclaimed, reconciled, not resent
    assert deliverer.arrived == ["hello:0"]
    assert await statuses(app.sessions) == Counter(sent=1)


async def test_crash_before_send_is_sent_after_the_lease(app: Learnbot, clock: ManualClock) -> None:
    await plan_dms(app, 1)
    deliverer = RecordingDeliverer()
    deliverer.failures.append(SimulatedCrash())  # dies inside send, before anything arrives
    with pytest.raises(SimulatedCrash):
        await worker(app, deliverer).run_once()
    clock.advance(timedelta(seconds=61))
    await worker(app, deliverer).drain()
    assert deliverer.arrived == ["hello:0"]
    assert await statuses(app.sessions) == Counter(sent=1)


async def test_in_doubt_without_reconcile_is_recorded_not_duplicated(
    app: Learnbot, clock: ManualClock
) -> None:
    await plan_dms(app, 1)
    deliverer = RecordingDeliverer(can_reconcile=False)

    async def crash(delivery: Delivery) -> None:
        raise SimulatedCrash

    with pytest.raises(SimulatedCrash):
        await worker(app, deliverer, after_send=crash).run_once()
    clock.advance(timedelta(seconds=61))
    await worker(app, deliverer).drain()
    assert deliverer.arrived == ["hello:0"]
    async with app.sessions() as session:
        row = await session.scalar(select(OutboxMessage))
        assert row is not None and row.status == "failed" and "in doubt" in (row.last_error or "")


async def test_retry_after_is_honoured(app: Learnbot, clock: ManualClock) -> None:
    await plan_dms(app, 1)
    deliverer = RecordingDeliverer()
    deliverer.failures.append(RetryLater("rate limited", retry_after=120, bucket="workspace"))
    limiter = RateLimiter()
    delivery_worker = worker(app, deliverer, limiter=limiter)
    await delivery_worker.run_once()
    assert limiter.paused_for("workspace") > 100
    async with app.sessions() as session:
        row = await session.scalar(select(OutboxMessage))
        assert row is not None and row.status == "pending"
        assert row.next_attempt_at >= clock.now() + timedelta(seconds=120)
        assert row.last_error == "retrying: rate limited"
    clock.advance(timedelta(seconds=60))
    assert await worker(app, deliverer).run_once() == 0
    clock.advance(timedelta(seconds=61))
    assert await worker(app, deliverer).run_once() == 1
    assert deliverer.arrived == ["hello:0"]


async def test_permanent_failure_is_recorded_once(app: Learnbot) -> None:
    await plan_dms(app, 1)
    deliverer = RecordingDeliverer()
    deliverer.failures.append(Undeliverable("channel_not_found: the channel was deleted"))
    await worker(app, deliverer).drain()
    async with app.sessions() as session:
        row = await session.scalar(select(OutboxMessage))
        assert row is not None and row.status == "failed" and row.attempts == 1
        assert row.last_error == "channel_not_found: the channel was deleted"


async def test_gives_up_after_max_attempts(app: Learnbot, clock: ManualClock) -> None:
    await plan_dms(app, 1)
    deliverer = RecordingDeliverer()
    deliverer.failures.extend(RetryLater("502 bad gateway") for _ in range(3))
    settings = WorkerSettings(max_attempts=3)
    for _ in range(3):
        await worker(app, deliverer, settings=settings).run_once()
        clock.advance(timedelta(hours=1))
    async with app.sessions() as session:
        row = await session.scalar(select(OutboxMessage))
        assert row is not None and row.status == "failed"
        assert row.last_error == "gave up after 3 attempts: 502 bad gateway"
    assert deliverer.arrived == []


async def test_a_slow_send_keeps_its_lease(app: Learnbot, clock: ManualClock) -> None:
    """While one worker waits on a slow platform, another must not reclaim and resend."""
    clock.set(SystemClock().now())  # these workers run on real time
    await plan_dms(app, 1)
    deliverer = RecordingDeliverer(delay=1.0)
    settings = WorkerSettings(lease=timedelta(seconds=0.4))
    first = worker(app, deliverer, settings=settings, clock=SystemClock())
    second = worker(app, deliverer, settings=settings, clock=SystemClock())
    task = asyncio.create_task(first.run_once())
    for _ in range(5):
        await asyncio.sleep(0.2)
        assert await second.run_once() == 0
    await task
    assert deliverer.arrived == ["hello:0"]


async def test_rate_limiter_spaces_sends() -> None:
    limiter = RateLimiter()
    loop = asyncio.get_running_loop()
    start = loop.time()
    for _ in range(4):
        await limiter.acquire([Limit("channel:C1", 2, 0.2)])
    assert loop.time() - start >= 0.2  # the 3rd send had to wait for the window


@pytest.mark.postgres
async def test_two_workers_racing_on_postgres_send_each_row_once(app: Learnbot) -> None:
    keys = await plan_dms(app, 300)
    deliverer = RecordingDeliverer(delay=0.001)
    settings = WorkerSettings(batch_size=20, concurrency=8)
    first, second = worker(app, deliverer, settings=settings), worker(app, deliverer, settings=settings)
    handled = await asyncio.gather(first.drain(), second.drain())
    assert sum(handled) == 300
    assert all(count > 0 for count in handled), handled  # both really took part
    assert Counter(deliverer.arrived) == Counter(keys)  # every key exactly once
    assert await statuses(app.sessions) == Counter(sent=300)
