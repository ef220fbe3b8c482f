"""The nudge sweep: decide who gets a reminder now, then plan each one through the outbox.

Deciding is separate from planning so it can be measured (bench/nudge_sweep.py) and so the
rules are in one place: a reminder goes out only

* when the assignment's ``next_nudge_on`` has come in the person's own time zone,
* inside their office's working hours, on a working day, in that time zone,
* while the person has had fewer than ``max_messages_per_person_per_day`` proactive messages
  from Learnbot today (any feature: the outbox is counted, whatever the key, except the welcome
  and queued replies, see :data:`bot.outbox.NOT_CAPPED`), most urgent first.

A reminder for someone not reachable yet waits in the outbox and is delivered once they are
linked, so its stage is used only when it is delivered or has definitively expired: a newer
stage replaces a reminder still waiting (one reminder, the current one, arrives on linking).

One indexed range read (``next_nudge_on <= the latest local date on Earth``) finds the
candidates; everything else is arithmetic on those rows.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Select, and_, func, or_, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from bot.config import AppConfig, WorkingHours
from bot.features.nudges import texts
from bot.features.nudges.config import NudgePolicy
from bot.features.nudges.stages import Stage, current_stage, next_stage_on
from bot.i18n import Translator
from bot.outbox import ToPerson, counts_toward_daily_cap, supersede_waiting, waiting_count
from storage.models import OutboxMessage, Person
from storage.nudges import Assignment

if TYPE_CHECKING:
    from bot.core import Learnbot

logger = logging.getLogger(__name__)

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
CAP_CHUNK = 900  # person ids per IN (...) query; SQLite's bound-parameter limit is far above
BULK_CAP_CHECK = 5 * CAP_CHUNK
RANK_SLACK = 0
"""Rows per person read beyond the cap. A stale row (its stage already sent, e.g. after a
policy change) is moved on by the sweep that reads it, so the person's next row is read an
hour later; reading extra rows for that rare case would cost every sweep."""


@dataclass(frozen=True, slots=True)
class LocalTime:
    """'Now' in one time zone, as the sweep needs it."""

    today: date
    clock: time
    weekday: str
    midnight_utc: datetime


@dataclass(frozen=True, slots=True)
class DueNudge:
    assignment_id: int
    person_id: int
    course_id: str
    due_on: date
    stage: Stage
    local_today: date


@dataclass(slots=True)
class Decision:
    due: list[DueNudge] = field(default_factory=list)
    advance: dict[int, date | None] = field(default_factory=dict)
    """Assignments with nothing to send (stage already sent, course gone): their new next_nudge_on."""
    capped: int = 0
    candidates: int = 0


def local_time(zone: str, now: datetime, fallback: str = "UTC") -> LocalTime:
    """``fallback`` (the office's zone) stands in for a zone name this system does not know,
    so one odd profile cannot stop the sweep for everyone."""
    try:
        tz = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        logger.warning("unknown time zone %r; using %s", zone, fallback)
        tz = ZoneInfo(fallback)
    local = now.astimezone(tz)
    midnight = datetime.combine(local.date(), time(0), tzinfo=local.tzinfo)
    return LocalTime(local.date(), local.time(), WEEKDAYS[local.weekday()], midnight.astimezone(now.tzinfo))


def is_working_time(hours: WorkingHours, local: LocalTime) -> bool:
    return local.weekday not in hours.weekend and hours.start <= local.clock < hours.end


async def sent_today(session: AsyncSession, midnights: dict[int, datetime], now: datetime) -> dict[int, int]:
    """Proactive messages planned for each person since their local midnight (every feature's).

    A few people: indexed look-ups by person. Many: one pass over the last day of the outbox,
    which is cheaper than thousands of look-ups.
    """
    counts: dict[int, int] = defaultdict(int)
    since = now - timedelta(hours=27)  # local midnight is never further back than this
    recent = select(OutboxMessage.person_id, OutboxMessage.created_at).where(
        OutboxMessage.created_at >= since, counts_toward_daily_cap()
    )
    ids = list(midnights)
    if len(ids) > BULK_CAP_CHECK:
        batches = [recent.where(OutboxMessage.person_id.is_not(None))]
    else:
        batches = [
            recent.where(OutboxMessage.person_id.in_(ids[start : start + CAP_CHUNK]))
            for start in range(0, len(ids), CAP_CHUNK)
        ]
    connection = await session.connection()
    for statement in batches:
        for person_id, created_at in await connection.execute(statement):
            midnight = midnights.get(person_id) if person_id is not None else None
            if person_id is not None and midnight is not None and created_at >= midnight:
                counts[person_id] += 1
    return counts


def _capped_since(midnight: datetime, cap: int) -> Select[Any]:
    """People who already had ``cap`` proactive messages since ``midnight`` (any feature)."""
    return (
        select(OutboxMessage.person_id)
        .where(
            OutboxMessage.created_at >= midnight,
            OutboxMessage.person_id.is_not(None),
            counts_toward_daily_cap(),
        )
        .group_by(OutboxMessage.person_id)
        .having(func.count() >= cap)
    )


async def working_now(
    session: AsyncSession, config: AppConfig, now: datetime, *, under_cap: bool = True
) -> ColumnElement[bool] | None:
    """A filter for the assignments to consider now: the person is in working hours and not yet
    at today's cap, and the reminder is due on their local date. With ``under_cap=False`` the
    cap is left out (to count what it holds back).

    People fall in few (time zone, office) groups (the offices' zones plus the zones people set
    themselves), so hours are decided per group in Python and applied in SQL; the cap uses each
    group's local midnight. Everyone off the clock or already reminded today stays out of the
    sweep's read, which keeps later sweeps of a busy day as cheap as quiet ones.
    """
    offices = {office.id: office for office in config.offices}
    default_office = config.office(None)
    cap = config.nudges.max_messages_per_person_per_day
    groups = await session.execute(select(Person.timezone, Person.office_id).distinct())
    by_midnight: dict[tuple[datetime, date], list[ColumnElement[bool]]] = defaultdict(list)
    for zone, office_id in groups:
        office = offices.get(office_id or "", default_office)
        local = local_time(zone or office.timezone, now, office.timezone)
        if is_working_time(office.working_hours, local):
            by_midnight[(local.midnight_utc, local.today)].append(
                and_(
                    Person.timezone == zone if zone else Person.timezone.is_(None),
                    Person.office_id == office_id if office_id else Person.office_id.is_(None),
                )
            )
    conditions = [
        and_(
            or_(*groups_here),
            Assignment.next_nudge_on <= today,
            Person.id.not_in(_capped_since(midnight, cap)) if under_cap else true(),
        )
        for (midnight, today), groups_here in by_midnight.items()
    ]
    return or_(*conditions) if conditions else None


async def held_by_cap(
    session: AsyncSession, config: AppConfig, now: datetime, horizon: date, read: int
) -> int:
    """Reminders due now that the cap holds back: every due one for people in working hours,
    less those the sweep read (it reads only people under the cap, and only each one's first
    few), counted in one query so "held back by the daily cap" is never a silent 0."""
    due = await working_now(session, config, now, under_cap=False)
    if due is None:
        return 0
    count = await session.scalar(
        select(func.count())
        .select_from(Assignment)
        .join(Person, Person.id == Assignment.person_id)
        .where(Assignment.next_nudge_on <= horizon, Assignment.completed_on.is_(None), due)
    )
    return max(int(count or 0) - read, 0)


def _due_rows(policy: NudgePolicy, working: ColumnElement[bool], horizon: date) -> Select[Any]:
    """Open assignments whose next reminder is due by ``horizon`` for people in working time."""
    # Only each person's most urgent few: the daily cap lets no more through anyway, and this
    # keeps the rows read proportional to people, not to their backlog.
    rank = (
        func.row_number()
        .over(partition_by=Assignment.person_id, order_by=(Assignment.due_on, Assignment.id))
        .label("rank")
    )
    ranked = (
        select(
            Assignment.id,
            Assignment.person_id,
            Assignment.course_id,
            Assignment.due_on,
            Assignment.snoozed_until,
            Assignment.last_stage,
            Person.timezone,
            Person.office_id,
            rank,
        )
        .join(Person, Person.id == Assignment.person_id)
        .where(Assignment.next_nudge_on <= horizon, Assignment.completed_on.is_(None), working)
        .subquery()
    )
    return select(*[column for column in ranked.c if column.name != "rank"]).where(
        ranked.c.rank <= policy.max_messages_per_person_per_day + RANK_SLACK
    )


async def decide(session: AsyncSession, config: AppConfig, now: datetime) -> Decision:
    """Who is due a reminder right now (no writes)."""
    policy = config.nudges
    decision = Decision()
    working = await working_now(session, config, now)
    if working is None:
        return decision
    horizon = (now + timedelta(days=1)).date()  # the latest local date anywhere (UTC+14)
    statement = _due_rows(policy, working, horizon)
    # Plain Core rows: the ORM adds nothing to a read of tuples, and costs time per row.
    rows = await (await session.connection()).execute(statement)
    courses = {course.id for course in config.courses}
    offices = {office.id: office for office in config.offices}
    default_office = config.office(None)
    zones: dict[str, LocalTime] = {}
    stages: dict[tuple[date, date | None, date], tuple[Stage | None, date | None]] = {}
    wanted: dict[int, list[DueNudge]] = defaultdict(list)
    midnights: dict[int, datetime] = {}
    read = 0
    for assignment_id, person_id, course_id, due_on, snoozed, last_stage, zone, office_id in rows:
        read += 1
        office_zone = offices.get(office_id or "", default_office).timezone
        zone = zone or office_zone
        local = zones.get(zone)
        if local is None:
            local = zones[zone] = local_time(zone, now, office_zone)
        if course_id not in courses:
            decision.advance[assignment_id] = None
            continue
        memo = (due_on, snoozed, local.today)
        known = stages.get(memo)
        if known is None:
            known = stages[memo] = (
                current_stage(due_on, policy, snoozed, local.today),
                next_stage_on(due_on, policy, snoozed, local.today),
            )
        stage, following = known
        if stage is None or stage.name == last_stage:
            decision.advance[assignment_id] = following
            continue
        decision.candidates += 1
        wanted[person_id].append(DueNudge(assignment_id, person_id, course_id, due_on, stage, local.today))
        midnights[person_id] = local.midnight_utc
    counts = await sent_today(session, midnights, now)
    cap = policy.max_messages_per_person_per_day
    for person_id, nudges in wanted.items():
        room = max(cap - counts.get(person_id, 0), 0)
        nudges.sort(key=lambda n: (n.due_on, n.assignment_id))  # most overdue first
        decision.due.extend(nudges[:room])
        decision.capped += len(nudges) - min(room, len(nudges))
    decision.capped += await held_by_cap(session, config, now, horizon, read)
    return decision


async def apply_advances(session: AsyncSession, advance: dict[int, date | None], now: datetime) -> None:
    if not advance:
        return
    await session.execute(
        update(Assignment),
        [{"id": key, "next_nudge_on": value, "updated_at": now} for key, value in advance.items()],
    )


async def sweep(app: Learnbot, session: AsyncSession) -> str:
    """Plan every reminder that is due now; safe to run as often and on as many replicas as wanted."""
    now = app.clock.now()
    decision = await decide(session, app.config, now)
    await apply_advances(session, decision.advance, now)
    people = await _names(app, session, (n.person_id for n in decision.due))
    planned = waiting = 0
    for item in decision.due:
        course = app.config.course(item.course_id)
        assert course is not None  # decide() skips courses no longer in app.yaml
        name, t = people.get(item.person_id, ("", app.i18n.choose(None)))
        message = texts.nudge(
            t,
            name,
            course,
            item.due_on,
            item.stage,
            item.assignment_id,
            item.local_today,
        )
        # A reminder of an earlier stage still waiting for the person to become reachable is
        # replaced by this one: linking delivers the current reminder, not two.
        await supersede_waiting(
            session, f"nudge:{item.assignment_id}:", now, f"replaced by the '{item.stage.name}' reminder"
        )
        result = await app.plan(
            session,
            destination=ToPerson(item.person_id),
            message=message,
            key=f"nudge:{item.assignment_id}:{item.stage.name}",
        )
        planned += sum(1 for p in result if p.created)
        waiting += sum(1 for p in result if p.created and not p.reachable)
        assignment = await session.get_one(Assignment, item.assignment_id)
        assignment.last_stage = item.stage.name
        assignment.last_nudge_at = now
        assignment.next_nudge_on = next_stage_on(
            item.due_on, app.config.nudges, assignment.snoozed_until, item.local_today
        )
        assignment.updated_at = now
    return texts.sweep_summary(planned, waiting, decision.capped, await waiting_count(session, "nudge:"))


async def _names(
    app: Learnbot, session: AsyncSession, person_ids: Iterable[int]
) -> dict[int, tuple[str, Translator]]:
    """Each person's name and language (their choice, platform locale, office locale)."""
    ids: Sequence[int] = sorted(set(person_ids))
    names: dict[int, tuple[str, Translator]] = {}
    columns = (Person.id, Person.display_name, Person.language, Person.locale, Person.office_id)
    for start in range(0, len(ids), CAP_CHUNK):
        rows = await session.execute(select(*columns).where(Person.id.in_(ids[start : start + CAP_CHUNK])))
        for person_id, name, language, locale, office_id in rows:
            office_locale = app.config.office(office_id).locale
            names[person_id] = (name, app.i18n.choose(language, locale, office_locale))
    return names
