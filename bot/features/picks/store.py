"""Reading and writing the picks tables: feed state and items after a fetch, candidates for a
channel, what was posted, suggestions and useful votes. Sessions come from the caller."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.features.picks.choose import Candidate
from bot.features.picks.config import Feed
from bot.features.picks.fetch import FeedFetch, Validators
from bot.features.picks.links import link_key
from storage.models import Person
from storage.picks import (
    SUGGESTION_SOURCE,
    FeedState,
    FetchStatus,
    PickItem,
    PostedPick,
    Suggestion,
    SuggestionStatus,
    UsefulVote,
)

logger = logging.getLogger(__name__)


async def validators(session: AsyncSession, feeds: Sequence[Feed]) -> dict[str, Validators]:
    """ETag/Last-Modified per feed, but only while the stored URL is still the configured one
    (a feed whose address changed in app.yaml is fetched unconditionally)."""
    urls = {feed.id: feed.url for feed in feeds}
    states = (await session.scalars(select(FeedState))).all()
    return {
        s.feed_id: Validators(s.etag, s.last_modified, s.body_sha256)
        for s in states
        if urls.get(s.feed_id) == s.url
    }


async def save_fetches(session: AsyncSession, fetches: Sequence[FeedFetch], now: datetime) -> int:
    """Record each feed's outcome and keep new entries; returns how many items were new.

    A 304 or a failure leaves the stored items untouched: they stay candidates."""
    new = 0
    for fetch in fetches:
        feed = fetch.feed
        state = await session.get(FeedState, feed.id)
        if state is None:
            state = FeedState(feed_id=feed.id, url=feed.url, last_status="", consecutive_failures=0)
            session.add(state)
        if state.url != feed.url:
            state.url, state.etag, state.last_modified, state.body_sha256 = feed.url, None, None, None
        state.last_fetched_at = now
        state.last_status = fetch.status
        if fetch.status == FetchStatus.FAILED:
            state.last_error = fetch.error
            state.consecutive_failures = (state.consecutive_failures or 0) + 1
            continue
        state.last_error = None
        state.consecutive_failures = 0
        state.last_success_at = now
        state.etag, state.last_modified = fetch.validators.etag, fetch.validators.last_modified
        state.body_sha256 = fetch.validators.body_sha256
        if fetch.status == FetchStatus.OK:
            new += await _keep_entries(session, fetch, now)
    await session.flush()
    return new


async def _keep_entries(session: AsyncSession, fetch: FeedFetch, now: datetime) -> int:
    feed = fetch.feed
    guids = [entry.guid for entry in fetch.entries]
    known = {
        item.guid: item
        for item in (
            await session.scalars(
                select(PickItem).where(PickItem.source_key == feed.id, PickItem.guid.in_(guids))
            )
        ).all()
    }
    new = 0
    for entry in fetch.entries:
        item = known.get(entry.guid)
        if item is None:
            item = PickItem(source_key=feed.id, guid=entry.guid, kind=feed.kind, first_seen_at=now)
            session.add(item)
            known[entry.guid] = item
            new += 1
        item.url, item.title, item.speaker = entry.url, entry.title, entry.speaker
        item.link_key = link_key(entry.url)
        item.source = (feed.name or feed.id)[:200]
        item.duration_seconds = entry.duration_seconds
        item.summary, item.image_url = entry.summary, entry.image_url
        item.published_at = entry.published_at
    return new


async def candidates(
    session: AsyncSession, channel_key: str, since: datetime, feed_ids: Sequence[str]
) -> list[Candidate]:
    """Items whose link was never posted to this channel (whichever feed carried it), from a
    configured feed or a suggestion, newer than ``since`` (publication date, or when first seen
    if the feed gives none)."""
    shown = aliased(PickItem)
    posted_links = (
        select(shown.link_key)
        .join(PostedPick, PostedPick.item_id == shown.id)
        .where(PostedPick.channel_key == channel_key)
    )
    moment = func.coalesce(PickItem.published_at, PickItem.first_seen_at)
    rows = await session.execute(
        select(
            PickItem.id, PickItem.kind, PickItem.source_key, PickItem.source, moment, PickItem.link_key
        ).where(
            PickItem.link_key.not_in(posted_links),
            PickItem.source_key.in_([*feed_ids, SUGGESTION_SOURCE]),
            moment >= since,
        )
    )
    return [
        Candidate(
            item_id=item_id,
            kind=kind,
            source_key=affinity_key(source_key, source),
            published=when,
            suggested=source_key == SUGGESTION_SOURCE,
            link=link,
        )
        for item_id, kind, source_key, source, when, link in rows.all()
    ]


async def useful_by_source(session: AsyncSession, channel_key: str) -> dict[str, int]:
    """ "Useful" votes on items this channel was shown, per feed (suggestions per site), so a
    source people found useful is preferred next time."""
    posted = select(PostedPick.item_id).where(PostedPick.channel_key == channel_key)
    rows = await session.execute(
        select(PickItem.source_key, PickItem.source, func.count())
        .join(UsefulVote, UsefulVote.item_id == PickItem.id)
        .where(PickItem.id.in_(posted))
        .group_by(PickItem.source_key, PickItem.source)
    )
    votes: dict[str, int] = {}
    for source_key, source_name, count in rows.all():
        key = affinity_key(source_key, source_name)
        votes[key] = votes.get(key, 0) + int(count)
    return votes


def affinity_key(source_key: str, source_name: str) -> str:
    return f"site:{source_name}" if source_key == SUGGESTION_SOURCE else source_key


async def items(session: AsyncSession, ids: Sequence[int]) -> list[PickItem]:
    found = {i.id: i for i in (await session.scalars(select(PickItem).where(PickItem.id.in_(ids)))).all()}
    return [found[i] for i in ids if i in found]


@dataclass(frozen=True, slots=True)
class SuggestedBy:
    name: str
    why: str


async def suggested_by(session: AsyncSession, item_ids: Sequence[int]) -> dict[int, SuggestedBy]:
    rows = await session.execute(
        select(Suggestion.item_id, Person.display_name, Person.email, Suggestion.why)
        .outerjoin(Person, Person.id == Suggestion.suggested_by_id)
        .where(Suggestion.item_id.in_(item_ids))
    )
    return {
        int(item_id): SuggestedBy(name or (email or "a colleague").split("@")[0], why or "")
        for item_id, name, email, why in rows.all()
        if item_id is not None
    }


async def record_posted(
    session: AsyncSession, channel_key: str, item_ids: Sequence[int], week: str, now: datetime
) -> None:
    for item_id in item_ids:
        session.add(PostedPick(channel_key=channel_key, item_id=item_id, week=week, posted_at=now))
    await session.flush()


async def vote(session: AsyncSession, item_id: int, person_id: int, now: datetime) -> tuple[bool, int]:
    """Record one person's "useful"; returns (counted now, votes in total). Voting twice is a
    no-op, not an error."""
    existing = await session.get(UsefulVote, (item_id, person_id))
    created = existing is None
    if created:
        session.add(UsefulVote(item_id=item_id, person_id=person_id, voted_at=now))
        await session.flush()
    total = await session.scalar(select(func.count()).where(UsefulVote.item_id == item_id))
    return created, int(total or 0)


# -- suggestions and feed health (the handlers' queries) -----------------------------------------
async def suggestion_for_url(session: AsyncSession, url: str) -> Suggestion | None:
    return await session.scalar(select(Suggestion).where(Suggestion.url == url))


async def pending_suggestions(session: AsyncSession) -> list[Suggestion]:
    """Suggestions waiting for a learning manager, oldest first."""
    return list(
        await session.scalars(
            select(Suggestion)
            .where(Suggestion.status == SuggestionStatus.PENDING)
            .order_by(Suggestion.created_at)
        )
    )


async def person(session: AsyncSession, person_id: int | None) -> Person | None:
    return await session.get(Person, person_id) if person_id else None


async def feed_states(session: AsyncSession) -> dict[str, FeedState]:
    return {s.feed_id: s for s in (await session.scalars(select(FeedState))).all()}
