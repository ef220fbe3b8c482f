"""Search is ranked and case- and accent-insensitive, identically on SQLite and PostgreSQL
(the test command runs this file on both)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.features.skillshare.search import search_offers
from bot.features.skillshare.text import normalise, terms
from storage.models import Person
from storage.skillshare import SkillOffer
from tests.skillshare.helpers import make_offer
from tests.support.conversation import ChatWorld

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


async def _seed(sessions: async_sessionmaker[AsyncSession], rows: list[tuple[str, str]]) -> dict[str, int]:
    from bot.features.skillshare.search import offer_search_text

    ids: dict[str, int] = {}
    async with sessions() as session, session.begin():
        person = Person(
            email="ana@example.org", display_name="Ana", office_id="nairobi", created_at=NOW, updated_at=NOW
        )
        session.add(person)
        await session.flush()
        for index, (skill, description) in enumerate(rows):
            offer = SkillOffer(
                person_id=person.id,
                office_id="nairobi",
                skill=skill,
                description=description,
                format="workshop",
                level="beginner",
                availability="",
                status="active",
                created_at=NOW,
                updated_at=NOW + timedelta(minutes=index),
                withdrawn_at=None,
            )
            offer.search_text = offer_search_text(offer)
            session.add(offer)
            await session.flush()
            ids[skill] = offer.id
    return ids


def test_normalise_drops_accents_and_case() -> None:
    assert normalise("Programación ÉLÈVE Straße — Ñandú!") == "programacion eleve strasse nandu"
    assert terms("The basics of programación in Python") == ["basics", "programacion", "python"]


@pytest.mark.parametrize(
    "query",
    ["programacion", "PROGRAMACIÓN", "Programación", "progra"],
)
async def test_accents_and_case_do_not_matter(sessions: async_sessionmaker[AsyncSession], query: str) -> None:
    ids = await _seed(sessions, [("Programación en Python", "Primeros pasos"), ("Excel", "Tablas dinámicas")])
    async with sessions() as session:
        found = await search_offers(session, query)
    assert [r.offer.id for r in found] == [ids["Programación en Python"]]


async def test_accented_query_finds_unaccented_text(sessions: async_sessionmaker[AsyncSession]) -> None:
    ids = await _seed(sessions, [("Excel", "Tablas dinamicas y graficos")])
    async with sessions() as session:
        found = await search_offers(session, "tablas DINÁMICAS")
    assert [r.offer.id for r in found] == [ids["Excel"]]


async def test_ranking_prefers_the_skill_whole_words_and_more_words(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    ids = await _seed(
        sessions,
        [
            ("Public speaking", "Talk to a room with confidence, including data stories"),
            ("Data visualisation", "Charts in Excel and Python"),
            ("Excel pivot tables", "Summarise data quickly"),
            ("Database basics", "Tables and queries"),
            ("Knitting", "Nothing to do with it"),
        ],
    )
    async with sessions() as session:
        found = await search_offers(session, "data")
        assert [r.offer.id for r in found] == [
            ids["Data visualisation"],  # whole word in the skill
            ids["Database basics"],  # prefix in the skill
            ids["Excel pivot tables"],  # description only; newer than public speaking
            ids["Public speaking"],
        ]
        both = await search_offers(session, "excel pivot")
        assert [r.offer.id for r in both][:2] == [ids["Excel pivot tables"], ids["Data visualisation"]]
        assert await search_offers(session, "the and of") == []
        assert await search_offers(session, "origami") == []


async def test_withdrawn_offers_are_not_found(world: ChatWorld) -> None:
    ana = world.person("ana@example.org")
    await make_offer(ana, "Café culture", "How to run a team coffee chat")
    bob = world.person("bob@example.org")
    await bob.send("/skillshare search CAFE")
    await bob.expect_reply("Café culture", "ana@example.org")
    await ana.send("/skillshare withdraw")
    await ana.expect_reply("Withdrawn", "Café culture")
    await bob.send("/skillshare search cafe")
    await bob.expect_reply("No offers match", "/skillshare request")


async def test_search_needs_words(world: ChatWorld) -> None:
    bob = world.person("bob@example.org")
    await bob.send("/skillshare search")
    await bob.expect_reply("What are you looking for?")
    await bob.send("/skillshare search " + "x" * 121)
    await bob.expect_reply("120 characters")
