"""The Slack deliverer under the real outbox worker: DMs, channel posts, 429s, permanent
errors, and exactly-once after a crash (message metadata + conversations.history)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import ManualClock
from bot.messages import Header, Message, Text, plain
from bot.outbox import ToChannel, ToPerson
from bot.people import get_or_create_by_email
from scheduler.delivery import Delivery, DeliveryWorker, RetryLater, WorkerSettings
from storage.models import OutboxMessage, Person
from tests.slack.world import SlackDriver, SlackWorld


async def _person_id(sessions: async_sessionmaker[AsyncSession], email: str) -> int:
    async with sessions() as session:
        person = await session.scalar(select(Person).where(Person.email == email))
        assert person is not None
        return person.id


async def _plan(slack: SlackWorld, destination: ToPerson | ToChannel, message: Message, key: str) -> None:
    async with slack.app.sessions() as session, session.begin():
        await slack.app.plan(session, destination=destination, message=message, key=key)


async def _row(sessions: async_sessionmaker[AsyncSession], key: str) -> OutboxMessage:
    async with sessions() as session:
        row = await session.scalar(select(OutboxMessage).where(OutboxMessage.idempotency_key == key))
        assert row is not None
        return row


async def _met(slack: SlackWorld, email: str) -> tuple[SlackDriver, int]:
    """A person who has talked to the bot once (so they are linked to Slack)."""
    driver = slack.person(email)
    await driver.send("hello")
    await driver.expect_reply("How can I help")
    return driver, await _person_id(slack.app.sessions, email)


async def test_dm_carries_metadata_and_reuses_the_dm_channel(slack: SlackWorld) -> None:
    ana, person_id = await _met(slack, "ana@example.org")
    await _plan(slack, ToPerson(person_id), plain("Your ethics course is due on Friday"), "nudge:1")
    await _plan(slack, ToPerson(person_id), plain("Learning day next week"), "day:1")
    assert await slack.deliver() == 2
    # two rows in one batch are sent concurrently, so either may arrive first
    shown = "\n".join(ana.outputs)
    assert "ethics course is due" in shown and "Learning day next week" in shown
    posts = slack.fake.called("chat.postMessage")[-2:]
    assert {p.args["metadata"]["event_payload"]["key"] for p in posts} == {"nudge:1", "day:1"}
    assert all(p.args["metadata"]["event_type"] == "learnbot_outbox" for p in posts)
    assert slack.fake.called("conversations.open") == []  # known from the DM ana sent
    row = await _row(slack.app.sessions, "nudge:1")
    assert row.status == "sent" and row.platform_message_id and row.platform_message_id.startswith("D")


async def test_channel_post_goes_to_the_configured_channel(slack: SlackWorld) -> None:
    message = Message(text="This week's picks", blocks=[Header("This week's picks"), Text("A talk & a read")])
    await _plan(slack, ToChannel("learning"), message, "picks:49")
    await slack.deliver()
    await slack.expect_post("learning", "This week's picks", "A talk & a read")
    assert slack.fake.called("chat.postMessage")[0].args["channel"] == "C0LEARN"


async def test_a_person_not_yet_linked_is_found_by_email(slack: SlackWorld) -> None:
    bo = slack.person("bo@example.org")
    async with slack.app.sessions() as session, session.begin():
        person = await get_or_create_by_email(
            session, slack.app.config, "bo@example.org", slack.app.clock.now()
        )
    delivery = Delivery(
        outbox_id=1,
        key="k",
        platform="slack",
        destination_kind="person",
        destination_key=str(person.id),
        message=plain("Hello Bo"),
        attempt=1,
        person_email="bo@example.org",
    )
    assert await slack.parts.deliverer.send(delivery)
    slack._route()
    await bo.expect_reply("Hello Bo")
    assert [c.method for c in slack.fake.calls] == [
        "users.lookupByEmail",
        "conversations.open",
        "chat.postMessage",
    ]


async def test_rate_limited_post_waits_for_retry_after(slack: SlackWorld, clock: ManualClock) -> None:
    ana, person_id = await _met(slack, "ana@example.org")
    slack.fake.fail("chat.postMessage", "ratelimited")
    await _plan(slack, ToPerson(person_id), plain("Nudge"), "nudge:429")
    await slack.deliver()
    row = await _row(slack.app.sessions, "nudge:429")
    assert row.status == "pending" and "rate limit" in (row.last_error or "")
    assert row.next_attempt_at >= clock.now() + timedelta(seconds=1)
    await ana.expect_nothing()
    clock.advance(timedelta(minutes=5))
    await slack.deliver()
    await ana.expect_reply("Nudge")
    assert (await _row(slack.app.sessions, "nudge:429")).status == "sent"


async def test_the_deliverer_reports_retry_after_and_bucket(slack: SlackWorld) -> None:
    slack.fake.limit("chat.postMessage", 0, 60, retry_after=7)
    delivery = Delivery(
        outbox_id=1,
        key="k",
        platform="slack",
        destination_kind="channel",
        destination_key="learning",
        message=plain("x"),
        attempt=1,
    )
    with pytest.raises(RetryLater) as caught:
        await slack.parts.deliverer.send(delivery)
    assert caught.value.retry_after == 7 and caught.value.bucket == "slack:workspace"


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        ("not_in_channel", "invite it with /invite"),
        ("channel_not_found", "check channels[].slack"),
        ("is_archived", "archived"),
        ("invalid_auth", "SLACK_BOT_TOKEN"),
        ("something_new", "Slack refused the message"),
    ],
)
async def test_permanent_channel_errors_are_recorded_not_retried(
    slack: SlackWorld, error: str, reason: str
) -> None:
    slack.fake.fail("chat.postMessage", error)
    await _plan(slack, ToChannel("learning"), plain("Picks"), "picks:err")
    await slack.deliver()
    row = await _row(slack.app.sessions, "picks:err")
    assert row.status == "failed" and row.attempts == 1
    assert reason in (row.last_error or "") and error in (row.last_error or "")


async def test_deactivated_person_is_a_clear_failure(slack: SlackWorld) -> None:
    ana, person_id = await _met(slack, "ana@example.org")
    slack.fake.users[ana.user_id].deleted = True
    await _plan(slack, ToPerson(person_id), plain("Nudge"), "nudge:gone")
    await slack.deliver()
    row = await _row(slack.app.sessions, "nudge:gone")
    assert row.status == "failed" and "deactivated" in (row.last_error or "")


class Crash(Exception):
    pass


async def _crash_after_send(delivery: Delivery) -> None:
    raise Crash("the process died between the send and the commit")


@pytest.mark.parametrize("arrived", [True, False])
async def test_exactly_once_after_a_crash(slack: SlackWorld, clock: ManualClock, arrived: bool) -> None:
    ana, person_id = await _met(slack, "ana@example.org")
    await _plan(slack, ToPerson(person_id), plain("Your security course is overdue"), "nudge:crash")
    if arrived:
        crashing = DeliveryWorker(
            slack.app.sessions,
            {"slack": slack.parts.deliverer},
            clock,
            WorkerSettings(),
            after_send=_crash_after_send,
        )
        with pytest.raises(Crash):
            await crashing.run_once()
    else:
        # the crash came after the claim but before the post reached Slack
        async with slack.app.sessions() as session, session.begin():
            row = await session.scalar(
                select(OutboxMessage).where(OutboxMessage.idempotency_key == "nudge:crash")
            )
            assert row is not None
            row.status, row.attempts, row.in_doubt_since = "sending", 1, clock.now()
            row.lease_until = clock.now() + timedelta(seconds=60)
    assert (await _row(slack.app.sessions, "nudge:crash")).status == "sending"
    clock.advance(timedelta(minutes=2))  # the lease runs out; another worker reclaims
    await slack.deliver()
    assert (await _row(slack.app.sessions, "nudge:crash")).status == "sent"
    assert slack.fake.called("conversations.history"), "the platform was asked before any resend"
    keys = [
        c.args["metadata"]["event_payload"]["key"]
        for c in slack.fake.called("chat.postMessage")
        if c.args.get("metadata")
    ]
    assert keys == ["nudge:crash"]
    await ana.expect_reply("security course is overdue")
    await ana.expect_nothing()


ICS = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nSUMMARY:Learning day\r\n"
    "END:VEVENT\r\nEND:VCALENDAR\r\n"
)


async def test_attachments_follow_the_message_as_files(slack: SlackWorld) -> None:
    ana, person_id = await _met(slack, "ana@example.org")
    message = Message(
        text="Learning day on Thursday",
        blocks=[Text("Learning day on Thursday")],
        attachments={"learning-day.ics": ICS},
    )
    await _plan(slack, ToPerson(person_id), message, "day:ics")
    await slack.deliver()
    await ana.expect_reply("Learning day on Thursday", "[attachment: learning-day.ics]")
    assert list(slack.fake.uploads.values()) == [ICS]
    assert slack.fake.called("files.completeUploadExternal")[0].args["channel_id"] == ana.dm_channel


async def test_a_failed_attachment_never_resends_the_message(slack: SlackWorld) -> None:
    ana, person_id = await _met(slack, "ana@example.org")
    slack.fake.fail("files.getUploadURLExternal", "internal_error")
    message = Message(text="Learning day", attachments={"day.ics": ICS})
    await _plan(slack, ToPerson(person_id), message, "day:ics-fail")
    await slack.deliver()
    assert (await _row(slack.app.sessions, "day:ics-fail")).status == "sent"
    await ana.expect_reply("Learning day")
    await ana.expect_nothing()
