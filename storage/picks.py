"""Tables for weekly picks: what the feeds offered, how each feed was last fetched, what each
channel has already been shown, links people suggested, and who found an item useful.

Items from feeds and approved suggestions share one table, so choosing a digest is one query
whatever the source, and "never repeat an item in a channel" is a unique constraint.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base


class SuggestionStatus(StrEnum):
    """``Suggestion.status`` (the stored values): pending -> approved or rejected."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class FetchStatus(StrEnum):
    """How a feed answered (``FeedState.last_status``, ``FeedFetch.status``)."""

    OK = "ok"
    NOT_MODIFIED = "not-modified"
    FAILED = "failed"


SUGGESTION_SOURCE = "suggestion"
"""``PickItem.source_key`` of items that came from ``/learning share`` rather than a feed."""


class PickItem(Base):
    """A talk or article that may go into a digest (from a feed, or an approved suggestion)."""

    __tablename__ = "picks_items"
    __table_args__ = (
        UniqueConstraint("source_key", "guid", name="uq_picks_items_source_guid"),
        Index("ix_picks_items_kind_published", "kind", "published_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source_key: Mapped[str] = mapped_column(String(64))  # a feed id, or "suggestion"
    guid: Mapped[str] = mapped_column(String(700))
    url: Mapped[str] = mapped_column(Text)
    link_key: Mapped[str] = mapped_column(String(700), index=True)  # see bot.features.picks.links
    title: Mapped[str] = mapped_column(String(500))
    kind: Mapped[str] = mapped_column(String(16))  # "talk" or "article"
    source: Mapped[str] = mapped_column(String(200), default="")  # "TED Talks", "hbr.org"
    speaker: Mapped[str] = mapped_column(String(200), default="")
    duration_seconds: Mapped[int | None]
    summary: Mapped[str] = mapped_column(Text, default="")
    image_url: Mapped[str] = mapped_column(Text, default="")
    published_at: Mapped[datetime | None]
    first_seen_at: Mapped[datetime]
    suggested_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))


class FeedState(Base):
    """How a feed answered last time: validators for the next conditional GET, and health."""

    __tablename__ = "picks_feed_state"

    feed_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    etag: Mapped[str | None] = mapped_column(String(500))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    body_sha256: Mapped[str | None] = mapped_column(String(64))
    last_status: Mapped[str] = mapped_column(String(32), default="")  # "ok", "not-modified", "failed"
    last_error: Mapped[str | None] = mapped_column(Text)
    last_fetched_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    consecutive_failures: Mapped[int] = mapped_column(default=0)


class PostedPick(Base):
    """An item shown in a channel's digest; the unique key is what prevents repeats."""

    __tablename__ = "picks_posted"
    __table_args__ = (UniqueConstraint("channel_key", "item_id", name="uq_picks_posted_channel_item"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_key: Mapped[str] = mapped_column(String(64))
    item_id: Mapped[int] = mapped_column(ForeignKey("picks_items.id", ondelete="CASCADE"), index=True)
    week: Mapped[str] = mapped_column(String(16))  # ISO week, e.g. "2026-W49"
    posted_at: Mapped[datetime]


class Suggestion(Base):
    """A link someone shared with ``/learning share``; status pending -> approved/rejected."""

    __tablename__ = "picks_suggestions"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2000), unique=True)
    title: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(Text, default="")
    image_url: Mapped[str] = mapped_column(Text, default="")
    site_name: Mapped[str] = mapped_column(String(200), default="")
    kind: Mapped[str] = mapped_column(String(16))
    why: Mapped[str] = mapped_column(Text, default="")
    suggested_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[str] = mapped_column(String(16), default=SuggestionStatus.PENDING.value, index=True)
    created_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    item_id: Mapped[int | None] = mapped_column(ForeignKey("picks_items.id", ondelete="SET NULL"))


class UsefulVote(Base):
    """One person found one item useful (the primary key makes it one vote per person)."""

    __tablename__ = "picks_useful_votes"

    item_id: Mapped[int] = mapped_column(ForeignKey("picks_items.id", ondelete="CASCADE"), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), primary_key=True)
    voted_at: Mapped[datetime]
