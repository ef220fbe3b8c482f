"""Mandatory-course nudges in chat: private reminders people can answer, the learning
manager's confirmations and reports, kudos for those who opt in.

The rules live in :mod:`bot.nudges`; this module only wires them to commands, buttons,
typed replies, the home and the scheduled jobs.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import UserError
from bot.messages import Button, Buttons, Fields, Header, LinkCard, Message, Note, Text, plain
from bot.nudges import actions, report
from bot.nudges.messages import UNDERSTOOD, day
from bot.nudges.replies import parse_reply
from bot.nudges.sweep import local_time, sweep
from bot.outbox import ToPerson
from bot.people import get_or_create_by_email, person_by_email, person_timezone
from bot.router import Context, Reply, Router, is_help_word
from storage.models import Person
from storage.nudges import Assignment, KudosOptIn

if TYPE_CHECKING:
    from bot.core import Learnbot

logger = logging.getLogger(__name__)

OPEN_NUDGE_DAYS = 21
"""A reminder older than this no longer makes typed text like "done" about it."""


# -- look-ups --------------------------------------------------------------------------------
async def _own_assignment(ctx: Context, value: str) -> Assignment:
    """The assignment behind a button, only if it is the presser's own (reminders are private)."""
    assignment = await ctx.session.get(Assignment, int(value)) if value.isdigit() else None
    if assignment is None or assignment.person_id != ctx.person.id:
        raise UserError("That reminder isn't one of yours, so I left it alone.")
    return assignment


async def _open_nudged(ctx: Context, text: str) -> Assignment | None:
    """The reminder a typed reply answers: the course it names, else the latest reminder."""
    since = ctx.now - timedelta(days=OPEN_NUDGE_DAYS)
    rows = list(
        await ctx.session.scalars(
            select(Assignment)
            .where(
                Assignment.person_id == ctx.person.id,
                Assignment.completed_on.is_(None),
                Assignment.last_nudge_at.is_not(None),
                Assignment.last_nudge_at >= since,
            )
            .order_by(Assignment.last_nudge_at.desc(), Assignment.id.desc())
        )
    )
    lowered = text.lower()
    for assignment in rows:
        course = actions.course_of(ctx.config, assignment)
        if course.id.lower() in lowered or course.title.lower() in lowered:
            return assignment
    return rows[0] if rows else None


def _local_now(ctx: Context) -> datetime:
    """Now in the person's zone (their office's if their profile's zone is unknown here)."""
    office_zone = ctx.config.office(ctx.person.office_id).timezone
    try:
        zone = ZoneInfo(person_timezone(ctx.config, ctx.person))
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo(office_zone)
    return ctx.now.astimezone(zone)


async def _subject(ctx: Context, args: str) -> Assignment:
    """``<email> <course>`` -> the self-reported assignment a manager acts on (own office only)."""
    parts = args.split()
    if len(parts) < 2:
        raise UserError(
            "Give the person's email and the course, e.g. `/learning confirm ana@example.org ethics`."
        )
    email, course_text = parts[0].lower(), " ".join(parts[1:]).lower()
    course = next((c for c in ctx.config.courses if course_text in {c.id.lower(), c.title.lower()}), None)
    if course is None:
        known = ", ".join(c.id for c in ctx.config.courses)
        raise UserError(f"I don't know the course '{course_text}'. Courses: {known}.")
    person = await person_by_email(ctx.session, email)
    office = report.manager_office(ctx.config, ctx.person.email)
    if person is None or ctx.config.office(person.office_id).id != office.id:
        raise UserError(f"I don't know {email} in {office.name}.")
    assignment = await ctx.session.scalar(
        select(Assignment)
        .where(
            Assignment.person_id == person.id,
            Assignment.course_id == course.id,
            Assignment.completion_source == "self-reported",
        )
        .order_by(Assignment.due_on.desc())
        .limit(1)
    )
    if assignment is None:
        raise UserError(f"{person.name} has no self-reported completion of {course.title} to review.")
    return assignment


