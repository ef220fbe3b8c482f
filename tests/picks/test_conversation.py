"""Sharing a link, a learning manager deciding, and the "Useful" button, as people live them;
each scenario runs on every platform world (console now, the Slack and Teams fakes once merged)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.clock import ManualClock
from bot.config import parse_config
from bot.events import Actor, ButtonPressed, Conversation
from storage.picks import PickItem, Suggestion
from tests.picks.feed_server import FeedServer, Route
from tests.support.conversation import ChatWorld

SHARE = "/learning share {url} our team did this last quarter"


async def _suggestions(world: ChatWorld) -> list[Suggestion]:
    async with world.app.sessions() as session:
        return list((await session.scalars(select(Suggestion).order_by(Suggestion.id))).all())


async def test_share_reads_the_page_and_the_manager_approves(
    world: ChatWorld, feed_server: FeedServer
) -> None:
    manager = world.person("manager@example.org")
    await manager.send("hello")
    await manager.expect_reply("what I can do")
    ana = world.person("ana@example.org")
    await ana.send(SHARE.format(url=feed_server.url("blog/learning-habit")))
    await ana.expect_reply("Thanks", "The 20-minute habit that makes teams learn faster", "learning manager")
    await manager.expect_reply(
        "New suggestion for the weekly picks",
        "The 20-minute habit that makes teams learn faster",
        "Teams that spend twenty minutes a week",
        "our team did this last quarter",
    )
    await manager.press("Approve")
    await manager.expect_reply("Approved", "The 20-minute habit")
    await ana.send("/learning me")
    await ana.expect_reply("was approved for the weekly picks")
    await ana.expect_reply("Your profile", "Nairobi office")

    await world.run_job("weekly_picks", channel="learning")
    await world.expect_post(
        "learning",
        "The 20-minute habit that makes teams learn faster",
        "Example Learning Blog",
        "Suggested by",
        "our team did this last quarter",
    )
    [suggestion] = await _suggestions(world)
    assert suggestion.status == "approved"
    assert suggestion.image_url == feed_server.url("images/learning-habit.jpg")


async def test_suggestions_list_and_reject(world: ChatWorld, feed_server: FeedServer) -> None:
    manager = world.person("manager@example.org")
    await manager.send("hello")
    await manager.expect_reply("what I can do")
    ana = world.person("ana@example.org")
    await ana.send(SHARE.format(url=feed_server.url("blog/learning-habit")))
    await ana.expect_reply("Thanks")
    await manager.expect_reply("New suggestion for the weekly picks", "The 20-minute habit")
    await manager.send("/learning suggestions")
    await manager.expect_reply("Suggestions waiting (1)", "The 20-minute habit", "our team did this")
    await manager.press("Reject")
    await manager.expect_reply("Rejected")
    await manager.send("/learning suggestions")
    await manager.expect_reply("No suggestions are waiting")
    await ana.send("/learning me")
    await ana.expect_reply("won't be in the weekly picks this time")
    await ana.expect_reply("Your profile", "Nairobi office")
    assert [s.status for s in await _suggestions(world)] == ["rejected"]


async def test_only_managers_review_suggestions(world: ChatWorld) -> None:
    ana = world.person("ana@example.org")
    await ana.send("/learning suggestions")
    await ana.expect_reply("only a learning manager")


async def test_share_refuses_what_is_not_a_web_page(world: ChatWorld, feed_server: FeedServer) -> None:
    ana = world.person("ana@example.org")
    await ana.send("/learning share")
    await ana.expect_reply("/learning share https://")
    await ana.send("/learning share javascript:alert(1) nice")
    await ana.expect_reply("only share web links", "http://")
    await ana.send("/learning share ftp://files.example.org/talk.mp4")
    await ana.expect_reply("only share web links")
    feed_server.routes["gone"] = Route(body=b"", status=404)
    await ana.send(f"/learning share {feed_server.url('gone')}")
    await ana.expect_reply("couldn't open that page", "HTTP 404")
    await ana.send("/learning share http://127.0.0.1:9/nothing-listens-here")
    await ana.expect_reply("couldn't reach that page")
    assert await _suggestions(world) == []


async def test_sharing_twice_is_recognised(world: ChatWorld, feed_server: FeedServer) -> None:
    manager = world.person("manager@example.org")
    await manager.send("hello")
    await manager.expect_reply("what I can do")
    ana = world.person("ana@example.org")
    bo = world.person("bo@example.org")
    url = feed_server.url("blog/learning-habit")
    await ana.send(f"/learning share {url}")
    await ana.expect_reply("Thanks")
    await manager.expect_reply("New suggestion for the weekly picks", "The 20-minute habit")
    await bo.send(f"/learning share <{url}|{url}> great read")
    await bo.expect_reply("already shared", "waiting for the learning manager")
    assert len(await _suggestions(world)) == 1


async def test_auto_approve_puts_shares_straight_into_the_picks(
    world: ChatWorld, feed_server: FeedServer, config_data: dict[str, Any]
) -> None:
    config_data["picks"]["auto_approve_suggestions"] = True
    world.app.config = parse_config(config_data)
    ana = world.person("ana@example.org")
    await ana.send(SHARE.format(url=feed_server.url("blog/learning-habit")))
    await ana.expect_reply("will be in an upcoming weekly picks")
    await world.run_job("weekly_picks", channel="learning")
    await world.expect_post("learning", "The 20-minute habit")


async def test_page_text_cannot_ping_the_channel(world: ChatWorld, feed_server: FeedServer) -> None:
    page = (
        b"<html><head><meta property='og:title' content='&lt;!channel&gt; read this @everyone'>"
        b"<meta property='og:description' content='Hey @here, &lt;!here&gt; look'></head></html>"
    )
    feed_server.routes["loud"] = Route(body=page, content_type="text/html")
    manager = world.person("manager@example.org")
    await manager.send(f"/learning share {feed_server.url('loud')} @channel must read")
    await manager.expect_reply("upcoming weekly picks")
    [suggestion] = await _suggestions(world)
    for text in (suggestion.title, suggestion.description, suggestion.why):
        assert "<!" not in text
        for mention in ("@channel", "@everyone", "@here"):
            assert mention not in text


async def _press_useful(world: ChatWorld, email: str, item_id: int) -> str:
    """The world scripts can press buttons shown to a person, not buttons on a channel post, so
    this sends the press the adapters produce for the digest's "Useful" button."""
    event = ButtonPressed(
        actor=Actor(platform="console", user_id=email, email=email, display_name=email.split("@")[0]),
        conversation=Conversation(id="channel:learning", is_direct=False),
        action_id="picks.useful",
        value=str(item_id),
    )
    [reply] = await world.app.handle(event)
    return reply.text


