"""Inbound Slack traffic through the real route: signed HTTP -> Bolt -> neutral events -> core
-> replies through the real slack_sdk client to the fake Slack."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import ManualClock
from bot.config import AppConfig
from bot.features import basics
from storage.models import ConversationRef, Person, PlatformAccount, SeenEvent
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
        # every block the bot sent in a test is valid Block Kit
        check_calls(world.fake.calls)


async def _count(sessions: async_sessionmaker[AsyncSession], model: type) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_bad_or_stale_signature_is_refused_and_touches_nothing(
    slack: SlackWorld, sessions: async_sessionmaker[AsyncSession]
) -> None:
    ana = slack.person("ana@example.org")
    body = slack.event_body(
        {
            "type": "message",
            "channel_type": "im",
            "channel": ana.dm_channel,
            "user": ana.user_id,
            "text": "hi",
        }
    )
    assert await slack.post(body, "application/json", signed_with="not-the-secret") == 401
    stale = int(time.time()) - 6 * 60
    assert await slack.post(body, "application/json", timestamp=stale) == 401
    assert slack.fake.calls == []
    assert await _count(sessions, SeenEvent) == 0
    assert await _count(sessions, Person) == 0
    await ana.expect_nothing()


async def test_url_verification_is_answered(slack: SlackWorld) -> None:
    body = json.dumps({"type": "url_verification", "challenge": "abc123", "token": "legacy"})
    assert await slack.post(body, "application/json") == 200


async def test_retried_event_is_handled_once(slack: SlackWorld) -> None:
    ana = slack.person("ana@example.org")
    event = {
        "type": "message",
        "channel_type": "im",
        "channel": ana.dm_channel,
        "user": ana.user_id,
        "text": "help",
        "ts": "1.1",
    }
    body = slack.event_body(event, event_id="Ev0RETRY")
    assert await slack.post(body, "application/json") == 200
    retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    assert await slack.post(body, "application/json", retry) == 200
    assert await slack.post(body, "application/json", {**retry, "X-Slack-Retry-Num": "2"}) == 200
    assert len(slack.fake.called("chat.postMessage")) == 1
    await ana.expect_reply("Here's what I can do")
    await ana.expect_nothing()


async def test_ack_is_fast_while_slow_work_continues(slack: SlackWorld) -> None:
    ana = slack.person("ana@example.org")
    slack.fake.delays["users.info"] = 1.5  # a slow Slack on the work after the ack
    start = time.perf_counter()
    response_url, trigger = slack._handles(ana)
    form = {
        "team_id": TEAM,
        "channel_id": ana.dm_channel,
        "channel_name": "directmessage",
        "user_id": ana.user_id,
        "command": "/learning",
        "text": "help",
        "response_url": response_url,
        "trigger_id": trigger,
    }
    status = await slack.post(urlencode(form), "application/x-www-form-urlencoded", settle=False)
    acked = time.perf_counter() - start
    assert status == 200
    assert acked < 1.0, f"ack took {acked:.2f}s"
    assert not slack.fake.called("chat.postMessage"), "the reply must come after the ack"
    await slack.settle()
    await ana.expect_reply("Here's what I can do", "/learning me")


async def test_slash_command_in_dm_replies_in_the_dm_and_links_the_person(
    slack: SlackWorld, sessions: async_sessionmaker[AsyncSession]
) -> None:
    ana = slack.person("ana@example.org", name="Ana Wanjiru", timezone="Africa/Nairobi")
    await ana.send("/learning me")
    await ana.expect_reply("Your profile", "Ana Wanjiru", "ana@example.org", "Africa/Nairobi")
    await ana.send("/learning help")
    await ana.expect_reply("/learning me")
    assert len(slack.fake.called("users.info")) == 1, "the profile is cached in the database"
    assert len(slack.fake.called("conversations.open")) == 1, "the DM channel is cached"
    async with sessions() as session:
        account = await session.scalar(select(PlatformAccount))
        assert account is not None
        assert (account.platform, account.workspace_id, account.external_id) == ("slack", TEAM, ana.user_id)
        person = await session.get_one(Person, account.person_id)
        assert (person.email, person.timezone) == ("ana@example.org", "Africa/Nairobi")
        assert await session.scalar(select(func.count()).select_from(ConversationRef)) == 1


async def test_command_in_a_channel_answers_privately(slack: SlackWorld) -> None:
    ana = slack.person("ana@example.org")
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
    assert await slack.post(urlencode(form), "application/x-www-form-urlencoded") == 200
    [answer] = slack.fake.called("response_url")
    assert answer.args["response_type"] == "ephemeral"
    assert not slack.fake.called("chat.postMessage"), "nothing is posted in the channel"
    await ana.expect_reply("Your profile")


async def test_dm_text_and_mention(slack: SlackWorld) -> None:
    ana = slack.person("ana@example.org")
    await ana.send("hello")
    await ana.expect_reply("How can I help")
    ts = f"{time.time():.6f}"
    mention = {
        "type": "app_mention",
        "user": ana.user_id,
        "channel": "C0LEARN",
        "text": "<@U0BOT> help",
        "ts": ts,
        "event_ts": ts,
    }
    await slack.post(slack.event_body(mention), "application/json")
    ephemeral = slack.fake.called("chat.postEphemeral")
    assert len(ephemeral) == 1 and ephemeral[0].args["user"] == ana.user_id
    await ana.expect_reply("Here's what I can do")


async def test_user_text_comes_back_escaped(slack: SlackWorld) -> None:
    ana = slack.person("ana@example.org")
    await ana.send("/learning demo <!channel> & <https://evil.example|bank>")
    reply = await ana.expect_reply("You typed: <!channel> & <https://evil.example|bank>")
    assert reply
    posted = slack.fake.called("chat.postMessage")[-1].args
    section = posted["blocks"][0]["text"]["text"]
    assert (
        "<!channel>" not in section and "&lt;!channel&gt; &amp; &lt;https://evil.example|bank&gt;" in section
    )


async def test_buttons_and_a_form(slack: SlackWorld) -> None:
    ana = slack.person("ana@example.org")
    await ana.send("/learning demo")
    await ana.expect_reply("Pick one", "[Yes please]", "[No thanks]")
    await ana.press("No thanks")
    await ana.expect_reply("You picked no")
    await ana.press("Use a form")
    opened = slack.fake.called("views.open")
    assert len(opened) == 1 and opened[0].args["view"]["type"] == "modal"
    await ana.expect_reply("What would you like to teach?")
    await ana.submit_form(skill="Excel & pivot <tables>", level="expert")
    await ana.expect_reply("Saved your offer: Excel & pivot <tables> (expert)")


async def test_url_buttons_do_nothing_when_clicked(slack: SlackWorld) -> None:
    ana = slack.person("ana@example.org")
    await ana.send("/learning demo")
    await ana.expect_reply("Pick one")
    await ana.press("Read the docs")
    await ana.expect_nothing()


async def test_app_home_is_published(slack: SlackWorld) -> None:
    ana = slack.person("ana@example.org", name="Ana")
    home = await ana.open_home()
    assert home["type"] == "home"
    await ana.expect_reply("Hi Ana", "learning at a glance")


async def test_new_member_gets_a_private_welcome(slack: SlackWorld) -> None:
    user = slack.fake.add_user("bo@example.org", "Bo")
    slack.by_user[user.id] = slack.people["bo@example.org"] = driver = type(slack.person("x@example.org"))(
        slack, "bo@example.org", user.id
    )
    event = {"type": "team_join", "user": user.as_slack(), "event_ts": "1.2"}
    await slack.post(slack.event_body(event), "application/json")
    await driver.expect_reply("Welcome, Bo!")
    joined = {"type": "member_joined_channel", "user": user.id, "channel": "C0LEARN", "team": TEAM}
    await slack.post(slack.event_body(joined), "application/json")
    await driver.expect_nothing()  # welcomed once, whatever the route


async def test_failing_work_after_the_ack_is_logged_not_lost_silently(
    slack: SlackWorld, caplog: pytest.LogCaptureFixture
) -> None:
    ana = slack.person("ana@example.org")
    slack.fake.fail("chat.postMessage", "channel_not_found")
    await ana.send("hello")
    assert "handling a Slack direct message failed" in caplog.text


async def test_a_dm_that_cannot_be_opened_still_gets_a_private_answer(slack: SlackWorld) -> None:
    ana = slack.person("ana@example.org")
    slack.fake.fail("conversations.open", "missing_scope")
    await ana.send("/learning help")
    assert slack.fake.called("response_url")
    await ana.expect_reply("Here's what I can do")
