"""The learning manager's compliance picture: per course, how many are assigned, done and
overdue, with the change since a week ago. Only learning managers ever see it, and only for
their own office; nobody else learns who is overdue.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from bot.config import AppConfig, Office
from bot.messages import Divider, Fields, Header, Message, Note, Text
from storage.models import Person
from storage.nudges import Assignment, Source

OVERDUE_NAMES_SHOWN = 15


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


def _trend(now: int, before: int, good_when_up: bool) -> str:
    change = now - before
    if change == 0:
        return "no change"
    arrow = "▲" if change > 0 else "▼"
    better = (change > 0) == good_when_up
    return f"{arrow} {abs(change)} {'better' if better else 'worse'} than last week"


def render(office: Office, lines: Sequence[CourseLine], *, weekly: bool, compared: str = "") -> Message:
    title = f"{'Weekly compliance summary' if weekly else 'Compliance report'}: {office.name}"
    blocks: list = [Header(title)]
    text_lines = [title]
    for line in lines:
        n, w = line.now, line.week_ago
        share = f"{round(100 * n.done / n.assigned)}%" if n.assigned else "-"
        blocks.append(Text(f"*{line.title}*"))
        items = [
            ("Assigned", str(n.assigned)),
            ("Done", f"{n.done} ({share}); {_trend(n.done, w.done, True)}"),
            ("Overdue", f"{n.overdue}; {_trend(n.overdue, w.overdue, False)}"),
        ]
        if line.awaiting_confirmation:
            items.append(
                ("Awaiting your confirmation", f"{line.awaiting_confirmation} (`/learning confirm`)")
            )
        blocks.append(Fields(items))
        if line.overdue_people:
            more = n.overdue - len(line.overdue_people)
            names = ", ".join(line.overdue_people) + (f" and {more} more" if more > 0 else "")
            blocks.append(Text(f"Overdue: {names}"))
        blocks.append(Divider())
        text_lines.append(f"{line.title}: assigned {n.assigned}, done {n.done}, overdue {n.overdue}")
    if not lines:
        blocks.append(Text("No courses are configured (add them under `courses` in app.yaml)."))
    if compared:
        blocks.append(Text(compared))
    blocks.append(Note("Private to you as learning manager. Names are never shared in channels."))
    return Message(text="\n".join(text_lines), blocks=blocks, dm=True, private=True)


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


def render_offices(rates: Sequence[OfficeRate]) -> Message:
    """Completion rates per office, best first, for org admins (counts only, never names)."""
    ordered = sorted(rates, key=lambda r: (r.rate is None, -(r.rate or 0), r.office.name))
    items = []
    for r in ordered:
        label = r.office.name + (f" ({r.office.region})" if r.office.region else "")
        value = (
            f"{r.rate}% done ({r.done} of {r.assigned}), {r.overdue} overdue"
            if r.assigned
            else "nothing assigned"
        )
        items.append((label, value))
    assigned = sum(r.assigned for r in rates)
    done = sum(r.done for r in rates)
    overall = (
        f"{round(100 * done / assigned)}% done ({done} of {assigned})" if assigned else "nothing assigned yet"
    )
    text = "Offices side by side: " + "; ".join(f"{label}: {value}" for label, value in items)
    blocks: list[Any] = [
        Header("Mandatory courses: offices side by side"),
        Fields(items),
        Text(f"Whole organisation: {overall}."),
        Note("Counts only; each office's learning manager sees their own office's names."),
    ]
    return Message(text=text, blocks=blocks, dm=True, private=True)


def organisation_line(rates: Sequence[OfficeRate], office: Office) -> str:
    """The "compared with other offices" line under a manager's own report (no names)."""
    mine = next((r for r in rates if r.office.id == office.id), None)
    others = [r for r in rates if r.office.id != office.id and r.assigned]
    if mine is None or mine.rate is None or not others:
        return ""
    assigned = sum(r.assigned for r in others)
    done = sum(r.done for r in others)
    there = round(100 * done / assigned)
    return f"Compared with the other {len(others)} office(s): {mine.rate}% done here, {there}% there."
