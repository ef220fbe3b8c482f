"""What happens when someone answers a reminder, a learning manager confirms or rejects a
self-reported completion, or the LMS says a course was completed.

Every change of an assignment goes through here, so ``next_nudge_on`` (what the sweep reads)
is always recomputed with the change.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import AppConfig, Course, Office, parse_recurrence
from bot.features.nudges import texts
from bot.features.nudges.stages import first_stage_on, next_stage_on
from bot.features.nudges.sweep import WEEKDAYS, local_time
from bot.i18n import N_, Translator
from bot.intents import Default, Kind
from bot.messages import Message, Text
from bot.outbox import ToChannel, ToPerson
from bot.people import person_timezone
from bot.scope import Recipients, recipients_for
from storage.models import Person
from storage.nudges import Assignment, KudosOptIn, Source

if TYPE_CHECKING:
    from bot.core import Learnbot

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What to tell the person who acted."""

    text: str


PAUSE_REASONS = {
    Kind.NOT_MINE: N_("says this course is not theirs"),
    Kind.EXEMPT: N_("says they are exempt"),
    Kind.ON_LEAVE: N_("says they are on leave"),
    Kind.STOP: N_("asked me to stop the reminders"),
}
"""What the learning manager is told, per reply that pauses reminders."""

DEFAULT_REASONS = {
    Default.HOLIDAYS: N_("after the holidays"),
    Default.EID: N_("after Eid (the expected date; it may differ by a day where you are)"),
    Default.BACK: N_("in a week, when you expect to be back"),
}


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


def _contact(person: Person) -> str:
    """How a manager's notice names the person: by name (issue 11: names, not addresses)."""
    return person.name


async def report_done(
    app: Learnbot,
    session: AsyncSession,
    t: Translator,
    person: Person,
    assignment: Assignment,
    on: date | None = None,
) -> Outcome:
    """Self-reported completion, on the day they name ("yesterday") or today."""
    course = course_of(app.config, assignment)
    if assignment.completed_on is not None:
        return Outcome(
            t._(
                "{course} is already recorded as done on {day}. Thank you!",
                course=course.title,
                day=t.day(assignment.completed_on),
            )
        )
    now = app.clock.now()
    today = local_today(app.config, person, now)
    completed = on if on is not None and on <= today else today
    assignment.completed_on = completed
    assignment.completion_source = Source.SELF_REPORTED
    assignment.reported_at = now
    assignment.next_nudge_on = None
    assignment.paused_reason = None
    assignment.updated_at = now
    if not (await recipients_for(session, app.config, person, now)).people:
        office = app.config.office(person.office_id)
        return Outcome(
            t._(
                "Thank you! I've noted *{course}* as done. I won't remind you about it again.",
                course=course.title,
            )
            + " "
            + Recipients(people=[], office_name=office.name).nobody(t)
        )
    if completed != today:
        return Outcome(
            t._(
                "Thank you! I've noted *{course}* as done on {day}. I won't remind you about it again; "
                "your learning manager will confirm it.",
                course=course.title,
                day=t.day(completed, today),
            )
        )
    return Outcome(
        t._(
            "Thank you! I've noted *{course}* as done. I won't remind you about it again; "
            "your learning manager will confirm it.",
            course=course.title,
        )
    )


async def snooze(
    app: Learnbot,
    session: AsyncSession,
    t: Translator,
    person: Person,
    assignment: Assignment,
    until: date | None,
    default: Default = Default.NONE,
) -> Outcome:
    """Remind again on ``until`` (None: "later", the policy's few days, on a working day). A day
    the bot picked itself ("after Eid") is said with its reason, so the person can correct it."""
    course = course_of(app.config, assignment)
    if assignment.completed_on is not None:
        return Outcome(
            t._("{course} is already done, so there's nothing to remind you about.", course=course.title)
        )
    now = app.clock.now()
    today = local_today(app.config, person, now)
    if until is None:
        until = next_working_day(
            app.config, person, today + timedelta(days=app.config.nudges.remind_later_days)
        )
    if until <= today:
        return Outcome(
            t._("{day} isn't in the future. Try e.g. `remind me tomorrow` or `in 3 days`.", day=t.day(until))
        )
    if until > today + timedelta(days=120 if default else 90):
        return Outcome(t._("That's more than 90 days away; please pick a closer day, e.g. `next week`."))
    assignment.snoozed_until = until
    assignment.paused_reason = None  # asking for a reminder takes back a pause
    assignment.next_nudge_on = first_stage_on(assignment.due_on, app.config.nudges, until)
    assignment.updated_at = now
    day = t.day(until, today)
    if default:
        return Outcome(
            t._(
                "OK, {reason}: I'll remind you about {course} on {day}. Another day? Just tell me, e.g. "
                "`remind me on 10 January`.",
                reason=t._(DEFAULT_REASONS[default]),
                course=course.title,
                day=day,
            )
        )
    return Outcome(t._("OK, I'll remind you about {course} on {day}.", course=course.title, day=day))


