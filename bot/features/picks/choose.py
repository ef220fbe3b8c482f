"""Choosing a channel's digest from its candidates: a pure function, so the rules are easy to
test and to explain to a learning manager.

Each kind in the mix (e.g. 2 talks, 2 articles) takes its best-scoring candidates. The score
adds up three things, each between 0 and about 1:

* freshness: 1 for something published today, falling to 0 at ``max_age_days``;
* suggested by a colleague (approved): +1, so people see their suggestions used;
* "useful" votes this channel gave earlier picks from the same source: +0.2 per vote, up to +1.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

SUGGESTED_BONUS = 1.0
VOTE_WEIGHT = 0.2
MAX_VOTE_BONUS = 1.0


@dataclass(frozen=True, slots=True)
class Candidate:
    item_id: int
    kind: str
    source_key: str  # the affinity key: a feed id, or "site:<name>" for suggestions
    published: datetime
    suggested: bool = False
    link: str = ""  # bot.features.picks.links.link_key: the same page under another address is a repeat


def score(candidate: Candidate, now: datetime, max_age_days: int, votes: Mapping[str, int]) -> float:
    age_days = max(0.0, (now - candidate.published).total_seconds() / 86400)
    freshness = max(0.0, 1.0 - age_days / max_age_days)
    bonus = SUGGESTED_BONUS if candidate.suggested else 0.0
    liked = min(MAX_VOTE_BONUS, VOTE_WEIGHT * votes.get(candidate.source_key, 0))
    return freshness + bonus + liked


def choose(
    candidates: Sequence[Candidate],
    mix: Iterable[tuple[str, int]],
    *,
    now: datetime,
    max_age_days: int,
    votes: Mapping[str, int],
) -> list[Candidate]:
    """The digest in the mix's order (``mix`` is ``(kind, count)`` pairs, talks first if the mix
    lists them first). A kind with too few candidates gives what it has; the other kinds don't
    fill its place, so the mix the learning manager set stays recognisable."""
    chosen: list[Candidate] = []
    links: set[str] = set()  # two feeds may carry the same article
    for kind, count in mix:
        pool = [c for c in candidates if c.kind == kind]
        pool.sort(key=lambda c: (-score(c, now, max_age_days, votes), -c.published.timestamp(), c.item_id))
        taken = 0
        for candidate in pool:
            if taken == count:
                break
            if candidate.link and candidate.link in links:
                continue
            links.add(candidate.link)
            chosen.append(candidate)
            taken += 1
    return chosen
