"""Data access for learning days: look-ups, RSVP counts, agenda, and the recurring-day generator."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import AppConfig, Office
from bot.errors import UserError
from bot.features.learning_days.rules import DEFAULT_ANCHOR, parse_rule
from bot.i18n import N_
from storage.db import dialect_name
from storage.learning_days import CANCELLED, RSVP_ANSWERS, SCHEDULED, AgendaSession, LearningDay, Rsvp
from storage.models import Person

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Counts:
    going: int = 0
    maybe: int = 0
    no: int = 0

    def describe(self) -> str:
        return f"Going {self.going} · Maybe {self.maybe} · Can't {self.no}"


@dataclass(frozen=True, slots=True)
class AgendaItem:
    title: str
    presenter: str
    source: str


def starts_at(day: LearningDay) -> datetime:
    """The day's start as an aware instant (dates and times are stored in office time)."""
    return datetime.combine(day.date, day.start_time, tzinfo=ZoneInfo(day.timezone))


def ends_at(day: LearningDay) -> datetime:
    return datetime.combine(day.date, day.end_time, tzinfo=ZoneInfo(day.timezone))


def is_over(day: LearningDay, now: datetime) -> bool:
    return ends_at(day) <= now


async def get_day(session: AsyncSession, day_id: int) -> LearningDay:
    day = await session.get(LearningDay, day_id)
    if day is None:
        raise UserError(
            N_("There is no learning day number {number}. `/learning days` lists them with their numbers."),
            number=day_id,
        )
    return day


def parse_day_id(text: str) -> int:
    cleaned = text.strip().lstrip("#")
    if not cleaned.isdigit():
        raise UserError(
            N_("'{text}' is not a learning day number; `/learning days` shows each day's number."), text=text
        )
    return int(cleaned)


async def upcoming(
    session: AsyncSession, office_id: str | None, now: datetime, *, within_days: int | None = None
) -> list[LearningDay]:
    """Scheduled days not yet over, soonest first (``office_id=None``: every office), optionally
    only those dated within ``within_days`` of today."""
    earliest = now.date() - timedelta(days=1)  # no time zone is more than a day behind UTC
    query = select(LearningDay).where(LearningDay.status == SCHEDULED, LearningDay.date >= earliest)
    if within_days is not None:
        query = query.where(LearningDay.date <= now.date() + timedelta(days=within_days + 1))
    if office_id is not None:
        query = query.where(LearningDay.office_id == office_id)
    days = (
        await session.scalars(query.order_by(LearningDay.date, LearningDay.start_time, LearningDay.id))
    ).all()
    return [day for day in days if not is_over(day, now)]


async def counts(session: AsyncSession, day_id: int) -> Counts:
    rows = await session.execute(
        select(Rsvp.answer, func.count()).where(Rsvp.day_id == day_id).group_by(Rsvp.answer)
    )
    found = {answer: int(number) for answer, number in rows.all()}
    return Counts(going=found.get("going", 0), maybe=found.get("maybe", 0), no=found.get("no", 0))


async def answer_of(session: AsyncSession, day_id: int, person_id: int) -> str | None:
    rsvp = await session.get(Rsvp, (day_id, person_id))
    return rsvp.answer if rsvp else None


async def set_answer(session: AsyncSession, day_id: int, person_id: int, answer: str, now: datetime) -> None:
    """Record a person's answer: one row per person and day, the latest press wins. An upsert, so
    two quick presses (or a platform retry racing the first) never fail on the primary key."""
    if answer not in RSVP_ANSWERS:
        raise UserError(N_("That answer isn't one I know; press Going, Maybe or Can't."))
    insert = pg_insert if dialect_name(session) == "postgresql" else sqlite_insert
    statement = insert(Rsvp).values(day_id=day_id, person_id=person_id, answer=answer, updated_at=now)
    statement = statement.on_conflict_do_update(
        index_elements=["day_id", "person_id"],
        set_={"answer": statement.excluded.answer, "updated_at": statement.excluded.updated_at},
    )
    await session.execute(statement)


async def people_answering(session: AsyncSession, day_id: int, answers: tuple[str, ...]) -> list[int]:
    rows = await session.scalars(
        select(Rsvp.person_id).where(Rsvp.day_id == day_id, Rsvp.answer.in_(answers)).order_by(Rsvp.person_id)
    )
    return list(rows)


