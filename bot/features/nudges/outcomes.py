"""What happens when someone answers a reminder, a learning manager confirms or rejects a
self-reported completion, or the LMS says a course was completed.

Every change of an assignment goes through here, so ``next_nudge_on`` (what the sweep reads)
is always recomputed with the change.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import AppConfig, Course, parse_recurrence
from bot.features.nudges import texts
from bot.features.nudges.stages import first_stage_on, next_stage_on
from bot.features.nudges.sweep import WEEKDAYS, local_time
from bot.features.nudges.texts import day
from bot.messages import Message, Text
from bot.outbox import ToChannel, ToPerson
from bot.people import person_timezone
from bot.scope import recipients_for
from storage.models import Person
from storage.nudges import Assignment, KudosOptIn, Source

if TYPE_CHECKING:
    from bot.core import Learnbot

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What to tell the person who acted."""

    text: str


def local_today(config: AppConfig, person: Person, now: datetime) -> date:
    return local_time(person_timezone(config, person), now, config.office(person.office_id).timezone).today


def next_working_day(config: AppConfig, person: Person, start: date) -> date:
    weekend = config.office(person.office_id).working_hours.weekend
    moved = start
    while WEEKDAYS[moved.weekday()] in weekend and moved < start + timedelta(days=7):
        moved += timedelta(days=1)
    return moved


def course_of(config: AppConfig, assignment: Assignment) -> Course:
    """The catalogue entry; a course removed from app.yaml still gets a readable title."""
    return config.course(assignment.course_id) or Course(id=assignment.course_id, title=assignment.course_id)


async def report_done(
    app: Learnbot, session: AsyncSession, person: Person, assignment: Assignment
) -> Outcome:
    course = course_of(app.config, assignment)
    if assignment.completed_on is not None:
        return Outcome(
            f"{course.title} is already recorded as done on {day(assignment.completed_on)}. Thank you!"
        )
    now = app.clock.now()
    assignment.completed_on = local_today(app.config, person, now)
    assignment.completion_source = Source.SELF_REPORTED
    assignment.reported_at = now
    assignment.next_nudge_on = None
    assignment.updated_at = now
    recipients = await recipients_for(session, app.config, person, now)
    who = ", ".join(m.name for m in recipients.people)
    confirm = f"{who} will confirm it." if who else recipients.nobody
    return Outcome(
        f"Thank you! I've noted *{course.title}* as done. I won't remind you about it again; {confirm}"
    )


async def snooze(
    app: Learnbot, session: AsyncSession, person: Person, assignment: Assignment, until: date | None
) -> Outcome:
    """Remind again on ``until`` (None: "later", the policy's few days, on a working day)."""
    course = course_of(app.config, assignment)
    if assignment.completed_on is not None:
        return Outcome(f"{course.title} is already done, so there's nothing to remind you about.")
    now = app.clock.now()
    today = local_today(app.config, person, now)
    if until is None:
        until = next_working_day(
            app.config, person, today + timedelta(days=app.config.nudges.remind_later_days)
        )
    if until <= today:
        return Outcome(f"{day(until)} isn't in the future. Try e.g. `remind me tomorrow` or `in 3 days`.")
    if until > today + timedelta(days=90):
        return Outcome("That's more than 90 days away; please pick a closer day, e.g. `next week`.")
    assignment.snoozed_until = until
    assignment.next_nudge_on = first_stage_on(assignment.due_on, app.config.nudges, until)
    assignment.updated_at = now
    return Outcome(f"OK, I'll remind you about {course.title} on {day(until)}.")


async def ask_for_help(
    app: Learnbot, session: AsyncSession, person: Person, assignment: Assignment, reason: str
) -> Outcome:
    """Tell the person's own office's learning manager(s), privately, who needs help with
    which course (a manager's own request goes to another manager or an org admin)."""
    config = app.config
    course = course_of(config, assignment)
    now = app.clock.now()
    recipients = await recipients_for(session, config, person, now)
    if not recipients.people:
        return Outcome(f"{recipients.nobody} Meanwhile, please ask your supervisor or HR about the course.")
    today = local_today(config, person, now)
    text = (
        f"{person.name} asked for help with *{course.title}* (due {day(assignment.due_on)}): {reason}. "
        "Only you can see this."
    )
    names, unreachable = [], []
    for manager in recipients.people:
        planned = await app.plan(
            session,
            destination=ToPerson(manager.id),
            message=Message(text=text, blocks=[Text(text)], dm=True, private=True),
            key=f"nudge-help:{assignment.id}:{today.isoformat()}:{manager.id}",
        )
        if any(p.reachable for p in planned):
            names.append(manager.name)
        else:
            unreachable.append(manager.email or manager.name)
    if names:
        told = (
            f"I've let {', '.join(names)} know privately that you need help with {course.title}; "
            "they'll get in touch."
        )
    else:
        told = (
            f"Your learning manager isn't reachable in chat yet, so please write to "
            f"{', '.join(unreachable)} about {course.title}."
        )
    if assignment.completed_on is not None:
        return Outcome(told)
    # Give them room to get the help before the next reminder.
    pause = await snooze(app, session, person, assignment, None)
    return Outcome(f"{told} {pause.text.removeprefix('OK, ')}")


