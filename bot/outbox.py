"""Planning proactive messages: one outbox row per destination and platform.

The core decides *what* to say and to *whom*; the delivery worker in ``scheduler/`` sends it.
Writing the row is idempotent: the same ``key`` for the same platform is planned once, however
many times a job or a replica runs, so a nudge can never be queued twice.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import and_, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from bot.config import AppConfig
from bot.messages import Message
from storage.db import dialect_name
from storage.models import OutboxMessage, OutboxStatus, Person, PlatformAccount

logger = logging.getLogger(__name__)

CONSOLE = "console"
NOWHERE = "none"
"""The platform of a row planned for someone reachable on no platform yet (it waits)."""
WAITING = OutboxStatus.WAITING
"""Status of a row whose destination is not reachable yet: it is re-checked at delivery and
released (``pending``) when the person or channel becomes reachable, or ``expired`` after
``outbox.waiting_days``."""
EXPIRED = OutboxStatus.EXPIRED
NOT_CAPPED = ("welcome:", "teams-reply:")
"""Idempotency-key prefixes of messages that do not use up a person's daily cap of proactive
messages: the welcome (so the install day's first reminder still goes out) and replies queued
after a direct reply failed (answers to the person, not proactive)."""
REMINDER_KINDS = frozenset({"nudge"})
"""Kinds whose deadline is the end of their day in the person's time zone."""


@dataclass(frozen=True, slots=True)
class ToPerson:
    person_id: int


@dataclass(frozen=True, slots=True)
class ToChannel:
    """An office channel by its ``key`` in ``app.yaml``."""

    key: str


Destination = ToPerson | ToChannel


@dataclass(frozen=True, slots=True)
class Planned:
    """Result of planning: ``created`` is False when the key was already planned."""

    platform: str
    created: bool
    reachable: bool
    """False when the row waits for the person to become reachable."""


async def person_platform(session: AsyncSession, person_id: int, platforms: Sequence[str]) -> str | None:
    """The enabled platform where this person was seen most recently (console reaches all)."""
    if CONSOLE in platforms:
        return CONSOLE
    account = await session.scalar(
        select(PlatformAccount)
        .where(PlatformAccount.person_id == person_id, PlatformAccount.platform.in_(platforms))
        .order_by(PlatformAccount.last_seen_at.desc())
        .limit(1)
    )
    return account.platform if account else None


def channel_platforms(config: AppConfig, key: str, platforms: Sequence[str]) -> list[str]:
    for office in config.offices:
        for channel in office.channels:
            if channel.key == key:
                found = [p for p in platforms if p == CONSOLE or getattr(channel, p, None)]
                return found
    raise KeyError(f"no channel with key '{key}' in app.yaml")


def message_kind(key: str) -> str:
    """The kind of message an idempotency key names: its first part (``nudge`` for
    ``nudge:12:first``), and for learning days the reason too (``learning-day-cancelled``
    for ``learning-day:3:cancelled:learning``), since a cancellation matters more."""
    parts = key.split(":")
    if parts[0] == "learning-day" and len(parts) > 2:
        return f"learning-day-{parts[2]}"
    return parts[0]


def default_deadline(config: AppConfig, kind: str, start: datetime, timezone: str | None) -> datetime:
    """When a message of ``kind`` planned for ``start`` stops being worth sending: the
    configured hours for its kind; a reminder at the end of its day where the person is;
    otherwise ``outbox.default_expire_hours`` later."""
    policy = config.outbox
    if kind in policy.expire_hours:
        return start + timedelta(hours=policy.expire_hours[kind])
    if kind in REMINDER_KINDS:
        zone = ZoneInfo(timezone or "UTC")
        local_day = start.astimezone(zone).date()
        return datetime.combine(local_day + timedelta(days=1), time(0), tzinfo=zone)
    return start + timedelta(hours=policy.default_expire_hours)


def _timezone_of(config: AppConfig, person: Person) -> str | None:
    """The person's own time zone if it is a real one (profiles carry odd values), else their
    office's."""
    if person.timezone:
        try:
            ZoneInfo(person.timezone)
            return person.timezone
        except (ZoneInfoNotFoundError, ValueError):
            pass
    office = next((o for o in config.offices if o.id == person.office_id), None)
    return office.timezone if office else None


_Row = tuple[str, Literal["person", "channel"], str, int | None, OutboxStatus, str | None]
"""platform, destination kind, destination key, person id, status, error."""


async def _rows(
    session: AsyncSession, config: AppConfig, platforms: Sequence[str], destination: Destination
) -> list[_Row]:
    """One outbox row per platform the destination is reached on (a waiting one if none yet)."""
    rows: list[_Row] = []
    if isinstance(destination, ToPerson):
        person = await session.get_one(Person, destination.person_id)
        platform = await person_platform(session, person.id, platforms)
        if platform is None:
            names = " or ".join(p.capitalize() for p in platforms) or "any platform"
            rows.append(
                (
                    NOWHERE,
                    "person",
                    str(person.id),
                    person.id,
                    OutboxStatus.WAITING,
                    f"not reachable yet in {names}: {person.name} has no linked account there yet",
                )
            )
        else:
            rows.append((platform, "person", str(person.id), person.id, OutboxStatus.PENDING, None))
    else:
        for platform in channel_platforms(config, destination.key, platforms):
            rows.append((platform, "channel", destination.key, None, OutboxStatus.PENDING, None))
    return rows


async def enqueue(
    session: AsyncSession,
    config: AppConfig,
    platforms: Sequence[str],
    *,
    key: str,
    destination: Destination,
    message: Message,
    now: datetime,
    not_before: datetime | None = None,
    expires_at: datetime | None = None,
) -> list[Planned]:
    """Plan ``message`` for ``destination`` under idempotency ``key``, to be delivered from
    ``not_before`` until ``expires_at`` (by default, from the message kind: see
    :func:`default_deadline`).

    A person reachable on no enabled platform yet gets a ``waiting`` row with the reason: the
    delivery worker re-checks reachability (linking by email, a Teams roster) and releases it
    without a new plan, or records it ``expired`` after ``outbox.waiting_days``. Nothing is
    silently skipped, and a reminder planned before linking is not lost.
    """
    payload = message.to_json()
    rows = await _rows(session, config, platforms, destination)
    kind = message_kind(key)
    timezone = None
    if isinstance(destination, ToPerson):
        timezone = _timezone_of(config, await session.get_one(Person, destination.person_id))
    deadline = expires_at or default_deadline(config, kind, not_before or now, timezone)
    planned: list[Planned] = []
    insert = pg_insert if dialect_name(session) == "postgresql" else sqlite_insert
    for platform, dest_kind, dest_key, person_id, status, error in rows:
        statement = (
            insert(OutboxMessage)
            .values(
                idempotency_key=key,
                platform=platform,
                destination_kind=dest_kind,
                destination_key=dest_key,
                person_id=person_id,
                payload=payload,
                status=status,
                attempts=0,
                created_at=now,
                next_attempt_at=not_before or now,
                last_error=error,
                kind=kind,
                expires_at=deadline,
            )
            .on_conflict_do_nothing(index_elements=["idempotency_key", "platform"])
        )
        result = await session.execute(statement)
        created = bool(result.rowcount)  # type: ignore[attr-defined]
        planned.append(Planned(platform=platform, created=created, reachable=status == OutboxStatus.PENDING))
        if error and created:
            logger.info("outbox %s waits: %s", key, error)
    return planned


def counts_toward_daily_cap() -> ColumnElement[bool]:
    """The outbox rows that count against ``nudges.max_messages_per_person_per_day``."""
    return and_(*(OutboxMessage.idempotency_key.not_like(f"{prefix}%") for prefix in NOT_CAPPED))


async def tally(session: AsyncSession, since: datetime) -> dict[str, int]:
    """Rows planned since ``since``, by status (``sent``, ``pending``, ``waiting``, ...): what a
    job run actually led to, for its summary."""
    rows = await session.execute(
        select(OutboxMessage.status, func.count())
        .where(OutboxMessage.created_at >= since)
        .group_by(OutboxMessage.status)
    )
    return {status: int(count) for status, count in rows}


async def supersede_waiting(session: AsyncSession, key_prefix: str, now: datetime, reason: str) -> int:
    """Expire the still-waiting rows whose key starts with ``key_prefix``: a newer message about
    the same thing replaces them (a later reminder stage), so linking delivers only the newer."""
    result = await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.status == OutboxStatus.WAITING, OutboxMessage.idempotency_key.startswith(key_prefix)
        )
        .values(status=OutboxStatus.EXPIRED, last_error=reason, next_attempt_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def waiting_count(session: AsyncSession, key_prefix: str = "") -> int:
    """Rows waiting for their destination to become reachable (optionally of one kind)."""
    query = (
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == OutboxStatus.WAITING)
    )
    if key_prefix:
        query = query.where(OutboxMessage.idempotency_key.startswith(key_prefix))
    return int(await session.scalar(query) or 0)


async def recheck_waiting(session: AsyncSession, person_ids: Sequence[int], now: datetime) -> int:
    """Ask the delivery worker to re-check these people's waiting messages now (they were just
    linked to a platform account), instead of at the next periodic re-check."""
    ids = list(person_ids)
    woken = 0
    for start in range(0, len(ids), 900):  # well under every database's bound-parameter limit
        result = await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.status == WAITING, OutboxMessage.person_id.in_(ids[start : start + 900]))
            .values(next_attempt_at=now)
            .execution_options(synchronize_session=False)
        )
        woken += int(result.rowcount)  # type: ignore[attr-defined]
    return woken


async def already_planned(session: AsyncSession, key: str) -> bool:
    return (
        await session.scalar(select(OutboxMessage.id).where(OutboxMessage.idempotency_key == key).limit(1))
    ) is not None
