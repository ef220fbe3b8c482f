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

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import AppConfig
from bot.messages import Message
from storage.db import dialect_name
from storage.models import OutboxMessage, OutboxStatus, Person, PlatformAccount

logger = logging.getLogger(__name__)

CONSOLE = "console"
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
    """One outbox row per platform the destination is reached on (a failed one if none)."""
    rows: list[_Row] = []
    if isinstance(destination, ToPerson):
        person = await session.get_one(Person, destination.person_id)
        platform = await person_platform(session, person.id, platforms)
        if platform is None:
            names = " or ".join(p.capitalize() for p in platforms) or "any platform"
            rows.append(
                (
                    "none",
                    "person",
                    str(person.id),
                    person.id,
                    OutboxStatus.FAILED,
                    f"not reachable in {names}: {person.name} has no linked account there yet",
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

    A person reachable on no enabled platform still gets a row, recorded as failed with the
    reason, so "not reachable" is visible to the learning manager instead of silently skipped.
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
            logger.warning("outbox %s: %s", key, error)
    return planned


async def already_planned(session: AsyncSession, key: str) -> bool:
    return (
        await session.scalar(select(OutboxMessage.id).where(OutboxMessage.idempotency_key == key).limit(1))
    ) is not None
