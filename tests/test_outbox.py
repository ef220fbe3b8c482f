"""The outbox: planned once, delivered once, across crashes, retries and racing workers."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import ManualClock, SystemClock
from bot.core import Learnbot
from bot.features import FEATURES
from bot.messages import plain
from bot.outbox import ToChannel, ToPerson, recheck_waiting
from bot.people import get_or_create_by_email
from scheduler.delivery import (
    Ambiguous,
    Delivery,
    DeliveryWorker,
    NotReachableYet,
    RetryLater,
    Throttled,
    Undeliverable,
    WorkerSettings,
)
from scheduler.ratelimit import Limit, RateLimiter
from scheduler.waiting import Target
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


async def plan_dms(app: Learnbot, count: int, prefix: str = "hello", *, spread: bool = False) -> list[str]:
    """``count`` DMs to Ana, or with ``spread`` one each to ``count`` people (one conversation's
    messages are sent one after the other, in planning order)."""
    keys = []
    async with app.sessions() as session, session.begin():
        person = await get_or_create_by_email(session, app.config, "ana@example.org", app.clock.now())
        for index in range(count):
            if spread:
                email = f"person{index}@example.org"
                person = await get_or_create_by_email(session, app.config, email, app.clock.now())
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
        assert row is not None and (row.status, row.platform) == ("waiting", "none")
        assert row.last_error == "not reachable yet in Teams: bo@example.org has no linked account there yet"


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
        assert row is not None and row.status == "unconfirmed" and "not resent" in (row.last_error or "")


async def test_retry_after_is_honoured(app: Learnbot, clock: ManualClock) -> None:
    await plan_dms(app, 1)
    deliverer = RecordingDeliverer()
    deliverer.failures.append(Throttled("rate limited", retry_after=120, bucket="workspace"))
    limiter = RateLimiter()
    delivery_worker = worker(app, deliverer, limiter=limiter)
    await delivery_worker.run_once()
    assert await limiter.paused_for("workspace") > 100
    async with app.sessions() as session:
        row = await session.scalar(select(OutboxMessage))
        assert row is not None and row.status == "pending"
        assert row.next_attempt_at >= clock.now() + timedelta(seconds=120)
        assert row.last_error == "throttled: rate limited"
        assert row.attempts == 0  # a 429 uses no attempt
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


async def test_a_long_storm_never_fails_a_message(app: Learnbot, clock: ManualClock) -> None:
    """Fifty 429s in a row (far more than the old 8 attempts): every one waits, none counts."""
    await plan_dms(app, 1)
    deliverer = RecordingDeliverer()
    deliverer.failures.extend(Throttled("429", retry_after=5, bucket="w") for _ in range(50))
    for _ in range(51):
        await worker(app, deliverer).run_once()
        clock.advance(timedelta(seconds=6))
    assert deliverer.arrived == ["hello:0"]
    async with app.sessions() as session:
        row = await session.scalar(select(OutboxMessage))
        assert row is not None and row.status == "sent" and row.attempts == 1


async def test_expires_by_its_deadline_not_by_attempts(app: Learnbot, clock: ManualClock) -> None:
    async with app.sessions() as session, session.begin():
        person = await get_or_create_by_email(session, app.config, "ana@example.org", clock.now())
        await app.plan(
            session,
            destination=ToPerson(person.id),
            message=plain("x"),
            key="k:1",
            expires_at=clock.now() + timedelta(minutes=10),
        )
    deliverer = RecordingDeliverer()
    deliverer.failures.extend(RetryLater("502 bad gateway") for _ in range(3))
    for _ in range(4):  # three failures, then the deadline has passed
        await worker(app, deliverer).run_once()
        clock.advance(timedelta(minutes=4))
    async with app.sessions() as session:
        row = await session.scalar(select(OutboxMessage))
        assert row is not None and row.status == "expired"
        assert row.last_error is not None and row.last_error.startswith(
            "expired: not delivered by its deadline"
        )
    assert deliverer.arrived == []


async def test_a_reminder_expires_at_the_end_of_its_day_where_the_person_is(app: Learnbot) -> None:
    async with app.sessions() as session, session.begin():
        person = await get_or_create_by_email(session, app.config, "ana@example.org", app.clock.now())
        person.timezone = "America/Bogota"  # UTC-5: 09:00 UTC is 04:00 there
        await app.plan(session, destination=ToPerson(person.id), message=plain("x"), key="nudge:1:first")
        await app.plan(session, destination=ToPerson(person.id), message=plain("y"), key="picks:1")
    async with app.sessions() as session:
        rows = {row.kind: row for row in await session.scalars(select(OutboxMessage))}
    assert rows["nudge"].expires_at == datetime(2026, 12, 2, 5, 0, tzinfo=UTC)  # midnight in Bogotá
    assert rows["picks"].expires_at == app.clock.now() + timedelta(hours=72)


class AmbiguousDeliverer(RecordingDeliverer):
    """Posts the message, then answers as if it had failed (a 500 or timeout after posting)."""

    def __init__(self, *, can_reconcile: bool, ambiguous: int = 1) -> None:
        super().__init__(can_reconcile=can_reconcile)
        self.ambiguous = ambiguous

    async def send(self, delivery: Delivery) -> str:
        self.arrived.append(delivery.key)
        if self.ambiguous:
            self.ambiguous -= 1
            raise Ambiguous("HTTP 500 after posting")
        return "m"


async def test_an_ambiguous_answer_is_read_back_before_any_resend(app: Learnbot, clock: ManualClock) -> None:
    await plan_dms(app, 1)
    deliverer = AmbiguousDeliverer(can_reconcile=True)
    await worker(app, deliverer).run_once()
    assert await statuses(app.sessions) == Counter(pending=1)
    clock.advance(timedelta(minutes=5))
    await worker(app, deliverer).drain()
    assert deliverer.arrived == ["hello:0"]  # once
    assert await statuses(app.sessions) == Counter(sent=1)


@pytest.mark.parametrize(
    ("key", "expected_arrivals", "status"),
    [("nudge:7:first", 1, "unconfirmed"), ("learning-day:3:cancelled:person:1", 2, "sent")],
)
async def test_where_nothing_can_be_read_back_the_kind_decides(
    app: Learnbot, clock: ManualClock, key: str, expected_arrivals: int, status: str
) -> None:
    """A reminder is at most once (not resent); a learning-day cancellation at least once."""
    async with app.sessions() as session, session.begin():
        person = await get_or_create_by_email(session, app.config, "ana@example.org", clock.now())
        await app.plan(session, destination=ToPerson(person.id), message=plain("x"), key=key)
    deliverer = AmbiguousDeliverer(can_reconcile=False)
    settings = WorkerSettings(when_in_doubt=app.config.outbox.when_in_doubt)
    for _ in range(3):
        await worker(app, deliverer, settings=settings).run_once()
        clock.advance(timedelta(seconds=30))
    assert deliverer.arrived == [key] * expected_arrivals
    assert await statuses(app.sessions) == Counter({status: 1})


class Hanging(RecordingDeliverer):
    """The first send hangs (a platform that never answers)."""

    def __init__(self) -> None:
        super().__init__()
        self.hung = False

    async def send(self, delivery: Delivery) -> str:
        if not self.hung:
            self.hung = True
            await asyncio.sleep(3600)
        return await super().send(delivery)


async def test_the_worker_streams_past_a_hung_call(app: Learnbot, clock: ManualClock) -> None:
    """No batch barrier: one hung call neither stalls the others nor outlives its timeout."""
    clock.set(SystemClock().now())
    await plan_dms(app, 10)
    deliverer = Hanging()
    settings = WorkerSettings(concurrency=3, send_timeout=0.5)
    streaming = worker(app, deliverer, settings=settings, clock=SystemClock())
    task = asyncio.create_task(streaming.run_forever(None, poll_seconds=0.05))
    for _ in range(100):
        await asyncio.sleep(0.05)
        if len(deliverer.arrived) == 9:
            break
    assert len(deliverer.arrived) == 9  # the other nine went through meanwhile
    await asyncio.sleep(0.6)
    await streaming.shutdown(grace=1)
    await task
    async with app.sessions() as session:
        hung = await session.scalar(select(OutboxMessage).where(OutboxMessage.status != "sent"))
    assert hung is not None and hung.status == "pending" and hung.in_doubt_since is not None
    assert hung.last_error == "ambiguous: no answer within 0.5 s"


async def test_shutdown_releases_rows_waiting_for_the_limiter(app: Learnbot, clock: ManualClock) -> None:
    """SIGTERM mid-fan-out: sends under way finish; rows still waiting to be paced go back to
    pending at once (never marked in flight, leases cleared), to be sent by another replica."""
    clock.set(SystemClock().now())
    await plan_dms(app, 6, spread=True)  # six conversations, so all six are in hand at once
    deliverer = RecordingDeliverer(delay=0.3)
    deliverer.limits = lambda delivery: [Limit("slow", 1, 0.5)]  # type: ignore[method-assign]
    settings = WorkerSettings(concurrency=6)
    streaming = worker(app, deliverer, settings=settings, clock=SystemClock())
    task = asyncio.create_task(streaming.run_forever(None, poll_seconds=0.05))
    for _ in range(250):  # until the first send is under way (the others wait for the limiter)
        async with app.sessions() as session:
            claimed = Counter((await session.scalars(select(OutboxMessage.status))).all())
        if claimed["sending"]:
            break
        await asyncio.sleep(0.02)
    assert claimed["sending"] == 1 and claimed["claimed"] >= 4  # waiting rows are not in flight
    await streaming.shutdown(grace=5)
    await task
    async with app.sessions() as session:
        rows = (await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all()
    sent = [row for row in rows if row.status == "sent"]
    released = [row for row in rows if row.status != "sent"]
    assert sorted(deliverer.arrived) == sorted(row.idempotency_key for row in sent)  # finished
    assert len(released) >= 4 and all(row.status == "pending" for row in released)
    assert all(row.lease_until is None and row.claimed_by is None for row in released)
    assert all(row.attempts == 0 and row.in_doubt_since is None for row in released)


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
    keys = await plan_dms(app, 300, spread=True)  # 300 conversations: one's are sent in order
    deliverer = RecordingDeliverer(delay=0.001)
    settings = WorkerSettings(concurrency=8)
    first, second = worker(app, deliverer, settings=settings), worker(app, deliverer, settings=settings)
    handled = await asyncio.gather(first.drain(), second.drain())
    assert sum(handled) == 300
    assert all(count > 0 for count in handled), handled  # both really took part
    assert Counter(deliverer.arrived) == Counter(keys)  # every key exactly once
    assert await statuses(app.sessions) == Counter(sent=300)


# -- waiting for a destination to become reachable ---------------------------------------------
class FindingDeliverer(RecordingDeliverer):
    """A platform that can say whether a person is reachable (as linking by email would)."""

    platform = "slack"

    def __init__(self) -> None:
        super().__init__()
        self.reachable_people: set[int] = set()
        self.asked: list[str] = []

    async def reachable(self, target: Target) -> bool:
        self.asked.append(target.destination_key)
        return target.person_id in self.reachable_people


async def plan_waiting(sessions: async_sessionmaker[AsyncSession], config, clock) -> tuple[Learnbot, int]:  # type: ignore[no-untyped-def]
    app = Learnbot(config, sessions, clock=clock, platforms=("slack",), features=FEATURES)
    async with sessions() as session, session.begin():
        person = await get_or_create_by_email(session, config, "bo@example.org", clock.now())
        await app.plan(session, destination=ToPerson(person.id), message=plain("Due"), key="nudge:1:due")
    return app, person.id


def finding_worker(app: Learnbot, deliverer: FindingDeliverer) -> DeliveryWorker:
    settings = WorkerSettings(waiting_expiry=timedelta(days=3), waiting_recheck=timedelta(minutes=15))
    return DeliveryWorker(app.sessions, {"slack": deliverer}, app.clock, settings)


async def test_a_waiting_message_is_released_once_the_person_is_reachable(config, sessions, clock) -> None:
    app, person_id = await plan_waiting(sessions, config, clock)
    deliverer = FindingDeliverer()
    worker = finding_worker(app, deliverer)
    await worker.drain()
    assert deliverer.asked == [str(person_id)] and await statuses(sessions) == Counter(waiting=1)
    await worker.drain()
    assert len(deliverer.asked) == 1  # not asked again before the re-check interval
    deliverer.reachable_people.add(person_id)
    async with sessions() as session, session.begin():
        assert await recheck_waiting(session, [person_id], clock.now()) == 1  # linking wakes it
    assert await worker.drain() == 1
    assert deliverer.arrived == ["nudge:1:due"]
    async with sessions() as session:
        row = await session.scalar(select(OutboxMessage))
        assert row is not None and (row.status, row.platform, row.attempts) == ("sent", "slack", 1)
    await worker.drain()
    assert deliverer.arrived == ["nudge:1:due"]


async def test_a_waiting_message_is_checked_again_and_expires(config, sessions, clock: ManualClock) -> None:
    app, _ = await plan_waiting(sessions, config, clock)
    deliverer = FindingDeliverer()
    worker = finding_worker(app, deliverer)
    await worker.drain()
    clock.advance(timedelta(minutes=16))
    await worker.drain()
    assert len(deliverer.asked) == 2
    clock.advance(timedelta(days=3))
    await worker.drain()
    async with sessions() as session:
        row = await session.scalar(select(OutboxMessage))
    assert row is not None and row.status == "expired"
    assert row.last_error is not None and row.expires_at is not None
    # a reminder waits no longer than its own deadline (the end of its day), before waiting_days
    deadline = row.expires_at.isoformat(timespec="minutes")
    assert row.last_error == (
        f"expired: not reachable by its deadline ({deadline}): not reachable yet in Slack: "
        "bo@example.org has no linked account there yet"
    )
    assert not deliverer.arrived


async def test_not_reachable_at_delivery_waits_without_using_an_attempt(
    app: Learnbot, clock: ManualClock
) -> None:
    await plan_dms(app, 1)
    deliverer = RecordingDeliverer()
    deliverer.failures.append(NotReachableYet("not reachable in Teams: the bot is not in the team"))
    worker_ = worker(app, deliverer)
    await worker_.drain()
    async with app.sessions() as session:
        row = await session.scalar(select(OutboxMessage))
        assert row is not None and (row.status, row.attempts) == ("waiting", 0)
        assert row.last_error == "waiting: not reachable in Teams: the bot is not in the team"
    clock.advance(timedelta(minutes=15))
    await worker_.drain()  # a platform that cannot tell is simply tried again
    assert deliverer.arrived == ["hello:0"]


class PreparingDeliverer(RecordingDeliverer):
    """Finds the recipient before pacing (like Slack's users.lookupByEmail in ``prepare``)."""

    def __init__(self) -> None:
        super().__init__()
        self.unknown = True

    async def prepare(self, delivery: Delivery) -> None:
        if self.unknown:
            raise NotReachableYet("not reachable in Slack: no active Slack user has this email")


async def test_not_reachable_while_preparing_waits_and_expires_by_the_deadline(
    app: Learnbot, clock: ManualClock
) -> None:
    await plan_dms(app, 1)
    async with app.sessions() as session, session.begin():
        row = await session.scalar(select(OutboxMessage))
        assert row is not None
        row.expires_at = clock.now() + timedelta(hours=1)
    deliverer = PreparingDeliverer()
    worker_ = worker(app, deliverer)
    await worker_.drain()
    async with app.sessions() as session:
        row = await session.scalar(select(OutboxMessage))
        assert row is not None and (row.status, row.attempts) == ("waiting", 0)
        assert row.last_error == "waiting: not reachable in Slack: no active Slack user has this email"
    clock.advance(timedelta(hours=1))  # the deadline comes before the next re-check
    await worker_.drain()
    async with app.sessions() as session:
        row = await session.scalar(select(OutboxMessage))
        assert row is not None and row.status == "expired" and row.last_error is not None
        assert row.last_error.startswith("expired: not reachable by its deadline (")
    assert deliverer.arrived == []


class SlowFirstDeliverer(RecordingDeliverer):
    """The first message takes longest: sent side by side, the later ones would overtake it."""

    async def send(self, delivery: Delivery) -> str:
        await asyncio.sleep(0.2 if delivery.key.endswith(":0") else 0.0)
        return await super().send(delivery)


async def test_one_conversation_is_served_in_planning_order_by_the_streaming_worker(
    app: Learnbot, clock: ManualClock
) -> None:
    """Only the earliest due row of a conversation is claimed; the next follows once it is sent."""
    clock.set(SystemClock().now())
    keys = await plan_dms(app, 3)
    deliverer = SlowFirstDeliverer()
    streaming = worker(app, deliverer, settings=WorkerSettings(concurrency=8), clock=SystemClock())
    task = asyncio.create_task(streaming.run_forever(None, poll_seconds=0.02))
    for _ in range(200):
        if len(deliverer.arrived) == 3:
            break
        await asyncio.sleep(0.02)
    await streaming.shutdown(grace=1.0)
    await task
    assert deliverer.arrived == keys
