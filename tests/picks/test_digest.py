"""The weekly digest over several weeks with the injected clock: the mix, no repeats, feed
failures that never block the digest, idempotent re-runs, and votes shaping the next choice."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.clock import ManualClock
from bot.core import Learnbot
from bot.features import FEATURES
from storage.models import OutboxMessage
from storage.picks import FeedState, PickItem, PostedPick, UsefulVote
from tests.picks.feed_server import FeedServer, Route
from tests.support.conversation import ChatWorld

WEEK = timedelta(days=7)


async def posted(app: Learnbot, channel: str = "learning") -> list[tuple[str, str, str]]:
    """(week, kind, title) of every item posted to ``channel``, oldest first."""
    async with app.sessions() as session:
        rows = await session.execute(
            select(PostedPick.week, PickItem.kind, PickItem.title)
            .join(PickItem, PickItem.id == PostedPick.item_id)
            .where(PostedPick.channel_key == channel)
            .order_by(PostedPick.id)
        )
        return [tuple(row) for row in rows.all()]  # type: ignore[misc]


async def outbox(app: Learnbot, prefix: str) -> list[OutboxMessage]:
    async with app.sessions() as session:
        rows = await session.scalars(
            select(OutboxMessage).where(OutboxMessage.idempotency_key.startswith(prefix))
        )
        return list(rows.all())


async def test_digest_posts_the_mix_with_speaker_length_and_link(world: ChatWorld) -> None:
    summary = await world.run_job("weekly_picks", office="nairobi")
    assert "learning: 4 pick(s)" in summary
    await world.expect_post(
        "learning",
        "This week's picks",
        "How to make hard choices",
        "Ruth Chang",
        "TED Talks",
        "15 min",
        "https://www.ted.com/talks/ruth_chang_how_to_make_hard_choices",
        "The power of vulnerability",
        "How to be a better listener",
        "5 ways to make your meetings less painful",
        "Useful",
    )


async def test_no_repeats_across_weeks_until_the_feeds_run_dry(
    app: Learnbot, clock: ManualClock, feed_server: FeedServer
) -> None:
    weeks: list[list[tuple[str, str, str]]] = []
    for _ in range(4):
        before = len(await posted(app))
        await app.run_job("weekly_picks", {"channel": "learning"})
        weeks.append((await posted(app))[before:])
        clock.advance(WEEK)
    assert [len(w) for w in weeks] == [4, 4, 4, 0]
    titles = [title for week in weeks for _, _, title in week]
    assert len(titles) == len(set(titles)) == 12
    # newest first: week 1 has the two newest talks and articles
    assert [t for _, k, t in weeks[0] if k == "talk"] == [
        "How to make hard choices",
        "The power of vulnerability",
    ]
    assert {w for week in weeks for w, _, _ in week} == {"2026-W49", "2026-W50", "2026-W51"}
    # week 4 found nothing new, so nothing was queued for it
    assert len(await outbox(app, "picks:learning:")) == 3


async def test_the_mix_is_configurable(app: Learnbot, config_data: dict[str, Any]) -> None:
    from bot.config import parse_config

    config_data["picks"]["mix"] = {"article": 3, "talk": 1}
    app.config = parse_config(config_data)
    await app.run_job("weekly_picks", {})
    kinds = [kind for _, kind, _ in await posted(app)]
    assert kinds == ["article", "article", "article", "talk"]


async def test_running_twice_in_a_week_posts_once(app: Learnbot, clock: ManualClock) -> None:
    await app.run_job("weekly_picks", {"office": "nairobi"})
    clock.advance(timedelta(hours=3))
    summary = await app.run_job("weekly_picks", {"office": "nairobi"})
    assert "already posted for 2026-W49" in summary
    assert len(await posted(app)) == 4
    assert len(await outbox(app, "picks:learning:2026-W49")) == 1


async def test_a_failing_feed_is_skipped_and_reported_privately(
    world: ChatWorld, feed_server: FeedServer
) -> None:
    feed_server.routes["ted-ideas.rss"] = Route(body=b"", status=500)
    manager = world.person("manager@example.org")
    await manager.send("hello")
    await manager.expect_reply("what I can do")
    summary = await world.run_job("weekly_picks", channel="learning")
    assert "skipped feed(s): ted-ideas" in summary
    await world.expect_post("learning", "How to make hard choices", "The power of vulnerability")
    await manager.expect_reply("Picks feeds skipped", "TED Ideas", "HTTP 500")
    await manager.send("/learning feeds")
    await manager.expect_reply("TED Talks", "OK, last read 2026-12-01", "failed 1 time in a row")
    ana = world.person("ana@example.org")
    await ana.send("hello")
    await ana.expect_reply("what I can do")
    await ana.expect_nothing()


async def test_a_slow_feed_costs_only_its_timeout(
    app: Learnbot, feed_server: FeedServer, config_data: dict[str, Any]
) -> None:
    from bot.config import parse_config

    config_data["picks"]["fetch_timeout_seconds"] = 0.3
    app.config = parse_config(config_data)
    feed_server.routes["ted-talks.rss"].delay = 2.0
    started = time.perf_counter()
    summary = await app.run_job("weekly_picks", {})
    assert time.perf_counter() - started < 1.5  # the slow feed alone would take 2 s
    assert "skipped feed(s): ted-talks" in summary
    assert [kind for _, kind, _ in await posted(app)] == ["article", "article"]
    async with app.sessions() as session:
        state = await session.get_one(FeedState, "ted-talks")
        assert state.last_status == "failed"
        assert state.last_error == "no answer within 0.3 s"
    reports = await outbox(app, "picks-feeds-failed:")
    assert len(reports) == 2  # one DM to each office's learning manager
    assert all("no answer within 0.3 s" in report.payload["text"] for report in reports)


async def test_malformed_xml_is_skipped_with_the_reason(app: Learnbot, feed_server: FeedServer) -> None:
    feed_server.serve_fixture("ted-ideas.rss", "malformed.rss", content_type="text/html")
    summary = await app.run_job("weekly_picks", {})
    assert "skipped feed(s): ted-ideas" in summary
    async with app.sessions() as session:
        state = await session.get_one(FeedState, "ted-ideas")
        assert state.last_error is not None and "not a readable feed" in state.last_error
        assert state.consecutive_failures == 1


async def test_items_stay_candidates_when_a_feed_later_dies(
    app: Learnbot, clock: ManualClock, feed_server: FeedServer
) -> None:
    await app.run_job("refresh_feeds", {})
    feed_server.routes["ted-talks.rss"] = Route(body=b"", status=503)
    clock.advance(WEEK)
    await app.run_job("weekly_picks", {})
    assert len([k for _, k, _ in await posted(app) if k == "talk"]) == 2


async def test_conditional_get_keeps_stored_items_on_304(app: Learnbot, feed_server: FeedServer) -> None:
    first = await app.run_job("refresh_feeds", {})
    assert "12 new item(s)" in first
    second = await app.run_job("refresh_feeds", {})
    assert "0 new item(s)" in second
    talks, ideas = feed_server.hits("ted-talks.rss"), feed_server.hits("ted-ideas.rss")
    assert "if-none-match" not in talks[0]
    assert talks[1]["if-none-match"] == '"talks-v1"'
    assert ideas[1]["if-modified-since"] == "Mon, 30 Nov 2026 13:00:07 GMT"
    async with app.sessions() as session:
        assert (await session.get_one(FeedState, "ted-talks")).last_status == "not-modified"
        assert await session.scalar(select(func.count()).select_from(PickItem)) == 12


BLOG = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>Team blog</title>
<item><title>Our onboarding checklist</title><link>https://blog.example.org/onboarding</link>
<guid isPermaLink="false">blog-1</guid><pubDate>Thu, 12 Nov 2026 09:00:00 +0000</pubDate></item>
<item><title>What we learned from our first skillshare</title><link>https://blog.example.org/skillshare</link>
<guid isPermaLink="false">blog-2</guid><pubDate>Thu, 19 Nov 2026 09:00:00 +0000</pubDate></item>
</channel></rss>"""


