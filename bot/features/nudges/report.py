"""The learning manager's compliance picture: per course, how many are assigned, done and
overdue, with the change since a week ago. Only learning managers ever see it, and only for
their own office; nobody else learns who is overdue.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from bot.config import AppConfig, Office
from bot.i18n import Translator
from bot.messages import Divider, Fields, Header, Message, Note, Text
from bot.reach import Unreachable, unreachable_people
from storage.models import Person
from storage.nudges import Assignment, Source

OVERDUE_NAMES_SHOWN = 15
UNREACHABLE_SHOWN = 10
TEXT_LIMIT = 2900


@dataclass(frozen=True, slots=True)
class Counts:
    assigned: int
    done: int
    overdue: int


@dataclass(slots=True)
class CourseLine:
    course_id: str
    title: str
    now: Counts
    week_ago: Counts
    awaiting_confirmation: int = 0
    overdue_people: list[str] = field(default_factory=list)


def _office_filter(config: AppConfig, office: Office) -> ColumnElement[bool]:
    """People of this office (people with no office belong to the default one)."""
    if office.id == config.office(None).id:
        return or_(Person.office_id == office.id, Person.office_id.is_(None))
    return Person.office_id == office.id


async def _counts(session: AsyncSession, config: AppConfig, office: Office, as_of: date) -> dict[str, Counts]:
    """Per course, people (not rounds) as they stood at the end of ``as_of``: assigned, done
    (completed and not overdue on a later round of a recurring course) and overdue."""
    end_of_day = datetime.combine(as_of + timedelta(days=1), time(0), tzinfo=UTC)
    done = and_(Assignment.completed_on.is_not(None), Assignment.completed_on <= as_of)
    overdue = and_(Assignment.due_on < as_of, ~done)
    per_person = (
        select(
            Assignment.course_id.label("course_id"),
            func.max(case((done, 1), else_=0)).label("done"),
            func.max(case((overdue, 1), else_=0)).label("overdue"),
        )
        .join(Person, Person.id == Assignment.person_id)
        .where(_office_filter(config, office), Assignment.created_at < end_of_day)
        .group_by(Assignment.person_id, Assignment.course_id)
        .subquery()
    )
    rows = await session.execute(
        select(
            per_person.c.course_id,
            func.count(),
            func.sum(case((and_(per_person.c.done == 1, per_person.c.overdue == 0), 1), else_=0)),
            func.sum(per_person.c.overdue),
        ).group_by(per_person.c.course_id)
    )
    return {course: Counts(int(n), int(d or 0), int(o or 0)) for course, n, d, o in rows}


async def office_report(
    session: AsyncSession, config: AppConfig, office: Office, today: date
) -> list[CourseLine]:
    now = await _counts(session, config, office, today)
    week_ago = await _counts(session, config, office, today - timedelta(days=7))
    lines: list[CourseLine] = []
    for course in config.courses:
        line = CourseLine(
            course.id,
            course.title,
            now.get(course.id, Counts(0, 0, 0)),
            week_ago.get(course.id, Counts(0, 0, 0)),
        )
        line.awaiting_confirmation = int(
            await session.scalar(
                select(func.count())
                .select_from(Assignment)
                .join(Person, Person.id == Assignment.person_id)
                .where(
                    _office_filter(config, office),
                    Assignment.course_id == course.id,
                    Assignment.completion_source == Source.SELF_REPORTED,
                )
            )
            or 0
        )
        overdue = await session.execute(
            select(Person.display_name, Person.email, Assignment.due_on)
            .join(Person, Person.id == Assignment.person_id)
            .where(
                _office_filter(config, office),
                Assignment.course_id == course.id,
                Assignment.completed_on.is_(None),
                Assignment.due_on < today,
            )
            .order_by(Assignment.due_on, Person.email)
            .limit(OVERDUE_NAMES_SHOWN)
        )
        line.overdue_people = [f"{name or email} (due {due:%d %b})" for name, email, due in overdue]
        lines.append(line)
    return lines


def _trend(t: Translator, now: int, before: int, good_when_up: bool) -> str:
    change = now - before
    if change == 0:
        return t._("no change")
    arrow = "▲" if change > 0 else "▼"
    if (change > 0) == good_when_up:
        return t._("{arrow} {n} better than last week", arrow=arrow, n=abs(change))
    return t._("{arrow} {n} worse than last week", arrow=arrow, n=abs(change))


def render(
    t: Translator, office: Office, lines: Sequence[CourseLine], *, weekly: bool, compared: str = ""
) -> Message:
    """The report in the learning manager's own language, with the organisation compared."""
    if weekly:
        title = t._("Weekly compliance summary: {office}", office=office.name)
    else:
        title = t._("Compliance report: {office}", office=office.name)
    blocks: list = [Header(title)]
    text_lines = [title]
    for line in lines:
        n, w = line.now, line.week_ago
        share = t.percent(n.done / n.assigned) if n.assigned else "-"
        blocks.append(Text(f"*{line.title}*"))
        items = [
            (t._("Assigned"), t.number(n.assigned)),
            (t._("Done"), f"{t.number(n.done)} ({share}); {_trend(t, n.done, w.done, True)}"),
            (t._("Overdue"), f"{t.number(n.overdue)}; {_trend(t, n.overdue, w.overdue, False)}"),
        ]
        if line.awaiting_confirmation:
            items.append(
                (t._("Awaiting your confirmation"), f"{line.awaiting_confirmation} (`/learning confirm`)")
            )
        blocks.append(Fields(items))
        if line.overdue_people:
            more = n.overdue - len(line.overdue_people)
            names = ", ".join(line.overdue_people)
            if more > 0:
                names = t._("{names} and {n} more", names=names, n=more)
            blocks.append(Text(t._("Overdue: {names}", names=names)))
        blocks.append(Divider())
        text_lines.append(
            t._(
                "{course}: assigned {assigned}, done {done}, overdue {overdue}",
                course=line.title,
                assigned=n.assigned,
                done=n.done,
                overdue=n.overdue,
            )
        )
    if not lines:
        blocks.append(Text(t._("No courses are configured (add them under `courses` in app.yaml).")))
    if compared:
        blocks.append(Text(compared))
    blocks.append(Note(t._("Private to you as learning manager. Names are never shared in channels.")))
    return Message(text="\n".join(text_lines), blocks=blocks, dm=True, private=True)