async def _tell_managers(
    app: Learnbot,
    session: AsyncSession,
    person: Person,
    assignment: Assignment,
    build: Callable[[Translator], Message],
    key: str,
) -> tuple[list[str], list[str]]:
    """Plan ``build(manager's translator)`` to each learning manager of the person's office
    (never the person themselves; org admins when nobody else can); returns the names reached
    and the emails of those not reachable in chat."""
    config = app.config
    now = app.clock.now()
    names, unreachable = [], []
    for manager in (await recipients_for(session, config, person, now)).people:
        planned = await app.plan(
            session,
            destination=ToPerson(manager.id),
            message=build(app.translator_for(manager)),
            key=f"{key}:{assignment.id}:{local_today(config, person, now).isoformat()}:{manager.id}",
        )
        if any(p.reachable for p in planned):
            names.append(manager.name)
        else:
            unreachable.append(manager.email or manager.name)
    return names, unreachable


def _no_manager(t: Translator, office: Office) -> Outcome:
    """Nobody but the person could receive it (no manager, or they are the office's only one
    and no org admin is set up): say so honestly."""
    nobody = Recipients(people=[], office_name=office.name).nobody(t)
    return Outcome(nobody + " " + t._("Meanwhile, please ask your supervisor or HR about the course."))


async def ask_for_help(
    app: Learnbot,
    session: AsyncSession,
    t: Translator,
    person: Person,
    assignment: Assignment,
    typed: str | None,
) -> Outcome:
    """Tell the office's learning manager(s), privately, who needs help with which course
    (``typed``: what the person wrote; None when they pressed the button)."""
    office = app.config.office(person.office_id)
    course = course_of(app.config, assignment)
    if not (await recipients_for(session, app.config, person, app.clock.now())).people:
        return _no_manager(t, office)

    def notice(mt: Translator) -> Message:
        reason = (
            mt._('they wrote "{text}"', text=typed.strip()[:200])
            if typed
            else mt._("they pressed 'I need help' on the reminder")
        )
        return texts.help_notice(mt, _contact(person), course, mt.day(assignment.due_on), reason)

    names, unreachable = await _tell_managers(app, session, person, assignment, notice, "nudge-help")
    if names:
        told = t._(
            "I've let {names} know privately that you need help with {course}; they'll get in touch.",
            names=t.list(names),
            course=course.title,
        )
    else:
        told = t._(
            "Your learning manager isn't reachable in chat yet, so please write to {emails} about {course}.",
            emails=t.list(unreachable),
            course=course.title,
        )
    if assignment.completed_on is not None:
        return Outcome(told)
    # Give them room to get the help before the next reminder.
    pause = await snooze(app, session, t, person, assignment, None)
    return Outcome(f"{told} {pause.text}")


async def pause(
    app: Learnbot,
    session: AsyncSession,
    t: Translator,
    person: Person,
    assignment: Assignment,
    kind: Kind,
    typed: str,
) -> Outcome:
    """Not mine, exempt, on leave, stop: reminders for this course pause and the learning
    manager decides (they can resume them with one button)."""
    office = app.config.office(person.office_id)
    course = course_of(app.config, assignment)
    if assignment.completed_on is not None:
        return Outcome(
            t._("{course} is already done, so there's nothing to remind you about.", course=course.title)
        )
    if not (await recipients_for(session, app.config, person, app.clock.now())).people:
        return _no_manager(t, office)
    assignment.paused_reason = str(kind)
    assignment.next_nudge_on = None
    assignment.updated_at = app.clock.now()

    def notice(mt: Translator) -> Message:
        what = f'{mt._(PAUSE_REASONS[kind])} ("{typed.strip()[:200]}")'
        return texts.manager_notice(
            mt, _contact(person), course, mt.day(assignment.due_on), what, assignment.id
        )

    names, unreachable = await _tell_managers(app, session, person, assignment, notice, f"nudge-{kind}")
    who = t.list(names) if names else t.list(unreachable)
    if kind == Kind.STOP:
        return Outcome(
            t._(
                "Understood, I'll stop the reminders about {course}. I've let your learning manager "
                "({who}) know, "
                "as the course is still required; they may get in touch.",
                course=course.title,
                who=who,
            )
        )
    return Outcome(
        t._(
            "Thanks for telling me. I've paused the reminders about {course} and let your learning manager "
            "({who}) "
            "know; they'll sort it out.",
            course=course.title,
            who=who,
        )
    )