async def _managed(ctx: Context, value: str) -> Assignment:
    """The assignment behind a manager's button, only within the manager's own office."""
    if not ctx.is_learning_manager:
        raise UserError("Only a learning manager can confirm or reject completions.")
    assignment = await ctx.session.get(Assignment, int(value)) if value.isdigit() else None
    office = report.manager_office(ctx.config, ctx.person.email)
    if assignment is not None:
        person = await ctx.session.get_one(Person, assignment.person_id)
        if ctx.config.office(person.office_id).id == office.id:
            return assignment
    raise UserError("That completion isn't in your office, so I left it alone.")


# -- rendering -------------------------------------------------------------------------------
def _status(assignment: Assignment, today: date) -> str:
    if assignment.completed_on is not None:
        how = {
            "self-reported": "you said so; awaiting confirmation",
            "confirmed": "confirmed",
            "lms": "recorded in the LMS",
        }.get(assignment.completion_source or "", "")
        return f"done on {day(assignment.completed_on, today)}" + (f" ({how})" if how else "")
    due = day(assignment.due_on, today)
    if assignment.completion_source == "rejected":
        return f"not found in the course records yet; due {due}"
    if assignment.due_on < today:
        return f"overdue since {due}"
    if assignment.due_on == today:
        return "due today"
    return f"due {due}"


async def own_courses(ctx: Context) -> list[Message]:
    """Per course: the open assignment if any, and the latest completion."""
    rows = list(
        await ctx.session.scalars(
            select(Assignment).where(Assignment.person_id == ctx.person.id).order_by(Assignment.due_on)
        )
    )
    if not rows:
        return []
    today = actions.local_today(ctx.config, ctx.person, ctx.now)
    by_course: dict[str, list[Assignment]] = {}
    for assignment in rows:
        by_course.setdefault(assignment.course_id, []).append(assignment)
    blocks: list[Any] = [Header("Your mandatory courses")]
    lines = []
    ordered = sorted(
        by_course.values(),
        key=lambda items: min((a.due_on for a in items if a.completed_on is None), default=date.max),
    )
    for items in ordered:
        course = actions.course_of(ctx.config, items[0])
        open_one = next((a for a in items if a.completed_on is None), None)
        done = [a for a in items if a.completed_on is not None]
        parts = []
        if done:
            parts.append(_status(done[-1], today))
        if open_one is not None:
            parts.append(("next " if done else "") + _status(open_one, today))
        status = "; ".join(parts)
        lines.append(f"{course.title}: {status}")
        if open_one is not None and course.url:
            blocks.append(
                LinkCard(title=course.title, url=course.url, description=status[0].upper() + status[1:])
            )
        else:
            blocks.append(Fields([(course.title, status)]))
    blocks.append(
        Note(
            "Only you see this. Finished one? Type `done` after its reminder, or tell your learning manager."
        )
    )
    return [Message(text="Your mandatory courses:\n" + "\n".join(lines), blocks=blocks)]


