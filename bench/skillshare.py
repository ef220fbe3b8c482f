"""Skillshare figures: search over many offers (SQLite file, and PostgreSQL when DATABASE_URL
points at one) and peer-assist pairing for offices of growing size.

    .venv/bin/python bench/skillshare.py
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test .venv/bin/python bench/skillshare.py

On PostgreSQL it works in a private database created next to the one named, and drops it after.
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from itertools import combinations
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.features.skillshare.pairing import Candidate, pair_key, propose
from bot.features.skillshare.search import offer_search_text, search_offers
from storage.db import create_engine, is_postgres, normalise_url, session_factory
from storage.migrate import upgrade
from storage.models import Person
from storage.skillshare import SkillOffer
from tests.support.databases import create_private_postgres, drop_private_postgres

WORDS = [
    "excel",
    "python",
    "budgeting",
    "negotiation",
    "facilitation",
    "programación",
    "diseño",
    "écriture",
    "data",
    "charts",
    "coaching",
    "leadership",
    "français",
    "español",
    "kiswahili",
    "writing",
    "research",
    "statistics",
    "gis",
    "mapping",
    "procurement",
    "logistics",
    "safeguarding",
    "security",
    "photography",
    "video",
    "storytelling",
]
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
QUERIES = ["excel", "PROGRAMACION python", "diseno", "data charts storytelling", "nothing-like-this"]


async def bench_search(url: str, offers: int) -> list[str]:
    engine = create_engine(url)
    await upgrade(engine)
    sessions = session_factory(engine)
    rng = random.Random(6)
    async with sessions() as session, session.begin():
        person = Person(email="bench@example.org", display_name="Bench", created_at=NOW, updated_at=NOW)
        session.add(person)
        await session.flush()
        for index in range(offers):
            offer = SkillOffer(
                person_id=person.id,
                office_id="nairobi",
                skill=" ".join(rng.sample(WORDS, 2)).title(),
                description=" ".join(rng.sample(WORDS, 6)),
                format="workshop",
                level="beginner",
                availability="",
                status="active",
                created_at=NOW,
                updated_at=NOW + timedelta(seconds=index),
                withdrawn_at=None,
            )
            offer.search_text = offer_search_text(offer)
            session.add(offer)
    lines = []
    async with sessions() as session:
        for query in QUERIES:
            runs = 5
            started = time.perf_counter()
            for _ in range(runs):
                found = await search_offers(session, query)
            elapsed = (time.perf_counter() - started) / runs * 1000
            lines.append(f"  search {query!r:30} {elapsed:7.1f} ms  ({len(found)} shown)")
    await engine.dispose()
    return lines


def bench_pairing(people: int, rounds: int) -> str:
    rng = random.Random(people)
    candidates = [
        Candidate(i, needs=" ".join(rng.sample(WORDS, 3)), strengths=" ".join(rng.sample(WORDS, 3)))
        for i in range(people)
    ]
    history: Counter[tuple[int, int]] = Counter()
    extra: Counter[int] = Counter()
    repeats = 0
    started = time.perf_counter()
    for round_number in range(rounds):
        proposal = propose(
            candidates, history=history, extra_counts=extra, odd="trio", seed=str(round_number)
        )
        for group in proposal.groups:
            for a, b in combinations(group, 2):
                repeats += history[pair_key(a, b)] > 0
                history[pair_key(a, b)] += 1
            if len(group) == 3:
                extra.update(group)
    per_round = (time.perf_counter() - started) / rounds * 1000
    return (
        f"  pairing {people:4} people: {per_round:8.1f} ms a round, "
        f"{repeats} repeated pair(s) in {rounds} rounds"
    )


async def main() -> None:
    url = os.environ.get("DATABASE_URL")
    for offers in (1000, 5000):
        with tempfile.TemporaryDirectory() as folder:
            if url and is_postgres(normalise_url(url)):
                database, target = "PostgreSQL", await create_private_postgres(normalise_url(url))
            else:
                database, target = "SQLite", f"sqlite+aiosqlite:///{folder}/bench.db"
            print(f"{database}, {offers} active offers (mean of 5 runs):")
            try:
                for line in await bench_search(target, offers):
                    print(line)
            finally:
                if database == "PostgreSQL" and url:
                    await drop_private_postgres(normalise_url(url), target)
    print("Peer-assist pairing (networkx max-weight matching, odd numbers as a trio):")
    for people, rounds in ((20, 10), (60, 10), (150, 3)):
        print(bench_pairing(people, rounds))


if __name__ == "__main__":
    asyncio.run(main())
