"""Requests meet offers privately: the requester sees matching offers, the offerer hears about
the request, and an offer made later is introduced to open requests (once)."""

from __future__ import annotations

from sqlalchemy import func, select

from storage.models import OutboxMessage
from storage.skillshare import SkillMatch
from tests.skillshare.helpers import make_offer
from tests.support.conversation import ChatWorld


async def test_request_shows_matching_offers_and_tells_the_offerer(world: ChatWorld) -> None:
    ana = world.person("ana@example.org")
    bob = world.person("bob@example.org")
    await make_offer(ana, "Excel pivot tables", format="workshop")
    await make_offer(ana, "Knitting", format="workshop")
    await bob.send("/skillshare request excel")
    await bob.expect_reply("excel", "Excel pivot tables", "ana@example.org")
    await ana.expect_reply("would like to learn", "excel", "bob@example.org", "Excel pivot tables")
    # Asking again is recognised and nobody is told twice.
    await bob.send("/skillshare request EXCEL")
    await bob.expect_reply("already asked")
    await world.deliver()
    await ana.expect_nothing()


async def test_later_offer_is_matched_to_open_requests(world: ChatWorld) -> None:
    bob = world.person("bob@example.org")
    carol = world.person("carol@example.org")
    ana = world.person("ana@example.org")
    await bob.send("/skillshare request Programación en Python")
    await bob.expect_reply("Nobody offers it yet", "tell you privately")
    await carol.send("/skillshare request project management")
    await carol.expect_reply("Nobody offers it yet")
    await make_offer(ana, "Python programming", "From zero to scripts", format="workshop")
    await ana.expect_reply("bob@example.org", "would like to learn", "Programación en Python")
    await bob.expect_reply("Good news", "ana@example.org", "Python programming")
    await carol.expect_nothing()
    # Editing the offer does not introduce the same people again.
    await ana.send("/skillshare edit")
    await ana.expect_reply("What would you like to change?")
    await ana.press("Availability")
    await ana.expect_reply("When are you available?")
    await ana.send("Mondays")
    await ana.expect_reply("Here's your offer", "Mondays")
    await ana.send("confirm")
    await ana.expect_reply("updated")
    await world.deliver()
    await bob.expect_nothing()
    async with world.app.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(SkillMatch)) == 1
        keys = set(await session.scalars(select(OutboxMessage.idempotency_key)))
    assert {k for k in keys if k.startswith("skillshare-match")} == {
        "skillshare-match:1:1:offerer",
        "skillshare-match:1:1:requester",
    }


async def test_unrelated_words_do_not_match(world: ChatWorld) -> None:
    ana = world.person("ana@example.org")
    bob = world.person("bob@example.org")
    await make_offer(ana, "Time management", "Covers project planning too", format="workshop")
    await bob.send("/skillshare request project management")
    await bob.expect_reply("Time management")  # "management" is in the skill: half the words
    await world.deliver()
    await ana.expect_reply("would like to learn from you", "project management", "Time management")
    await bob.send("/skillshare request project budgeting")
    await bob.expect_reply("Nobody offers it yet")


async def test_own_offers_and_closed_requests_are_not_matched(world: ChatWorld) -> None:
    ana = world.person("ana@example.org")
    await ana.send("/skillshare request spreadsheets")
    await ana.expect_reply("Nobody offers it yet")
    await make_offer(ana, "Spreadsheets for beginners", format="workshop")
    bob = world.person("bob@example.org")
    await bob.send("/skillshare request gardening")
    await bob.expect_reply("Nobody offers it yet")
    await bob.send("/skillshare mine")
    await bob.expect_reply("open requests", "gardening")
    await bob.press("Close request #")
    await bob.expect_reply("Closed your request", "gardening")
    await make_offer(ana, "Gardening", format="workshop")
    await world.deliver()
    await bob.expect_nothing()
    await bob.send("/skillshare request")
    await bob.expect_reply("What would you like to learn?")
