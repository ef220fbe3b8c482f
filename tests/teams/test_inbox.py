"""Teams activities go through the inbox; turn replies share the outbox's pacing and are sent
again after a 429's Retry-After; a reply that still fails waits in the outbox for it."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

from botbuilder.schema import Activity
from sqlalchemy import select

from adapters.teams.inbox import order_key
from bot.clock import ManualClock
from scheduler.inbox import LEASE, Inbox
from storage.models import InboxItem, InboxStatus, OutboxMessage
from tests.teams.conftest import teams_app
from tests.teams.fake_connector import FakeConnector
from tests.teams.world import TeamsServer, TeamsWorld


def _texts(connector: FakeConnector, conversation: str) -> list[str]:
    return [str(a.get("text") or a.get("summary") or "") for a in connector.in_conversation(conversation)]


async def test_a_burst_of_messages_gets_every_reply_in_order_through_429s(teams: TeamsWorld) -> None:
    ana = teams.person("ana@example.org")
    await ana.install()
    teams.connector.fail_next(429, times=2, retry_after=0.5)
    before = len(teams.connector.in_conversation(ana.conversation_id))

    async def say(word: str, delay: float) -> None:
        await asyncio.sleep(delay)
        await teams.post(ana.activity("message", text=f"demo card {word}"))

    start = time.monotonic()
    await asyncio.gather(*(say(word, 0.2 * n) for n, word in enumerate(("one", "two", "three"))))
    await teams.server.teams.inbox.idle()
    replies = teams.connector.in_conversation(ana.conversation_id)[before:]
    said = [str(r["attachments"][0]["content"]["body"][1]["text"]) for r in replies]
    assert said == ["You said: one", "You said: two", "You said: three"]
    assert time.monotonic() - start >= 1.0, "two 429s asked for 0.5 s each"
    assert teams.connector.requests - len(teams.connector.activities) >= 2
    async with teams.app.sessions() as session:
        rows = list(await session.scalars(select(InboxItem).where(InboxItem.kind == "message")))
    assert {row.status for row in rows} == {InboxStatus.DONE}


async def test_a_reply_refused_for_longer_goes_to_the_outbox_not_before_retry_after(
    teams: TeamsWorld, clock: ManualClock
) -> None:
    ana = teams.person("ana@example.org")
    await ana.install()
    teams.connector.fail_next(429, retry_after=120)
    await teams.post(ana.activity("message", text="learning me"))
    async with teams.app.sessions() as session:
        [row] = list(
            await session.scalars(
                select(OutboxMessage).where(OutboxMessage.idempotency_key.startswith("teams-reply:"))
            )
        )
    assert row.next_attempt_at >= clock.now() + timedelta(seconds=119)
    assert await teams.worker.drain() == 0, "not before its Retry-After"
    clock.advance(timedelta(seconds=121))
    assert await teams.worker.drain() == 1
    await ana.expect_reply("Your profile")


async def test_an_activity_caught_by_a_crash_is_answered_by_another_process(
    teams: TeamsWorld, clock: ManualClock
) -> None:
    ana = teams.person("ana@example.org")
    await ana.install()
    activity = ana.activity("message", text="learning me")
    # The first process wrote it and took it, then died before answering Teams.
    dead = Inbox(teams.app.sessions, clock, name="dead")
    parsed = Activity().deserialize(activity)
    assert await dead.put(
        "teams", "message", activity["id"], order_key(parsed), {"activity": parsed.serialize()}
    )
    assert await dead.claim(["teams"], 1)
    clock.advance(LEASE + timedelta(seconds=1))
    other = TeamsServer(teams_app(teams.app.config, teams.app.sessions, clock))
    await other.start()
    try:
        await other.teams.inbox.idle()  # a proactive turn from the stored activity
    finally:
        await other.stop()
    await teams.post(activity)  # Teams redelivers it: not a second row, not a second answer
    replies = [
        r
        for r in teams.connector.in_conversation(ana.conversation_id)
        if r.get("replyToId") == activity["id"]
    ]
    assert len(replies) == 1
    assert "Your profile" in str(replies[0])
    async with teams.app.sessions() as session:
        rows = list(await session.scalars(select(InboxItem).where(InboxItem.dedup_key == activity["id"])))
    assert [(row.status, row.replies_sent) for row in rows] == [(InboxStatus.DONE, 1)]
