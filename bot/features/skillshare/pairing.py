"""Peer-assist pairing (after "Learning to Fly"): who meets whom this round.

A pure function of the people taking part and the history, so it is easy to test and to
benchmark. It is a maximum-weight matching (networkx's blossom algorithm) on the complete graph
of participants where an edge's weight prefers, in order: people who have never been paired,
then fewer past pairings, then people whose needs meet the other's strengths. With an odd
number one person is "extra": the one who has been extra least often (so it rotates); they
either sit this round out or join the pair they fit best as a trio.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import networkx as nx

from bot.features.skillshare.text import terms

REPEAT_PENALTY = 1000
MAX_COMPLEMENT = 100


@dataclass(frozen=True, slots=True)
class Candidate:
    person_id: int
    needs: str = ""
    strengths: str = ""


@dataclass(frozen=True, slots=True)
class Proposal:
    groups: list[tuple[int, ...]] = field(default_factory=list)
    """Pairs, and at most one trio."""
    sit_out: int | None = None


def complement(a: Candidate, b: Candidate) -> int:
    """How many of one's needs are the other's strengths, both ways."""
    return _complement(_Words.of(a), _Words.of(b))


@dataclass(frozen=True, slots=True)
class _Words:
    needs: frozenset[str]
    strengths: frozenset[str]

    @classmethod
    def of(cls, candidate: Candidate) -> _Words:
        return cls(frozenset(terms(candidate.needs)), frozenset(terms(candidate.strengths)))


def _complement(a: _Words, b: _Words) -> int:
    return min(MAX_COMPLEMENT, len(a.needs & b.strengths) + len(b.needs & a.strengths))


def pair_key(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a < b else (b, a)


def propose(
    candidates: Sequence[Candidate],
    *,
    history: Mapping[tuple[int, int], int],
    extra_counts: Mapping[int, int],
    odd: Literal["trio", "sit_out"],
    seed: str,
) -> Proposal:
    """Groups for one round.

    ``history`` counts past pairings per ``pair_key``; ``extra_counts`` counts how often each
    person was the odd one out before; ``seed`` (the round's period) varies ties between rounds
    while keeping a rerun of the same round identical.
    """
    people = sorted(candidates, key=lambda c: c.person_id)
    random.Random(seed).shuffle(people)
    if not people:
        return Proposal()
    if len(people) == 1:
        return Proposal(sit_out=people[0].person_id)
    by_id = {c.person_id: c for c in people}
    words = {c.person_id: _Words.of(c) for c in people}
    most_repeats = max(history.values(), default=0)
    base = REPEAT_PENALTY * (most_repeats + 1) + 1

    def weight(a: Candidate, b: Candidate) -> int:
        repeats = history.get(pair_key(a.person_id, b.person_id), 0)
        return base - REPEAT_PENALTY * repeats + _complement(words[a.person_id], words[b.person_id])

    extra: Candidate | None = None
    if len(people) % 2:
        order = {c.person_id: index for index, c in enumerate(people)}
        extra = min(people, key=lambda c: (extra_counts.get(c.person_id, 0), order[c.person_id]))
        people = [c for c in people if c is not extra]

    graph = nx.Graph()
    for index, a in enumerate(people):
        for b in people[index + 1 :]:
            graph.add_edge(a.person_id, b.person_id, weight=weight(a, b))
    matching = nx.max_weight_matching(graph, maxcardinality=True)
    groups: list[tuple[int, ...]] = sorted(pair_key(a, b) for a, b in matching)

    if extra is None:
        return Proposal(groups=groups)
    if odd == "sit_out":
        return Proposal(groups=groups, sit_out=extra.person_id)
    assert extra is not None
    joined = extra

    def fit(group: tuple[int, ...]) -> int:
        return sum(weight(joined, by_id[member]) for member in group)

    best = max(range(len(groups)), key=lambda i: (fit(groups[i]), -i))
    groups[best] = tuple(sorted((*groups[best], extra.person_id)))
    return Proposal(groups=groups)