async def record_completion(
    app: Learnbot,
    session: AsyncSession,
    assignment: Assignment,
    completed_on: date,
    source: Source,
    *,
    thank: bool,
) -> None:
    """Mark done (LMS or confirmed), thank the person, celebrate them if they opted in, and
    assign the next round of a recurring course."""
    now = app.clock.now()
    course = course_of(app.config, assignment)
    assignment.completed_on = completed_on
    assignment.completion_source = source
    assignment.next_nudge_on = None
    assignment.updated_at = now
    if thank:
        await app.plan(
            session,
            destination=ToPerson(assignment.person_id),
            message=texts.thanks(course),
            key=f"nudge-thanks:{assignment.id}",
        )
        await _kudos(app, session, assignment, course)
    await schedule_next_round(app, session, assignment, course, completed_on, now)


async def schedule_next_round(
    app: Learnbot,
    session: AsyncSession,
    assignment: Assignment,
    course: Course,
    completed_on: date,
    now: datetime,
) -> None:
    recurrence = parse_recurrence(course.recurrence)
    if recurrence is None:
        return
    due = completed_on + recurrence
    exists = await session.scalar(
        select(Assignment.id).where(
            Assignment.person_id == assignment.person_id,
            Assignment.course_id == assignment.course_id,
            Assignment.due_on >= due - timedelta(days=1),
        )
    )
    if exists is None:
        session.add(
            Assignment(
                person_id=assignment.person_id,
                course_id=assignment.course_id,
                due_on=due,
                next_nudge_on=first_stage_on(due, app.config.nudges),
                created_at=now,
                updated_at=now,
            )
        )


async def _kudos(app: Learnbot, session: AsyncSession, assignment: Assignment, course: Course) -> None:
    if await session.get(KudosOptIn, assignment.person_id) is None:
        return
    person = await session.get_one(Person, assignment.person_id)
    office = app.config.office(person.office_id)
    key = app.config.nudges.kudos_channel or (office.channels[0].key if office.channels else None)
    if key is None:
        logger.info("no channel for kudos in office %s", office.id)
        return
    await app.plan(
        session,
        destination=ToChannel(key),
        message=texts.kudos(person.name, course),
        key=f"nudge-kudos:{assignment.id}",
    )


async def confirm(app: Learnbot, session: AsyncSession, assignment: Assignment) -> str:
    course = course_of(app.config, assignment)
    person = await session.get_one(Person, assignment.person_id)
    if assignment.completion_source != Source.SELF_REPORTED or assignment.completed_on is None:
        return f"{person.name}'s {course.title} is not awaiting confirmation."
    await record_completion(app, session, assignment, assignment.completed_on, Source.CONFIRMED, thank=True)
    return f"Confirmed: {person.name} completed {course.title}. I've thanked them."


async def reject(app: Learnbot, session: AsyncSession, assignment: Assignment) -> str:
    """Re-open a self-reported completion and tell the person privately, kindly."""
    course = course_of(app.config, assignment)
    person = await session.get_one(Person, assignment.person_id)
    if assignment.completion_source != Source.SELF_REPORTED:
        return f"{person.name}'s {course.title} is not awaiting confirmation."
    now = app.clock.now()
    today = local_today(app.config, person, now)
    assignment.completed_on = None
    assignment.completion_source = Source.REJECTED
    assignment.snoozed_until = None
    assignment.next_nudge_on = next_stage_on(assignment.due_on, app.config.nudges, None, today)
    assignment.updated_at = now
    text = (
        f"Your learning manager couldn't find your completion of *{course.title}* in the course "
        "records yet. Could you check it was finished (the last page or quiz often needs a click)? "
        "Reply `I need help` if something is in the way."
    )
    await app.plan(
        session,
        destination=ToPerson(person.id),
        message=Message(text=text, blocks=[Text(text)], dm=True),
        key=f"nudge-rejected:{assignment.id}:{now.isoformat()}",
    )
    return f"Re-opened {person.name}'s {course.title}; I've told them privately."
