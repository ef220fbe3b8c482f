"""Interactive Slack replies share the outbox's pacing and are sent again after a 429's
Retry-After instead of being dropped; each request goes through the inbox, once."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator
from urllib.parse import urlencode

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import ManualClock
from bot.config import AppConfig, SlackPolicy
from bot.features import basics
from storage.models import InboxItem, InboxStatus
from tests.slack import demo
from tests.slack.blockkit import check_calls
from tests.slack.fake import TEAM
from tests.slack.world import SlackWorld, slack_world


@pytest.fixture
async def slack(
    config: AppConfig, sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> AsyncIterator[SlackWorld]:
    async with slack_world(config, sessions, clock, features=[basics, demo]) as world:
        yield world
        check_calls(world.fake.calls)


async def _inbox(sessions: async_sessionmaker[AsyncSession]) -> list[InboxItem]:
    async with sessions() as session:
        return list(await session.scalars(select(InboxItem).order_by(InboxItem.id)))


async def test_a_burst_of_dms_gets_every_reply_in_order_through_429s(
    slack: SlackWorld, sessions: async_sessionmaker[AsyncSession]
) -> None:
    ana = slack.person("ana@example.org")
    await slack.link()
    # Slack's own limit, stricter than ours here: one post a second, then 429 + Retry-After.
    slack.fake.limit("chat.postMessage", 1, 1.0, retry_after=1)
    for word in ("one", "two", "three"):
        assert await slack.direct_message_nowait(ana, f"learning demo {word}") == 200
        await asyncio.sleep(0.2)
    await slack.settle()
    posted = [call.args["text"] for call in slack.fake.called("chat.postMessage")]
    assert len(posted) == 3, posted
    typed = [
        next(block["text"]["text"] for block in call.args["blocks"] if block["type"] == "section")
        for call in slack.fake.called("chat.postMessage")
    ]
    assert [t.rsplit(": ", 1)[-1] for t in typed] == ["one", "two", "three"]
    assert slack.fake.rejected >= 1, "the fake should have answered some replies with 429"
    accepted = slack.fake.accepted_at("chat.postMessage")
    assert all(b - a >= 0.9 for a, b in itertools.pairwise(accepted)), accepted
    rows = await _inbox(sessions)
    assert [row.status for row in rows] == [InboxStatus.DONE] * 3
    assert [row.replies_sent for row in rows] == [1, 1, 1]


async def test_a_response_url_reply_refused_with_429_is_sent_after_retry_after(slack: SlackWorld) -> None:
    ana = slack.person("ana@example.org")
    slack.fake.fail("response_url", "ratelimited", times=2)
    response_url, trigger = slack._handles(ana)
    form = {
        "team_id": TEAM,
        "channel_id": "C0LEARN",
        "channel_name": "learning",
        "user_id": ana.user_id,
        "command": "/learning",
        "text": "me",
        "response_url": response_url,
        "trigger_id": trigger,
    }
    start = time.monotonic()
    assert await slack.post(urlencode(form), "application/x-www-form-urlencoded") == 200
    assert time.monotonic() - start >= 1.9, "each 429 asked for 1 s"
    [answer] = slack.fake.called("response_url")
    assert answer.args["response_type"] == "ephemeral"
    await ana.expect_reply("Your profile")


async def test_replies_to_two_people_share_the_workspace_cap(
    config: AppConfig, sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    """The replies to two people share the workspace's pacing: after the first post is refused
    with a 429 (Retry-After: 1), the refused reply is posted again only after the pause, and both
    are posted (the shared limiter counts sliding windows, so the other may go before the 429
    is known, within 60 a minute)."""
    policy = SlackPolicy(per_channel_per_second=1000, workspace_per_minute=60)
    async with slack_world(config, sessions, clock, policy=policy, features=[basics, demo]) as slack:
        ana, ben = slack.person("ana@example.org"), slack.person("ben@example.org")
        await slack.link()
        slack.fake.fail("chat.postMessage", "ratelimited")
        started = time.monotonic()
        await slack.direct_message_nowait(ana, "learning demo a")
        await slack.direct_message_nowait(ben, "learning demo b")
        await slack.settle()
        accepted = slack.fake.accepted_at("chat.postMessage")
        assert len(accepted) == 2
        assert max(accepted) - started >= 0.95, (started, accepted)  # the refused one waited
