"""Peer-assist pairing: the matching itself, and the round as people experience it."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from itertools import combinations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import ManualClock
from bot.config import AppConfig
from bot.features.skillshare.pairing import Candidate, pair_key, propose
from storage.models import Person
from storage.skillshare import PeerPairing, PeerPairMember
from tests.support.conversation import WORLDS, ChatWorld


def _run_rounds(count: int, people: int, odd: str, rounds: int) -> list[list[tuple[int, ...]]]:
    candidates = [Candidate(i) for i in range(1, people + 1)]
    history: Counter[tuple[int, int]] = Counter()
    extra: Counter[int] = Counter()
    proposals = []
    for round_number in range(rounds):
        proposal = propose(candidates, history=history, extra_counts=extra, odd=odd, seed=f"r{round_number}")  # type: ignore[arg-type]
        groups = list(proposal.groups)
        for group in groups:
            for a, b in combinations(group, 2):
                history[pair_key(a, b)] += 1
            if len(group) == 3:
                extra.update(group)
        if proposal.sit_out is not None:
            extra[proposal.sit_out] += 1
            groups.append((proposal.sit_out,))
        proposals.append(groups)
    return proposals


def test_no_repeats_until_everyone_has_met() -> None:
    rounds = _run_rounds(1, 6, "trio", 5)  # 6 people: 5 rounds cover all 15 pairs exactly once
    seen = [pair for groups in rounds for pair in groups]
    assert len(seen) == 15 and len(set(seen)) == 15
    for groups in rounds:
        assert sorted(p for g in groups for p in g) == [1, 2, 3, 4, 5, 6]


def test_odd_numbers_sit_out_in_rotation() -> None:
    rounds = _run_rounds(1, 5, "sit_out", 5)
    sitting_out = [next(g[0] for g in groups if len(g) == 1) for groups in rounds]
    assert sorted(sitting_out) == [1, 2, 3, 4, 5]
    for groups in rounds:
        assert sorted(len(g) for g in groups) == [1, 2, 2]


def test_odd_numbers_make_one_trio() -> None:
    [groups] = _run_rounds(1, 7, "trio", 1)
    assert sorted(len(g) for g in groups) == [2, 2, 3]
    assert sorted(p for g in groups for p in g) == list(range(1, 8))


def test_needs_meet_strengths() -> None:
    people = [
        Candidate(1, needs="budgeting", strengths="python"),
        Candidate(2, needs="python", strengths="budgeting"),
        Candidate(3, needs="design", strengths="writing"),
        Candidate(4, needs="writing", strengths="design"),
    ]
    proposal = propose(people, history={}, extra_counts={}, odd="trio", seed="x")
    assert sorted(proposal.groups) == [(1, 2), (3, 4)]
    # ...but a first meeting beats a good fit met before.
    proposal = propose(people, history={(1, 2): 1, (3, 4): 1}, extra_counts={}, odd="trio", seed="x")
    assert (1, 2) not in proposal.groups and (3, 4) not in proposal.groups


def test_tiny_rounds() -> None:
    assert propose([], history={}, extra_counts={}, odd="trio", seed="x").groups == []
    alone = propose([Candidate(9)], history={}, extra_counts={}, odd="trio", seed="x")
    assert alone.groups == [] and alone.sit_out == 9


async def test_a_round_as_people_see_it(world: ChatWorld, clock: ManualClock) -> None:
    ana = world.person("ana@example.org")
    bob = world.person("bob@example.org")
    carol = world.person("carol@example.org")
    dan = world.person("dan@example.org")
    await ana.send("/skillshare peer")
    await ana.expect_reply("Peer assist", "/skillshare peer needs")
    await ana.send("/skillshare peer needs budgeting")
    await ana.expect_reply("Saved", "budgeting")
    await ana.send("/skillshare peer strengths python, data cleaning")
    await ana.expect_reply("Saved", "python")
    await bob.send("/skillshare peer needs python")
    await bob.expect_reply("Saved", "python")
    await bob.send("/skillshare peer strengths budgeting")
    await bob.expect_reply("Saved", "budgeting")
    await carol.send("/skillshare peer strengths facilitation")
    await carol.expect_reply("Saved", "facilitation")
    await dan.send("/skillshare peer needs facilitation")
    await dan.expect_reply("Saved", "facilitation")
    await dan.send("/skillshare peer pause")
    await dan.expect_reply("Paused")
    await carol.send("/skillshare peer resume")
    await carol.expect_reply("Welcome back")
    await dan.send("/skillshare peer nonsense")
    await dan.expect_reply("don't know", "/skillshare peer pause")

    summary = await world.run_job("peer_pairing")
    assert "0 pair(s), 1 trio(s)" in summary  # ana, bob, carol; dan paused
    await ana.expect_reply("partners this round", "bob@example.org", "carol@example.org")
    await bob.expect_reply("partners this round", "budgeting")
    await carol.expect_reply("partners this round")
    await dan.expect_nothing()
    # Running the job again in the same week proposes and sends nothing new.
    assert "already proposed" in await world.run_job("peer_pairing")
    await ana.expect_nothing()

    clock.advance(timedelta(days=world.app.config.skillshare.peer_followup_days))
    await world.deliver()
    await ana.expect_reply("Did you meet")
    await ana.press("Yes, we met")
    await ana.expect_reply("Great")
    await bob.expect_reply("Did you meet")
    await bob.press("Not yet")
    await bob.expect_reply("new partner next round")
    async with world.app.sessions() as session:
        answers = dict((await session.execute(select(PeerPairMember.person_id, PeerPairMember.met))).all())
    assert sorted(answers.values(), key=str) == [False, None, True]
    await carol.expect_reply("Did you meet")
    await carol.send("/skillshare peer leave")
    await carol.expect_reply("left peer assist")
    await carol.send("/skillshare peer leave")
    await carol.expect_reply("nothing to forget")
    clock.advance(timedelta(days=7))
    assert "0 trio(s)" in await world.run_job("peer_pairing")
    await ana.expect_reply("partner this round", "bob@example.org")
    await bob.expect_reply("partner this round", "ana@example.org")


async def test_sit_out_is_told_and_rotates(
    world: ChatWorld, config: AppConfig, sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    settings = config.skillshare.model_copy(update={"peer_odd_number": "sit_out"})
    async with WORLDS[world.platform](
        config.model_copy(update={"skillshare": settings}), sessions, clock
    ) as w:
        await _three_weeks_with_three_people(w, clock)


async def _three_weeks_with_three_people(world: ChatWorld, clock: ManualClock) -> None:
    people = {f"p{i}@example.org": world.person(f"p{i}@example.org") for i in range(3)}
    for person in people.values():
        await person.send("/skillshare peer strengths listening")
        await person.expect_reply("Saved", "listening")
    sat_out: list[str] = []
    paired_last_week: list[str] = []
    for _week in range(3):
        assert "1 pair(s), 0 trio(s), 1 sitting out" in await world.run_job("peer_pairing")
        async with world.app.sessions() as session:
            email = await session.scalar(
                select(Person.email)
                .join(PeerPairMember, PeerPairMember.person_id == Person.id)
                .join(PeerPairing, PeerPairing.id == PeerPairMember.pairing_id)
                .where(PeerPairing.kind == "sit_out")
                .order_by(PeerPairing.id.desc())
                .limit(1)
            )
        assert email is not None
        # Last week's follow-up and this week's news leave in one outbox batch, in either order.
        for other in paired_last_week:
            await people[other].expect_eventually("Did you meet")
        await people[email].expect_reply("sit this one out")
        paired_last_week = [other for other in people if other != email]
        for other in paired_last_week:
            await people[other].expect_reply("partner this round")
        sat_out.append(email)
        clock.advance(timedelta(days=7))
    assert sorted(sat_out) == sorted(people)