async def test_useful_counts_one_vote_per_person(world: ChatWorld, clock: ManualClock) -> None:
    await world.run_job("weekly_picks", channel="learning")
    await world.expect_post("learning", "Useful")
    async with world.app.sessions() as session:
        item_id = await session.scalar(
            select(PickItem.id).where(PickItem.title == "How to make hard choices")
        )
    assert item_id is not None
    assert "You're the first" in await _press_useful(world, "ana@example.org", item_id)
    assert "already marked" in await _press_useful(world, "ana@example.org", item_id)
    assert "2 people found it useful" in await _press_useful(world, "bo@example.org", item_id)
    assert "no longer available" in await _press_useful(world, "bo@example.org", 99999)


async def test_a_slow_or_huge_link_is_refused_kindly(
    world: ChatWorld, feed_server: FeedServer, config_data: dict[str, Any]
) -> None:
    config_data["picks"]["page_timeout_seconds"] = 0.2
    world.app.config = parse_config(config_data)
    feed_server.routes["slow"] = Route(body=b"<title>late</title>", content_type="text/html", delay=0.6)
    ana = world.person("ana@example.org")
    await ana.send(f"/learning share {feed_server.url('slow')}")
    await ana.expect_reply("took longer than 0.2 s")
    await ana.send("/learning share https://example.org/" + "a" * 2100)
    await ana.expect_reply("please share a shorter one")
    assert await _suggestions(world) == []