async def unreachable_assignees(
    session: AsyncSession, config: AppConfig, platforms: Sequence[str], office: Office
) -> list[Unreachable]:
    """People of this office with an open course whom no enabled platform can reach yet: their
    reminders wait (and expire) until an admin applies the fix given with each."""
    people = await unreachable_people(session, config, platforms, office.id)
    if not people:
        return []
    ids = [p.person_id for p in people]
    open_ids = set(
        await session.scalars(
            select(Assignment.person_id)
            .where(Assignment.person_id.in_(ids), Assignment.completed_on.is_(None))
            .distinct()
        )
    )
    return [p for p in people if p.person_id in open_ids]


def with_reach(t: Translator, message: Message, unreachable: Sequence[Unreachable]) -> Message:
    """The summary plus who cannot be reached, why, and the fix (before the privacy note). The
    fixes are an admin's instructions, in the words ``learnbot reach`` prints."""
    if not unreachable:
        return message
    shown = unreachable[:UNREACHABLE_SHOWN]
    lines = [
        t._(
            "*Can't be reached yet ({n})*: their reminders wait until the fix is applied.", n=len(unreachable)
        )
    ]
    for item in shown:
        who = item.name if not item.email or item.email == item.name else f"{item.name} ({item.email})"
        lines.append(f"• {who}: " + "; ".join(item.reasons))
    if len(unreachable) > len(shown):
        lines.append(
            t._("… and {n} more: run `learnbot reach` for the full list.", n=len(unreachable) - len(shown))
        )
    chunks: list[str] = []
    for line in lines:  # Slack section text stops at 3000 characters
        if chunks and len(chunks[-1]) + len(line) < TEXT_LIMIT:
            chunks[-1] += "\n" + line
        else:
            chunks.append(line[:TEXT_LIMIT])
    blocks = list(message.blocks)
    at = max(len(blocks) - 1, 0)
    blocks[at:at] = [Text(chunk) for chunk in chunks]
    text = message.text + "\n" + t._("Can't be reached yet: {n}", n=len(unreachable))
    return replace(message, text=text, blocks=blocks)


# -- offices side by side (org admins) ---------------------------------------------------------
@dataclass(frozen=True, slots=True)
class OfficeRate:
    """One office's totals over every course: people-course pairs, not rounds; no names."""

    office: Office
    assigned: int
    done: int
    overdue: int

    @property
    def rate(self) -> int | None:
        return round(100 * self.done / self.assigned) if self.assigned else None


async def office_rates(session: AsyncSession, config: AppConfig, today: date) -> list[OfficeRate]:
    rates = []
    for office in config.offices:
        counts = (await _counts(session, config, office, today)).values()
        rates.append(
            OfficeRate(
                office,
                sum(c.assigned for c in counts),
                sum(c.done for c in counts),
                sum(c.overdue for c in counts),
            )
        )
    return rates


def render_offices(t: Translator, rates: Sequence[OfficeRate]) -> Message:
    """Completion rates per office, best first, for org admins (counts only, never names)."""
    ordered = sorted(rates, key=lambda r: (r.rate is None, -(r.rate or 0), r.office.name))
    items = []
    for r in ordered:
        label = r.office.name + (f" ({r.office.region})" if r.office.region else "")
        value = (
            t._(
                "{rate}% done ({done} of {assigned}), {overdue} overdue",
                rate=r.rate,
                done=r.done,
                assigned=r.assigned,
                overdue=r.overdue,
            )
            if r.assigned
            else t._("nothing assigned")
        )
        items.append((label, value))
    assigned = sum(r.assigned for r in rates)
    done = sum(r.done for r in rates)
    overall = (
        t._(
            "{rate}% done ({done} of {assigned})",
            rate=round(100 * done / assigned),
            done=done,
            assigned=assigned,
        )
        if assigned
        else t._("nothing assigned yet")
    )
    text = t._("Offices side by side:") + " " + "; ".join(f"{label}: {value}" for label, value in items)
    blocks: list[Any] = [
        Header(t._("Mandatory courses: offices side by side")),
        Fields(items),
        Text(t._("Whole organisation: {overall}.", overall=overall)),
        Note(t._("Counts only; each office's learning manager sees their own office's names.")),
    ]
    return Message(text=text, blocks=blocks, dm=True, private=True)


def organisation_line(t: Translator, rates: Sequence[OfficeRate], office: Office) -> str:
    """The "compared with other offices" line under a manager's own report (no names)."""
    mine = next((r for r in rates if r.office.id == office.id), None)
    others = [r for r in rates if r.office.id != office.id and r.assigned]
    if mine is None or mine.rate is None or not others:
        return ""
    assigned = sum(r.assigned for r in others)
    done = sum(r.done for r in others)
    return t.ngettext(
        "Compared with the other office: {mine}% done here, {there}% there.",
        "Compared with the other {n} offices: {mine}% done here, {there}% there.",
        len(others),
        mine=mine.rate,
        there=round(100 * done / assigned),
    )
