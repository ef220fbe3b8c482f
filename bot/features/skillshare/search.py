"""Ranked, accent- and case-insensitive search over offers, and request <-> offer matching.

The database narrows the candidates with ``LIKE`` on the pre-normalised ``search_text`` column
(identical on SQLite and PostgreSQL because both sides were normalised in Python); the ranking
is done here in Python, so the order is the same on both databases. An office has hundreds of
offers, not millions, so this stays fast (see ``bench/skillshare.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.features.skillshare.text import normalise, terms
from storage.skillshare import OfferStatus, RequestStatus, SkillOffer, SkillRequest

SKILL_EXACT, SKILL_PREFIX = 3.0, 2.0
OTHER_EXACT, OTHER_PREFIX = 1.0, 0.6
PHRASE_BONUS = 2.0


@dataclass(frozen=True, slots=True)
class Ranked:
    offer: SkillOffer
    score: float
    coverage: float
    """Share of the query's words found in the offer (0..1)."""
    in_skill: bool
    """Whether any query word was found in the skill itself (not only in the description)."""


def offer_search_text(offer: SkillOffer) -> str:
    return normalise(" ".join((offer.skill, offer.description, offer.format, offer.level)))


def _word_score(term: str, words: Sequence[str], exact: float, prefix: float) -> float:
    best = 0.0
    for word in words:
        if word == term:
            return exact
        if len(term) >= 3 and word.startswith(term):
            best = prefix
    return best


def rank(query: str, offer: SkillOffer) -> Ranked:
    """Score one offer for ``query``: words in the skill count most, whole words more than
    prefixes ("pivot" finds "pivots"), and the query as a phrase in the skill gets a bonus."""
    wanted = terms(query)
    if not wanted:
        return Ranked(offer, 0.0, 0.0, False)
    skill_words = normalise(offer.skill).split()
    # search_text already holds every field normalised (the skill too, which scores higher above).
    other_words = (offer.search_text or offer_search_text(offer)).split()
    score, found, in_skill = 0.0, 0, False
    for term in wanted:
        in_this_skill = _word_score(term, skill_words, SKILL_EXACT, SKILL_PREFIX)
        best = max(in_this_skill, _word_score(term, other_words, OTHER_EXACT, OTHER_PREFIX))
        if best:
            found += 1
            score += best
        in_skill = in_skill or in_this_skill > 0
    phrase = " ".join(wanted)
    if len(wanted) > 1 and phrase in " ".join(skill_words):
        score += PHRASE_BONUS
    return Ranked(offer, score, found / len(wanted), in_skill)


async def search_offers(
    session: AsyncSession, query: str, *, exclude_person_id: int | None = None, limit: int = 10
) -> list[Ranked]:
    """Active offers matching any word of ``query``, best first (ties: newest first)."""
    wanted = terms(query)
    if not wanted:
        return []
    statement = select(SkillOffer).where(
        SkillOffer.status == OfferStatus.ACTIVE,
        or_(*(SkillOffer.search_text.contains(term, autoescape=True) for term in wanted)),
    )
    if exclude_person_id is not None:
        statement = statement.where(SkillOffer.person_id != exclude_person_id)
    ranked = [rank(query, offer) for offer in await session.scalars(statement)]
    ranked = [r for r in ranked if r.score > 0]
    ranked.sort(key=lambda r: (-r.score, -r.offer.updated_at.timestamp(), -r.offer.id))
    return ranked[:limit]


def is_match(ranked: Ranked) -> bool:
    """Good enough to introduce two people: at least half the request's words are in the offer
    and one of them in its skill ("project management" should not match "time management"
    only through a description)."""
    return ranked.in_skill and ranked.coverage >= 0.5


async def offers_for_request(session: AsyncSession, request: SkillRequest, limit: int = 10) -> list[Ranked]:
    found = await search_offers(session, request.skill, exclude_person_id=request.person_id, limit=50)
    return [r for r in found if is_match(r)][:limit]


async def requests_for_offer(session: AsyncSession, offer: SkillOffer) -> list[SkillRequest]:
    """Open requests from other people that this offer answers, oldest first."""
    open_requests = await session.scalars(
        select(SkillRequest)
        .where(SkillRequest.status == RequestStatus.OPEN, SkillRequest.person_id != offer.person_id)
        .order_by(SkillRequest.id)
    )
    return [request for request in open_requests if is_match(rank(request.skill, offer))]