# -- registration ----------------------------------------------------------------------------
def register(router: Router) -> None:
    @router.command("learning", "courses", help="your mandatory courses and when they are due")
    async def _courses(ctx: Context, args: str) -> Reply:
        return await own_courses(ctx) or plain("You have no mandatory courses assigned right now. 🎉")

    @router.home_section(10)
    async def _home(ctx: Context) -> list[Message]:
        return await own_courses(ctx)

    @router.command(
        "learning", "report", help="compliance per course: assigned, done, overdue, trend", managers_only=True
    )
    async def _report(ctx: Context, args: str) -> Reply:
        office = report.manager_office(ctx.config, ctx.person.email)
        today = local_time(office.timezone, ctx.now).today
        lines = await report.office_report(ctx.session, ctx.config, office, today)
        message = report.render(office, lines, weekly=False)
        if not ctx.event.conversation.is_direct:
            await ctx.send(
                ToPerson(ctx.person.id), message, key=f"nudge-report:{ctx.person.id}:{ctx.now.isoformat()}"
            )
            return plain(
                "I've sent you the report in a direct message (it names people, so it stays private)."
            )
        return message

    async def _review(ctx: Context, args: str, verb: str) -> Reply:
        if args.strip():
            assignment = await _subject(ctx, args)
            return plain(
                await (actions.confirm if verb == "confirm" else actions.reject)(
                    ctx.app, ctx.session, assignment
                )
            )
        office = report.manager_office(ctx.config, ctx.person.email)
        pending = await ctx.session.execute(
            select(Assignment, Person)
            .join(Person, Person.id == Assignment.person_id)
            .where(Assignment.completion_source == "self-reported")
            .order_by(Assignment.reported_at)
        )
        blocks: list[Any] = [Header("Self-reported completions to review")]
        count = 0
        for assignment, person in pending:
            if ctx.config.office(person.office_id).id != office.id:
                continue
            count += 1
            course = actions.course_of(ctx.config, assignment)
            blocks.append(
                Text(f"{person.name}: {course.title} (done {day(assignment.completed_on or ctx.now.date())})")
            )
            blocks.append(
                Buttons(
                    [
                        Button(
                            f"Confirm {person.name}", "nudge.confirm", str(assignment.id), style="primary"
                        ),
                        Button(f"Reject {person.name}", "nudge.reject", str(assignment.id), style="danger"),
                    ]
                )
            )
        if not count:
            return plain("Nothing to review: no self-reported completions are waiting.", dm=True)
        blocks.append(
            Note("Or type `/learning confirm <email> <course>` / `/learning reject <email> <course>`.")
        )
        return Message(text=f"{count} self-reported completion(s) to review", blocks=blocks, dm=True)

    @router.command(
        "learning",
        "confirm",
        usage="[<email> <course>]",
        help="confirm self-reported completions",
        managers_only=True,
    )
    async def _confirm(ctx: Context, args: str) -> Reply:
        return await _review(ctx, args, "confirm")

    @router.command(
        "learning",
        "reject",
        usage="[<email> <course>]",
        help="reject a self-reported completion",
        managers_only=True,
    )
    async def _reject(ctx: Context, args: str) -> Reply:
        return await _review(ctx, args, "reject")

    @router.command(
        "learning", "kudos", usage="on|off", help="celebrate your completed courses in the office channel"
    )
    async def _kudos(ctx: Context, args: str) -> Reply:
        choice = args.strip().lower()
        opted = await ctx.session.get(KudosOptIn, ctx.person.id)
        if choice in {"on", "yes"}:
            if opted is None:
                ctx.session.add(KudosOptIn(person_id=ctx.person.id, opted_in_at=ctx.now))
            return plain("Kudos are on: when you complete a course I'll celebrate it in the office channel.")
        if choice in {"off", "no"}:
            if opted is not None:
                await ctx.session.delete(opted)
            return plain("Kudos are off: your completions stay private.")
        state = "on" if opted else "off (the default)"
        return plain(f"Public kudos are {state}. Use `/learning kudos on` or `/learning kudos off`.")

    @router.action("nudge.done")
    async def _done(ctx: Context, value: str) -> Reply:
        assignment = await _own_assignment(ctx, value)
        return plain((await actions.report_done(ctx.app, ctx.session, ctx.person, assignment)).text)

    @router.action("nudge.later")
    async def _later(ctx: Context, value: str) -> Reply:
        assignment = await _own_assignment(ctx, value)
        outcome = await actions.snooze(ctx.app, ctx.session, ctx.person, assignment, None)
        return plain(outcome.text + " Another day? Type e.g. `remind me on Friday` or `next week`.")

    @router.action("nudge.help")
    async def _help(ctx: Context, value: str) -> Reply:
        assignment = await _own_assignment(ctx, value)
        reason = "they pressed 'I need help' on the reminder"
        return plain((await actions.ask_for_help(ctx.app, ctx.session, ctx.person, assignment, reason)).text)

    @router.action("nudge.confirm")
    async def _confirm_button(ctx: Context, value: str) -> Reply:
        return plain(await actions.confirm(ctx.app, ctx.session, await _managed(ctx, value)))

    @router.action("nudge.reject")
    async def _reject_button(ctx: Context, value: str) -> Reply:
        return plain(await actions.reject(ctx.app, ctx.session, await _managed(ctx, value)))

    async def _which_help(ctx: Context) -> Reply:
        """A bare "help" right after a reminder: ask rather than guess. Escalating to the
        learning manager unasked would be wrong, and so would ignoring someone who is stuck."""
        assignment = await _open_nudged(ctx, "")
        if assignment is None:
            return None
        course = actions.course_of(ctx.config, assignment)
        general = ctx.app.help_message(ctx)
        return Message(
            text=f"Do you need help with {course.title}? {general.text}",
            blocks=[
                Text(
                    f"Do you need help with *{course.title}*? I can ask your learning manager "
                    "to get in touch, privately."
                ),
                Buttons([Button("Yes, I need help with the course", "nudge.help", str(assignment.id))]),
                *general.blocks,
            ],
        )

    @router.interpreter("nudges", priority=20)
    async def _reply(ctx: Context, text: str) -> Reply:
        if is_help_word(text):
            return await _which_help(ctx)
        intent = parse_reply(text, _local_now(ctx))
        if intent is None:
            return None
        assignment = await _open_nudged(ctx, text)
        if assignment is None:
            return None
        if intent.kind == "done":
            return plain((await actions.report_done(ctx.app, ctx.session, ctx.person, assignment)).text)
        if intent.kind == "help":
            reason = f'they wrote "{text.strip()[:200]}"'
            return plain(
                (await actions.ask_for_help(ctx.app, ctx.session, ctx.person, assignment, reason)).text
            )
        if intent.kind == "snooze":
            return plain(
                (await actions.snooze(ctx.app, ctx.session, ctx.person, assignment, intent.until)).text
            )
        return plain(f"Sorry, I couldn't tell which day you mean. {UNDERSTOOD}")

    @router.interpreter("nudges-fallback", priority=90)
    async def _explain(ctx: Context, text: str) -> Reply:
        """Asked last: someone with a fresh reminder who typed something nobody understood."""
        assignment = await _open_nudged(ctx, text)
        if assignment is None:
            return None
        course = actions.course_of(ctx.config, assignment)
        return plain(
            f"Sorry, I didn't understand that. About your reminder for {course.title}: {UNDERSTOOD} "
            "For everything else, type `help`."
        )

    @router.job("nudge_sweep")
    async def _sweep(app: Learnbot, session: AsyncSession, args: dict[str, Any]) -> str:
        return await sweep(app, session)

    @router.job("nudge_summary")
    async def _summary(app: Learnbot, session: AsyncSession, args: dict[str, Any]) -> str:
        """Each learning manager's private weekly summary of their own office."""
        now = app.clock.now()
        sent = 0
        for office in app.config.offices:
            today = local_time(office.timezone, now).today
            year, week, _ = today.isocalendar()
            lines = await report.office_report(session, app.config, office, today)
            message = report.render(office, lines, weekly=True)
            for email in office.learning_managers:
                manager = await get_or_create_by_email(session, app.config, email, now)
                planned = await app.plan(
                    session,
                    destination=ToPerson(manager.id),
                    message=message,
                    key=f"nudge-summary:{office.id}:{manager.id}:{year}-W{week:02d}",
                )
                sent += sum(1 for p in planned if p.created)
        return f"{sent} weekly summary(ies) planned"