async def test_an_unchanged_feed_without_validators_is_not_parsed_again(
    app: Learnbot, feed_server: FeedServer
) -> None:
    feed_server.routes["ted-talks.rss"].etag = None  # a host that ignores conditional GET
    await app.run_job("refresh_feeds", {})
    await app.run_job("refresh_feeds", {})
    assert "if-none-match" not in feed_server.hits("ted-talks.rss")[1]
    async with app.sessions() as session:
        state = await session.get_one(FeedState, "ted-talks")
        assert state.last_status == "not-modified"  # same bytes: same items, nothing parsed
        assert state.body_sha256 is not None


async def test_useful_votes_steer_the_next_week(
    app: Learnbot, clock: ManualClock, feed_server: FeedServer, config_data: dict[str, Any]
) -> None:
    """People found an earlier blog pick useful, so an older blog post now beats the freshest
    TED Ideas article (which would win on freshness alone)."""
    from bot.config import parse_config
    from bot.people import get_or_create_by_email

    feed_server.routes["blog.rss"] = Route(body=BLOG)
    config_data["feeds"].append(
        {"id": "blog", "name": "Team blog", "url": feed_server.url("blog.rss"), "kind": "article"}
    )
    config_data["picks"]["mix"] = {"article": 1}
    app.config = parse_config(config_data)
    await app.run_job("refresh_feeds", {})
    async with app.sessions() as session, session.begin():
        shown = await session.scalar(select(PickItem).where(PickItem.guid == "blog-1"))
        assert shown is not None
        session.add(
            PostedPick(channel_key="learning", item_id=shown.id, week="2026-W48", posted_at=clock.now())
        )
        for email in ("a@example.org", "b@example.org", "c@example.org", "d@example.org"):
            person = await get_or_create_by_email(session, app.config, email, clock.now())
            session.add(UsefulVote(item_id=shown.id, person_id=person.id, voted_at=clock.now()))
    await app.run_job("weekly_picks", {"channel": "learning"})
    assert (await posted(app))[-1][2] == "What we learned from our first skillshare"
    # the other channel had no votes: freshness wins there
    await app.run_job("weekly_picks", {"channel": "aprendizaje"})
    assert (await posted(app, "aprendizaje"))[-1][2].startswith("How to be a better listener")