async def answers(session: AsyncSession, day_id: int) -> dict[str, list[str]]:
    """Answer -> names (sorted), for the learning manager's view of who is coming."""
    rows = await session.execute(
        select(Rsvp.answer, Person).join(Person, Person.id == Rsvp.person_id).where(Rsvp.day_id == day_id)
    )
    found: dict[str, list[str]] = {answer: [] for answer in RSVP_ANSWERS}
    for answer, person in rows.all():
        found.setdefault(answer, []).append(person.name)
    return {answer: sorted(names, key=str.lower) for answer, names in found.items()}


async def agenda(session: AsyncSession, day_id: int) -> list[AgendaItem]:
    rows = await session.execute(
        select(AgendaSession, Person)
        .outerjoin(Person, Person.id == AgendaSession.presenter_person_id)
        .where(AgendaSession.day_id == day_id)
        .order_by(AgendaSession.created_at, AgendaSession.id)
    )
    return [
        AgendaItem(item.title, person.name if person is not None else "", item.source)
        for item, person in rows.all()
    ]


async def add_agenda_session(
    session: AsyncSession,
    *,
    day_id: int,
    title: str,
    presenter_person_id: int | None,
    source: str,
    now: datetime,
) -> int:
    """Put a session on a day's agenda (shown in the next announcements) and return its id.

    Raises :class:`~bot.errors.UserError` for an unknown, cancelled or past day."""
    day = await session.get(LearningDay, day_id)
    if day is None:
        raise UserError(N_("There is no learning day number {number}."), number=day_id)
    if day.status == CANCELLED:
        raise UserError(
            N_("Learning day {number} ({title}) was cancelled, so it has no agenda."),
            number=day_id,
            title=day.title,
        )
    if is_over(day, now):
        raise UserError(
            N_("Learning day {number} ({title}) is over; pick an upcoming one from `/learning days`."),
            number=day_id,
            title=day.title,
        )
    title = " ".join(title.split())
    if not title:
        raise UserError(N_("A session needs a title."))
    if len(title) > 300:
        raise UserError(N_("That session title is too long; keep it under 300 characters."))
    item = AgendaSession(
        day_id=day_id, title=title, presenter_person_id=presenter_person_id, source=source, created_at=now
    )
    session.add(item)
    await session.flush()
    return item.id


async def generate_recurring(session: AsyncSession, config: AppConfig, now: datetime) -> int:
    """Create the next ``generate_ahead`` occurrences of every recurring rule that don't exist yet.

    Idempotent: (office, rule, occurrence date) is unique, and a cancelled or rescheduled
    occurrence keeps its ``rule_date``, so it is never generated again. A savepoint absorbs a
    concurrent replica inserting the same occurrence first."""
    section = config.learning_days
    created = 0
    for rule_config in section.recurring:
        office: Office = config.office(rule_config.office)
        zone = ZoneInfo(office.timezone)
        start: time = rule_config.start or section.start
        end: time = rule_config.end or section.end
        today = now.astimezone(zone).date()
        if datetime.combine(today, end, tzinfo=zone) <= now:
            today += timedelta(days=1)  # today's occurrence would already be over
        after = max(today, rule_config.starting) if rule_config.starting else today
        anchor = rule_config.starting or DEFAULT_ANCHOR
        wanted = parse_rule(rule_config.rule).dates(after, section.generate_ahead, anchor=anchor)
        existing = set(
            await session.scalars(
                select(LearningDay.rule_date).where(
                    LearningDay.office_id == office.id,
                    LearningDay.rule_id == rule_config.id,
                    LearningDay.rule_date.in_(wanted),
                )
            )
        )
        for occurrence in wanted:
            if occurrence in existing:
                continue
            day = LearningDay(
                office_id=office.id,
                timezone=office.timezone,
                date=occurrence,
                start_time=start,
                end_time=end,
                title=rule_config.title,
                theme=rule_config.theme,
                place=rule_config.place,
                online_url=rule_config.online_url,
                status=SCHEDULED,
                rule_id=rule_config.id,
                rule_date=occurrence,
                version=1,
                created_at=now,
            )
            try:
                async with session.begin_nested():
                    session.add(day)
            except IntegrityError:
                logger.info(
                    "learning day %s on %s was generated by another replica", rule_config.id, occurrence
                )
                continue
            created += 1
    return created
