"""The core tables every feature builds on.

Feature tables live in their own modules under ``storage/`` and share :class:`Base`;
``storage.registry`` imports them all so Alembic and ``create_all`` see the whole schema.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, MetaData, String, Text, UniqueConstraint
from sqlalchemy.ext.asyncio import AsyncAttrs
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from storage.types import JSONType, UTCDateTime

# Named constraints so Alembic migrations are identical on SQLite (batch mode) and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(AsyncAttrs, DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSONType()}


class Person(Base):
    """One human, whatever platforms they use (linked by email)."""

    __tablename__ = "people"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    timezone: Mapped[str | None] = mapped_column(String(64))
    locale: Mapped[str | None] = mapped_column(String(16))
    """The platform's locale for this person (Slack ``users.info``, the Teams activity)."""
    language: Mapped[str | None] = mapped_column(String(16))
    """The language the person chose (``/learning language fr``); wins over every locale."""
    office_id: Mapped[str | None] = mapped_column(String(64), index=True)
    office_source: Mapped[str] = mapped_column(String(16), default="default", server_default="default")
    """Who placed the person in ``office_id`` (see :class:`bot.people.OfficeSource`): a later
    source may only overwrite it when it ranks at least as high."""
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    accounts: Mapped[list[PlatformAccount]] = relationship(back_populates="person")

    @property
    def name(self) -> str:
        return self.display_name or (self.email or f"person {self.id}")


class PlatformAccount(Base):
    """A person's account on one platform (a Slack user in a workspace, a Teams user)."""

    __tablename__ = "platform_accounts"
    __table_args__ = (
        UniqueConstraint("platform", "workspace_id", "external_id", name="uq_platform_accounts_identity"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    platform: Mapped[str] = mapped_column(String(16))
    workspace_id: Mapped[str] = mapped_column(String(128), default="")
    external_id: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]

    person: Mapped[Person] = relationship(back_populates="accounts")


class ConversationRef(Base):
    """How to reach a person or a channel later, per platform (a Teams conversation reference,
    a Slack DM channel id). Kept in the database so proactive messages survive restarts and work
    from any replica."""

    __tablename__ = "conversation_refs"
    __table_args__ = (
        UniqueConstraint("platform", "owner_kind", "owner_key", name="uq_conversation_refs_owner"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    owner_kind: Mapped[str] = mapped_column(String(16))  # "person" or "channel"
    owner_key: Mapped[str] = mapped_column(String(256))
    reference: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime]


class OutboxStatus(StrEnum):
    """Where an outbox row stands (the values are the stored column values). Only ``sending``
    means a send may be under way."""

    PENDING = "pending"  # due at next_attempt_at
    CLAIMED = "claimed"  # a worker holds it (lease) and waits for the rate limiter: not sent
    SENDING = "sending"  # the send has started; a lapsed lease means "ask before resending"
    SENT = "sent"
    FAILED = "failed"  # rejected for good, with the reason in last_error
    EXPIRED = "expired"  # its deadline passed (or it waited ``outbox.waiting_days`` unreachable)
    WAITING = "waiting"
    """The destination is not reachable yet (re-checked at delivery, see scheduler/waiting.py)."""
    UNCONFIRMED = "unconfirmed"  # sent once, the answer was ambiguous, and the platform cannot
    # be read back: not resent, by the message kind's at-most-once policy


class OutboxMessage(Base):
    """One proactive message to deliver, exactly once.

    ``idempotency_key`` names the *reason* for the message (``nudge:<assignment>:<stage>``), so
    planning the same message twice is a no-op. Status moves pending -> sending -> sent/failed;
    a row left in ``sending`` by a crash is reconciled with the platform before any resend.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("idempotency_key", "platform", name="uq_outbox_key_platform"),
        Index("ix_outbox_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(300))
    platform: Mapped[str] = mapped_column(String(16))
    destination_kind: Mapped[str] = mapped_column(String(16))  # "person" or "channel"
    destination_key: Mapped[str] = mapped_column(String(256))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"), index=True)
    payload: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(16), default=OutboxStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]
    next_attempt_at: Mapped[datetime]
    claimed_by: Mapped[str | None] = mapped_column(String(128))
    lease_until: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    platform_message_id: Mapped[str | None] = mapped_column(String(256))
    last_error: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(64), default="")
    """What sort of message (``nudge``, ``learning-day-cancelled``, ...): it decides what an
    ambiguous send means where the platform cannot be read back (at most or at least once)."""
    expires_at: Mapped[datetime | None]
    """Give up at this time (a reminder is useless after its day), never by a count of tries."""
    in_doubt_since: Mapped[datetime | None]
    """Set when a send starts, cleared when its outcome is known. Still set on a claimed row =
    an earlier send may have arrived: ask the platform (or apply the kind's policy) first."""


class RateBucket(Base):
    """Shared pacing for one platform bucket (a workspace, a channel, a tenant), so every
    replica counts the same sends and honours the same Retry-After pause.

    ``stamps`` are the start times (database clock, epoch seconds) of the sends inside the
    bucket's window; ``paused_until`` is the end of the latest Retry-After."""

    __tablename__ = "rate_buckets"

    bucket: Mapped[str] = mapped_column(String(300), primary_key=True)
    stamps: Mapped[list[float]] = mapped_column(JSONType(), default=list)
    paused_until: Mapped[float] = mapped_column(Float, default=0.0)
    touched_at: Mapped[float] = mapped_column(Float, default=0.0)


class DialogState(Base):
    """Where a person is in a multi-turn conversation (one at a time per person).

    Stored, not kept in memory, so a restart or another replica can continue it."""

    __tablename__ = "dialog_states"

    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), primary_key=True)
    dialog: Mapped[str] = mapped_column(String(64))
    step: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class SeenEvent(Base):
    """Inbound platform events already handled, so a platform retry is handled once."""

    __tablename__ = "seen_events"

    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(256), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(index=True)


class InboxStatus(StrEnum):
    """Where an inbox row is. ``pending`` -> ``taken`` (a process holds its lease) ->
    ``answered`` (the core handled it, the replies are stored with it) -> ``done``. A row
    whose process died keeps its status; once its lease passes, another process takes it on
    from where it stood. ``failed`` after too many tries (a request that crashes the process)."""

    PENDING = "pending"
    TAKEN = "taken"
    ANSWERED = "answered"
    DONE = "done"
    FAILED = "failed"


class InboxItem(Base):
    """An inbound request (a Slack event, command or interaction; a Teams activity), written
    before it is acknowledged and then processed from here, exactly once, by whichever process
    holds its lease, also after a crash right after the ack (platforms do not resend an acked
    request).

    ``dedup_key`` is the platform's id of the request (a Slack retry of the same event is not a
    second row); ``order_key`` is the person: their rows are processed one at a time, oldest
    first, so a burst of messages is answered in order. ``replies`` are written in the same
    transaction as the core's changes, so a crash after that only resends what was not sent."""

    __tablename__ = "inbox"
    __table_args__ = (
        UniqueConstraint("platform", "dedup_key", name="uq_inbox_platform_key"),
        Index("ix_inbox_open", "status", "lease_until"),
        Index("ix_inbox_order", "order_key", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(32))
    dedup_key: Mapped[str] = mapped_column(String(300))
    order_key: Mapped[str] = mapped_column(String(300))
    payload: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(16), default=InboxStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(default=0)
    received_at: Mapped[datetime]
    claimed_by: Mapped[str | None] = mapped_column(String(128))
    lease_until: Mapped[datetime | None]
    replies: Mapped[dict[str, Any] | None]
    replies_sent: Mapped[int] = mapped_column(default=0)
    done_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