async def test_the_same_link_from_two_feeds_is_not_repeated(
    app: Learnbot, clock: ManualClock, feed_server: FeedServer, config_data: dict[str, Any]
) -> None:
    from bot.config import parse_config

    feed_server.serve_fixture("mirror.rss", "ted-ideas.rss")
    config_data["feeds"].append(
        {"id": "mirror", "name": "Mirror", "url": feed_server.url("mirror.rss"), "kind": "article"}
    )
    config_data["picks"]["mix"] = {"article": 2}
    app.config = parse_config(config_data)
    for _ in range(3):
        await app.run_job("weekly_picks", {"channel": "learning"})
        clock.advance(WEEK)
    titles = [title for _, _, title in await posted(app)]
    assert len(titles) == 6 == len(set(titles))


async def test_a_channel_on_no_enabled_platform_keeps_its_candidates(
    app: Learnbot, config_data: dict[str, Any]
) -> None:
    """#aprendizaje exists only in Slack; a Teams-only deployment can't post there, so nothing is
    marked as shown and the items wait for a platform that can."""
    from bot.config import parse_config

    bogota = next(office for office in config_data["offices"] if office["id"] == "bogota")
    bogota["channels"] = [{"key": "aprendizaje", "name": "#aprendizaje", "slack": "C0APREN"}]
    config = parse_config(config_data)
    teams_only = Learnbot(config, app.sessions, clock=app.clock, platforms=("teams",), features=FEATURES)
    summary = await teams_only.run_job("weekly_picks", {})
    assert "learning: 4 pick(s)" in summary
    assert "aprendizaje: not planned" in summary
    assert await posted(app, "aprendizaje") == []


async def test_a_shared_link_to_a_talk_already_posted_is_not_repeated(
    app: Learnbot, clock: ManualClock
) -> None:
    """Someone shares the talk from last week's digest without TED's ``?rss=`` suffix: it is the
    same page, so it never comes back to the channel."""
    from storage.picks import SUGGESTION_SOURCE

    await app.run_job("weekly_picks", {"channel": "learning"})
    async with app.sessions() as session, session.begin():
        session.add(
            PickItem(
                source_key=SUGGESTION_SOURCE,
                guid="https://ted.com/talks/ruth_chang_how_to_make_hard_choices",
                url="https://ted.com/talks/ruth_chang_how_to_make_hard_choices",
                link_key="ted.com/talks/ruth_chang_how_to_make_hard_choices",
                title="How to make hard choices",
                kind="talk",
                source="ted.com",
                first_seen_at=clock.now(),
            )
        )
    clock.advance(WEEK)
    await app.run_job("weekly_picks", {"channel": "learning"})
    titles = [title for _, _, title in await posted(app)]
    assert titles.count("How to make hard choices") == 1
    assert len(titles) == 8


async def test_bad_schedule_args_name_the_problem(app: Learnbot) -> None:
    with pytest.raises(ValueError, match=r"no office 'lagos' in app\.yaml \(offices: nairobi, bogota\)"):
        await app.run_job("weekly_picks", {"office": "lagos"})
    with pytest.raises(ValueError, match="no channel 'random'"):
        await app.run_job("weekly_picks", {"channel": "random"})
    with pytest.raises(ValueError, match=r"unknown argument\(s\) chanel"):
        await app.run_job("weekly_picks", {"chanel": "learning"})
    assert await posted(app) == []
