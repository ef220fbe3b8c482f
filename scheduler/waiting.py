"""Messages waiting for their destination to become reachable, re-checked at delivery.

A reminder planned for someone imported from the LMS who is not linked to any chat account yet,
or a post for a Teams channel whose team Learnbot has not been added to yet, is not failed: it
waits in the outbox (status ``waiting``). Before each delivery round the worker asks each
platform whether the destination is reachable now:

* each row is checked when it is due: right after it was planned, every ``recheck`` after that,
  and at once when linking wakes it up (:func:`bot.outbox.recheck_waiting`);
* a platform answers from what is stored first (a linked account, a Teams roster) and only then
  asks its API (Slack ``users.lookupByEmail``), once per destination per round.

A reachable row is released (``pending``, on that platform) and delivered in the same round; a
row still unreachable after ``expiry``, or at its own deadline (``expires_at``), is recorded
``expired`` with the reason, so the learning manager sees it. Nothing is planned again: linking
later releases what was already planned.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol, runtime_checkable

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.outbox import EXPIRED, NOWHERE, WAITING
from storage.models import OutboxMessage, OutboxStatus, Person

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Target:
    """A waiting row's destination, as a platform needs it to say whether it is reachable."""

    destination_kind: str  # "person" or "channel"
    destination_key: str
    person_id: int | None = None
    email: str | None = None
    name: str = ""


@runtime_checkable
class Finder(Protocol):
    """A deliverer that can tell (and make) a destination reachable: link a person by email,
    find a channel in a synced Teams team."""

    platform: str

    async def reachable(self, target: Target) -> bool: ...


@dataclass(slots=True)
class ReleaseReport:
    released: int = 0
    expired: int = 0
    still_waiting: int = 0
    answers: dict[tuple[str, str, str], bool] = field(default_factory=dict)


async def release_waiting(
    sessions: async_sessionmaker[AsyncSession],
    finders: Mapping[str, Finder],
    now: datetime,
    *,
    expiry: timedelta,
    recheck: timedelta,
    batch_size: int = 200,
) -> ReleaseReport:
    """Release, expire or re-schedule the waiting rows that are due a check."""
    report = ReleaseReport()
    async with sessions() as session:
        rows = (
            await session.execute(
                select(OutboxMessage, Person)
                .outerjoin(Person, Person.id == OutboxMessage.person_id)
                .where(OutboxMessage.status == WAITING, OutboxMessage.next_attempt_at <= now)
                .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
                .limit(batch_size)
            )
        ).all()
        for row, person in rows:
            await _check(session, row, person, finders, now, expiry, recheck, report)
        await session.commit()
    if report.released or report.expired:
        logger.info(
            "waiting messages: %d released, %d expired, %d still waiting",
            report.released,
            report.expired,
            report.still_waiting,
        )
    return report


async def _check(
    session: AsyncSession,
    row: OutboxMessage,
    person: Person | None,
    finders: Mapping[str, Finder],
    now: datetime,
    expiry: timedelta,
    recheck: timedelta,
    report: ReleaseReport,
) -> None:
    target = Target(
        destination_kind=row.destination_kind,
        destination_key=row.destination_key,
        person_id=row.person_id,
        email=person.email if person else None,
        name=person.name if person else "",
    )
    if row.expires_at is not None and row.expires_at <= now:
        deadline = row.expires_at.isoformat(timespec="minutes")
        row.status = EXPIRED
        row.last_error = (
            f"expired: not reachable by its deadline ({deadline}): {row.last_error or 'not reachable'}"
        )
        logger.warning("outbox %s: %s", row.idempotency_key, row.last_error)
        report.expired += 1
        return
    # Platforms that answer from what is stored go before those that call an API for it.
    candidates = (
        sorted(finders, key=lambda name: getattr(finders[name], "asks_platform", False))
        if row.platform == NOWHERE
        else [row.platform]
    )
    for platform in candidates:
        finder = finders.get(platform)
        if finder is None:
            continue
        if await _reachable(finder, target, report) and await _release(session, row, platform, now):
            report.released += 1
            return
    if row.created_at + expiry <= now:
        days = expiry.total_seconds() / 86400
        row.status = EXPIRED
        row.last_error = f"expired after waiting {days:g} day(s): {row.last_error or 'not reachable'}"
        logger.warning("outbox %s: %s", row.idempotency_key, row.last_error)
        report.expired += 1
        return
    row.next_attempt_at = now + recheck
    if row.expires_at is not None:  # checked once more at the deadline, then expired
        row.next_attempt_at = min(row.next_attempt_at, row.expires_at)
    report.still_waiting += 1


async def _reachable(finder: Finder, target: Target, report: ReleaseReport) -> bool:
    """One answer per destination and platform per round (many reminders wait for one person)."""
    memo = (finder.platform, target.destination_kind, target.destination_key)
    if memo in report.answers:
        return report.answers[memo]
    try:
        answer = await finder.reachable(target)
    except Exception:
        logger.exception("could not check whether %s is reachable in %s", memo[1:], finder.platform)
        answer = False
    report.answers[memo] = answer
    return answer


async def _release(session: AsyncSession, row: OutboxMessage, platform: str, now: datetime) -> bool:
    """Move the row to ``pending`` on ``platform`` (only if still waiting: another replica may
    have released it). A row already planned there under the same key wins; this one expires."""
    try:
        async with session.begin_nested():
            result = await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == row.id, OutboxMessage.status == WAITING)
                .values(platform=platform, status=OutboxStatus.PENDING, next_attempt_at=now, last_error=None)
                .execution_options(synchronize_session=False)
            )
    except IntegrityError:
        row.status, row.last_error = EXPIRED, f"already planned on {platform} under the same key"
        return False
    return bool(result.rowcount)  # type: ignore[attr-defined]


@dataclass(slots=True)
class _TryAgain:
    """A platform that cannot tell: a waiting row is simply tried again at each re-check."""

    platform: str

    async def reachable(self, target: Target) -> bool:
        return True


def waiting_finders(deliverers: Mapping[str, object]) -> dict[str, Finder]:
    """Each platform's way to say whether a destination is reachable."""
    return {name: d if isinstance(d, Finder) else _TryAgain(name) for name, d in deliverers.items()}


__all__: Sequence[str] = ("Finder", "ReleaseReport", "Target", "release_waiting", "waiting_finders")
