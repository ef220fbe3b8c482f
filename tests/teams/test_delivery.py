"""Proactive messages through the outbox, stored references and the fake Bot Connector."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import ManualClock
from bot.config import AppConfig
from bot.messages import Message, Text, plain
from bot.outbox import ToChannel, ToPerson
from scheduler.delivery import Delivery, DeliveryWorker, WorkerSettings
from storage.models import ConversationRef, OutboxMessage, Person, PlatformAccount
from tests.teams.conftest import teams_app
from tests.teams.fake_connector import FakeConnector
from tests.teams.world import TeamsServer, TeamsWorld


async def plan_for(world: TeamsWorld, email: str, text: str, key: str) -> int:
    async with world.app.sessions() as session, session.begin():
        person_id = await session.scalar(select(Person.id).where(Person.email == email))
        assert person_id is not None
        await world.app.plan(session, destination=ToPerson(person_id), message=plain(text), key=key)
    return person_id


async def row(world: TeamsWorld, key: str) -> OutboxMessage:
    async with world.app.sessions() as session:
        found = await session.scalar(select(OutboxMessage).where(OutboxMessage.idempotency_key == key))
        assert found is not None
        return found


async def test_proactive_message_to_a_person(teams: TeamsWorld) -> None:
    ana = teams.person("ana@example.org")
    await ana.install()
    await plan_for(teams, "ana@example.org", "Your *ethics* course is due on Friday.", "nudge:1")
    assert await teams.deliver() == 1
    await ana.expect_reply("Your ethics course is due on Friday.")
    sent = await row(teams, "nudge:1")
    assert sent.status == "sent" and sent.platform_message_id
    last = teams.connector.in_conversation(ana.conversation_id)[-1]
    assert last["channelData"] == {"notification": {"alert": True}}
    assert last["from"]["id"] == "28:learnbot-app"


async def test_channel_post(teams: TeamsWorld) -> None:
    message = Message(text="This week's picks", blocks=[Text("This week's picks: three talks")])
    async with teams.app.sessions() as session, session.begin():
        await teams.app.plan(session, destination=ToChannel("learning"), message=message, key="picks:1")
    await teams.deliver()
    await teams.expect_post("learning", "three talks")
    assert teams.connector.in_conversation("19:learning@thread.tacv2")


async def test_a_person_who_never_opened_learnbot_is_reported_not_skipped(teams: TeamsWorld) -> None:
    now = teams.app.clock.now()
    async with teams.app.sessions() as session, session.begin():
        person = Person(email="dan@example.org", display_name="Dan", created_at=now, updated_at=now)
        session.add(person)
        await session.flush()
        session.add(
            PlatformAccount(
                person_id=person.id,
                platform="teams",
                workspace_id="t",
                external_id="dan-aad",
                created_at=now,
                last_seen_at=now,
            )
        )
    await plan_for(teams, "dan@example.org", "Hello Dan", "nudge:dan")
    await teams.deliver()
    waiting = await row(teams, "nudge:dan")
    assert waiting.status == "waiting"
    assert waiting.last_error == (
        "waiting: not reachable in Teams: Dan is in no team Learnbot is installed in, under this "
        "email or UPN (install the app in their team, or check the email)"
    )


async def test_a_channel_the_bot_was_never_added_to_is_reported(teams: TeamsWorld) -> None:
    async with teams.app.sessions() as session, session.begin():
        await session.execute(delete(ConversationRef).where(ConversationRef.owner_key == "learning"))
        await teams.app.plan(session, destination=ToChannel("learning"), message=plain("hi"), key="c:1")
    await teams.deliver()
    waiting = await row(teams, "c:1")
    assert waiting.status == "waiting"
    assert waiting.last_error and waiting.last_error.startswith(
        "waiting: not reachable in Teams: Learnbot has not been"
    )


async def test_throttled_sends_wait_for_retry_after_then_succeed(
    teams: TeamsWorld, clock: ManualClock
) -> None:
    ana = teams.person("ana@example.org")
    await ana.install()
    teams.connector.fail_next(429, retry_after=120)
    requests_before = teams.connector.requests
    await plan_for(teams, "ana@example.org", "Due soon", "nudge:429")
    await teams.deliver()
    assert teams.connector.requests == requests_before + 1  # botbuilder did not retry on its own
    waiting = await row(teams, "nudge:429")
    assert waiting.status == "pending"
    assert waiting.last_error == "throttled: Teams answered 429 for person " + waiting.destination_key
    assert waiting.next_attempt_at >= clock.now() + timedelta(seconds=120)
    paused = await teams.worker.limiter.paused_for(f"teams:conversation:person:{waiting.destination_key}")
    assert 100 < paused <= 120
    teams.worker.limiter = type(teams.worker.limiter)()  # as if the pause had elapsed
    clock.advance(timedelta(seconds=121))
    await teams.deliver()
    assert (await row(teams, "nudge:429")).status == "sent"
    await ana.expect_reply("Due soon")


@pytest.mark.parametrize("status", [412, 502, 503])
async def test_transient_errors_are_retried(teams: TeamsWorld, clock: ManualClock, status: int) -> None:
    ana = teams.person("ana@example.org")
    await ana.install()
    teams.connector.fail_next(status)
    await plan_for(teams, "ana@example.org", "Try again", f"nudge:{status}")
    await teams.deliver()
    pending = await row(teams, f"nudge:{status}")
    assert pending.status == "pending" and f"Teams answered {status}" in (pending.last_error or "")
    clock.advance(timedelta(minutes=5))
    await teams.deliver()
    assert (await row(teams, f"nudge:{status}")).status == "sent"


@pytest.mark.parametrize("status", [403, 404])
async def test_blocked_or_removed_is_recorded_as_unreachable(teams: TeamsWorld, status: int) -> None:
    ana = teams.person("ana@example.org")
    await ana.install()
    teams.connector.fail_next(status)
    await plan_for(teams, "ana@example.org", "Hello", f"nudge:{status}")
    await teams.deliver()
    failed = await row(teams, f"nudge:{status}")
    assert failed.status == "failed"
    assert failed.last_error and failed.last_error.startswith(f"unreachable in Teams (HTTP {status})")


async def test_after_a_restart_proactive_messages_still_arrive(
    config: AppConfig,
    sessions: async_sessionmaker[AsyncSession],
    clock: ManualClock,
    connector: FakeConnector,
    teams: TeamsWorld,
) -> None:
    ana = teams.person("ana@example.org")
    await ana.install()
    await teams.server.stop()
    # A new process (or another replica): new app, new adapter, same database, nothing in memory.
    server = TeamsServer(teams_app(config, sessions, clock))
    await server.start()
    try:
        await plan_for(teams, "ana@example.org", "After the restart", "nudge:restart")
        worker = DeliveryWorker(sessions, {"teams": server.teams.deliverer}, clock, WorkerSettings())
        assert await worker.drain() == 1
        await ana.expect_reply("After the restart")
    finally:
        await server.stop()


async def test_crash_between_send_and_commit_is_not_resent(teams: TeamsWorld, clock: ManualClock) -> None:
    ana = teams.person("ana@example.org")
    await ana.install()

    async def crash(delivery: object) -> None:
        raise RuntimeError("process killed")

    crashing = DeliveryWorker(
        teams.app.sessions, {"teams": teams.server.teams.deliverer}, clock, WorkerSettings(), after_send=crash
    )
    await plan_for(teams, "ana@example.org", "Only once", "nudge:crash")
    with pytest.raises(RuntimeError):
        await crashing.run_once()
    await ana.expect_reply("Only once")
    clock.advance(timedelta(minutes=5))  # the lease runs out; another worker takes over
    await teams.deliver()
    in_doubt = await row(teams, "nudge:crash")
    assert in_doubt.status == "unconfirmed" and "not resent" in (in_doubt.last_error or "")
    await ana.expect_nothing()


@pytest.mark.parametrize(
    ("key", "resent"), [("nudge:7:first", False), ("learning-day:1:cancelled:person:1", True)]
)
async def test_an_ambiguous_answer_follows_the_kinds_policy(
    teams: TeamsWorld, clock: ManualClock, key: str, resent: bool
) -> None:
    """Teams cannot be read back: after a 500 or a 504 (it may have delivered), a reminder is
    not resent (at most once) and a learning-day cancellation is (at least once)."""
    ana = teams.person("ana@example.org")
    await ana.install()
    teams.connector.fail_next(500)
    await plan_for(teams, "ana@example.org", "Maybe delivered", key)
    await teams.deliver()
    pending = await row(teams, key)
    assert pending.status == "pending" and (pending.last_error or "").startswith(
        "ambiguous: Teams answered 500"
    )
    clock.advance(timedelta(minutes=1))
    await teams.deliver()
    settled = await row(teams, key)
    if resent:
        assert settled.status == "sent"
        await ana.expect_reply("Maybe delivered")
    else:
        assert settled.status == "unconfirmed"
        await ana.expect_nothing()


async def test_limits_are_per_conversation_and_per_tenant(teams: TeamsWorld) -> None:
    ana = teams.person("ana@example.org")
    await ana.install()
    await plan_for(teams, "ana@example.org", "x", "nudge:limits")
    await teams.deliver()
    sent = await row(teams, "nudge:limits")
    delivery = Delivery(
        outbox_id=sent.id,
        key=sent.idempotency_key,
        platform="teams",
        destination_kind="person",
        destination_key=sent.destination_key,
        message=plain("x"),
        attempt=1,
    )
    limits = teams.server.teams.deliverer.limits(delivery)
    assert [(limit.count, limit.per) for limit in limits] == [(7, 1.0), (60, 30.0), (50, 1.0)]
    assert limits[2].bucket == "teams:tenant:tenant-0001"


async def test_a_short_retry_after_is_honoured_in_place(teams: TeamsWorld) -> None:
    ana = teams.person("ana@example.org")
    await ana.install()
    teams.connector.fail_next(429, retry_after=0.05)
    requests_before = teams.connector.requests
    await plan_for(teams, "ana@example.org", "Soon", "nudge:short-429")
    await teams.deliver()
    assert (await row(teams, "nudge:short-429")).status == "sent"
    assert teams.connector.requests == requests_before + 2
    await ana.expect_reply("Soon")