async def resume(app: Learnbot, session: AsyncSession, t: Translator, assignment: Assignment) -> str:
    """The learning manager's decision: reminders about this course start again."""
    person = await session.get_one(Person, assignment.person_id)
    course = course_of(app.config, assignment)
    if not assignment.paused_reason or assignment.completed_on is not None:
        return t._(
            "Reminders about {course} for {name} aren't paused.", course=course.title, name=person.name
        )
    today = local_today(app.config, person, app.clock.now())
    assignment.paused_reason = None
    assignment.next_nudge_on = next_stage_on(
        assignment.due_on, app.config.nudges, assignment.snoozed_until, today
    )
    assignment.updated_at = app.clock.now()
    return t._("Reminders about {course} for {name} are on again.", course=course.title, name=person.name)


async def ask_manager(
    app: Learnbot, session: AsyncSession, t: Translator, person: Person, assignment: Assignment, question: str
) -> Outcome:
    """A question the course's details cannot answer goes to the learning manager."""
    office = app.config.office(person.office_id)
    course = course_of(app.config, assignment)
    if not (await recipients_for(session, app.config, person, app.clock.now())).people:
        return _no_manager(t, office)

    def notice(mt: Translator) -> Message:
        return texts.question_notice(
            mt, _contact(person), course, mt.day(assignment.due_on), question.strip()[:300]
        )

    names, unreachable = await _tell_managers(app, session, person, assignment, notice, "nudge-question")
    if names:
        return Outcome(
            t._(
                "I've passed your question on to {names}, privately; they'll answer you.", names=t.list(names)
            )
        )
    return Outcome(
        t._(
            "Your learning manager isn't reachable in chat yet; please write to {emails}.",
            emails=t.list(unreachable),
        )
    )


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
            message=texts.thanks(
                app.translator_for(await session.get_one(Person, assignment.person_id)), course
            ),
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
        message=texts.kudos(app.i18n.choose(office.locale), person.name, course),
        key=f"nudge-kudos:{assignment.id}",
    )


async def confirm(app: Learnbot, session: AsyncSession, t: Translator, assignment: Assignment) -> str:
    course = course_of(app.config, assignment)
    person = await session.get_one(Person, assignment.person_id)
    if assignment.completion_source != Source.SELF_REPORTED or assignment.completed_on is None:
        return t._("{name}'s {course} is not awaiting confirmation.", name=person.name, course=course.title)
    await record_completion(app, session, assignment, assignment.completed_on, Source.CONFIRMED, thank=True)
    return t._(
        "Confirmed: {name} completed {course}. I've thanked them.", name=person.name, course=course.title
    )


async def reject(app: Learnbot, session: AsyncSession, t: Translator, assignment: Assignment) -> str:
    """Re-open a self-reported completion and tell the person privately, kindly."""
    course = course_of(app.config, assignment)
    person = await session.get_one(Person, assignment.person_id)
    if assignment.completion_source != Source.SELF_REPORTED:
        return t._("{name}'s {course} is not awaiting confirmation.", name=person.name, course=course.title)
    now = app.clock.now()
    today = local_today(app.config, person, now)
    assignment.completed_on = None
    assignment.completion_source = Source.REJECTED
    assignment.snoozed_until = None
    assignment.next_nudge_on = next_stage_on(assignment.due_on, app.config.nudges, None, today)
    assignment.updated_at = now
    text = app.translator_for(person)._(
        "Your learning manager couldn't find your completion of *{course}* in the course "
        "records yet. Could you check it was finished (the last page or quiz often needs a click)? "
        "Reply `I need help` if something is in the way.",
        course=course.title,
    )
    await app.plan(
        session,
        destination=ToPerson(person.id),
        message=Message(text=text, blocks=[Text(text)], dm=True),
        key=f"nudge-rejected:{assignment.id}:{now.isoformat()}",
    )
    return t._(
        "Re-opened {name}'s {course}; I've told them privately.", name=person.name, course=course.title
    )
