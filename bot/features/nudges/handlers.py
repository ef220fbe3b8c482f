"""Mandatory-course nudges in chat: private reminders people can answer, the learning
manager's confirmations and reports, kudos for those who opt in.

Handlers are module-level functions; ``register`` at the bottom is the registration table.
The rules live next door (``sweep``, ``stages``, ``outcomes``, ``report``; typed replies are
read by :mod:`bot.intents`), the wording in ``texts``, the queries in ``store``.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Course
from bot.errors import UserError
from bot.features.nudges import actions, outcomes, report, store, texts
from bot.features.nudges.sweep import local_time, sweep
from bot.i18n import N_
from bot.intents import Intent, Kind, understand
from bot.messages import Message, plain
from bot.outbox import ToPerson
from bot.people import get_or_create_by_email, person_by_email, person_timezone
from bot.router import Context, Reply, Router, is_help_word
from bot.scope import other_office_refusal
from storage.models import Person
from storage.nudges import Assignment, KudosOptIn

if TYPE_CHECKING:
    from bot.core import Learnbot

logger = logging.getLogger(__name__)

OPEN_NUDGE_DAYS = 21
"""A reminder older than this no longer makes typed text like "done" about it."""
REPLY_WINDOW = timedelta(hours=48)
"""Within this time of a reminder, any reply-like text (thanks, a question, "yes") is about it;
after it, only a clear answer is ("done", "remind me Friday", "not mine"), so a link pasted
days later gets the normal assistant, not the reminder."""
PAUSING = {Kind.NOT_MINE, Kind.EXEMPT, Kind.ON_LEAVE, Kind.STOP}


# -- look-ups --------------------------------------------------------------------------------
async def _own_assignment(ctx: Context, value: str) -> Assignment:
    """The assignment behind a button, only if it is the presser's own (reminders are private)."""
    assignment = await store.assignment(ctx.session, value)
    if assignment is None or assignment.person_id != ctx.person.id:
        raise UserError(ctx._("That reminder isn't one of yours, so I left it alone."))
    return assignment


async def _open_nudged(ctx: Context, text: str) -> Assignment | None:
    """The reminder a typed reply answers: the course it names, else the latest reminder."""
    since = ctx.now - timedelta(days=OPEN_NUDGE_DAYS)
    rows = await store.recently_nudged(ctx.session, ctx.person.id, since)
    lowered = text.lower()
    for assignment in rows:
        course = outcomes.course_of(ctx.config, assignment)
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


def _course_named(ctx: Context, text: str) -> Course:
    course = next((c for c in ctx.config.courses if text in {c.id.lower(), c.title.lower()}), None)
    if course is None:
        known = ", ".join(c.id for c in ctx.config.courses)
        raise UserError(
            ctx._("I don't know the course '{course}'. Courses: {known}.", course=text, known=known)
        )
    return course


async def _subject(ctx: Context, args: str) -> Assignment:
    """``<email> <course>`` -> the self-reported assignment a manager acts on (own office only)."""
    parts = args.split()
    if len(parts) < 2:
        raise UserError(
            ctx._("Give the person's email and the course, e.g. `/learning confirm ana@example.org ethics`.")
        )
    email = parts[0].lower()
    course = _course_named(ctx, " ".join(parts[1:]).lower())
    person = await person_by_email(ctx.session, email)
    if person is None:
        raise UserError(ctx._("I don't know anyone as {email}.", email=email))
    await _check_reviewer(ctx, person)
    assignment = await store.latest_self_reported(ctx.session, person.id, course.id)
    if assignment is None:
        raise UserError(
            ctx._(
                "{name} has no self-reported completion of {course} to review.",
                name=person.name,
                course=course.title,
            )
        )
    return assignment


async def _check_reviewer(ctx: Context, person: Person) -> None:
    """Only a manager of the person's office reviews their completion, and never their own
    (a manager's own self-report goes to another manager of the office or an org admin)."""
    if not ctx.manages(person.office_id):
        # Polite, and without saying which office they are in.
        raise UserError(
            ctx._(
                "Sorry, {who} isn't in an office you manage, so I left it as it was.",
                who=person.email or person.name,
            )
        )
    if person.id == ctx.person.id:
        raise UserError(
            ctx._(
                "That's your own completion: another learning manager of your office or an org admin "
                "confirms it."
            )
        )


async def _managed(ctx: Context, value: str) -> Assignment:
    """The assignment behind a manager's button, only within the manager's own offices."""
    if not ctx.is_learning_manager:
        raise UserError(ctx._("Only a learning manager can confirm or reject completions."))
    assignment = await store.assignment(ctx.session, value)
    if assignment is None:
        raise UserError(ctx._("That completion no longer exists, so I left it alone."))
    await _check_reviewer(ctx, await ctx.session.get_one(Person, assignment.person_id))
    return assignment


async def own_courses(ctx: Context) -> list[Message]:
    """Per course: the open assignment if any, and the latest completion."""
    rows = await store.assignments_of(ctx.session, ctx.person.id)
    if not rows:
        return []
    today = outcomes.local_today(ctx.config, ctx.person, ctx.now)
    by_course: dict[str, list[Assignment]] = {}
    for assignment in rows:
        by_course.setdefault(assignment.course_id, []).append(assignment)
    ordered = sorted(
        by_course.values(),
        key=lambda items: min((a.due_on for a in items if a.completed_on is None), default=date.max),
    )
    courses = [(outcomes.course_of(ctx.config, items[0]), items) for items in ordered]
    return [texts.own_courses(ctx.t, courses, today)]


# -- commands --------------------------------------------------------------------------------
async def courses(ctx: Context, args: str) -> Reply:
    return await own_courses(ctx) or plain(ctx._("You have no mandatory courses assigned right now. 🎉"))


async def home(ctx: Context) -> list[Message]:
    return await own_courses(ctx)


async def compliance_report(ctx: Context, args: str) -> Reply:
    """``/learning report [office|offices]``: the manager's office(s), one report each, with
    the organisation compared; ``offices`` (org admins) puts every office side by side."""
    wanted = args.strip()
    today = local_time(ctx.config.office(ctx.person.office_id).timezone, ctx.now).today
    rates = await report.office_rates(ctx.session, ctx.config, today)
    if wanted.lower() in {"offices", "all", "org", "organisation", "organization"}:
        if not ctx.is_org_admin:
            return plain(
                ctx._("Offices side by side are for org admins (`org_admins` in app.yaml)."), private=True
            )
        return report.render_offices(ctx.t, rates)
    if wanted:
        office = ctx.config.office_for_label(wanted)
        if office is None:
            return plain(ctx._("I don't know an office called '{office}'.", office=wanted))
        if not ctx.manages(office.id):
            return await other_office_refusal(ctx.session, ctx.config, office.id, ctx.t)
        offices = [office]
    else:
        offices = [o for o in ctx.config.offices if o.id in ctx.managed_offices]
    messages = []
    for office in offices:
        lines = await report.office_report(ctx.session, ctx.config, office, today)
        compared = report.organisation_line(ctx.t, rates, office)
        messages.append(report.render(ctx.t, office, lines, weekly=False, compared=compared))
    return messages


async def _pending_review(ctx: Context) -> Reply:
    pending = [
        (person.name, outcomes.course_of(ctx.config, assignment), assignment)
        for assignment, person in await store.self_reported(ctx.session)
        if ctx.manages(person.office_id) and person.id != ctx.person.id
    ]
    if not pending:
        return plain(ctx._("Nothing to review: no self-reported completions are waiting."), dm=True)
    return texts.review(ctx.t, pending, ctx.now.date())


async def confirm(ctx: Context, args: str) -> Reply:
    if not args.strip():
        return await _pending_review(ctx)
    return plain(await outcomes.confirm(ctx.app, ctx.session, ctx.t, await _subject(ctx, args)))


async def reject(ctx: Context, args: str) -> Reply:
    if not args.strip():
        return await _pending_review(ctx)
    return plain(await outcomes.reject(ctx.app, ctx.session, ctx.t, await _subject(ctx, args)))


async def kudos(ctx: Context, args: str) -> Reply:
    choice = args.strip().lower()
    opted = await store.kudos_opt_in(ctx.session, ctx.person.id)
    if choice in {"on", "yes", "oui", "si", "sí"}:
        if opted is None:
            ctx.session.add(KudosOptIn(person_id=ctx.person.id, opted_in_at=ctx.now))
        return plain(
            ctx._("Kudos are on: when you complete a course I'll celebrate it in the office channel.")
        )
    if choice in {"off", "no", "non"}:
        if opted is not None:
            await ctx.session.delete(opted)
        return plain(ctx._("Kudos are off: your completions stay private."))
    if opted:
        return plain(ctx._("Public kudos are on. Use `/learning kudos on` or `/learning kudos off`."))
    return plain(
        ctx._("Public kudos are off (the default). Use `/learning kudos on` or `/learning kudos off`.")
    )


# -- buttons ---------------------------------------------------------------------------------
# The answer to a reminder's button takes the reminder's place (``replaces_pressed``), so its
# Done / Remind me later / I need help buttons can't be pressed a second time.
async def done_pressed(ctx: Context, value: str) -> Reply:
    assignment = await _own_assignment(ctx, value)
    outcome = await outcomes.report_done(ctx.app, ctx.session, ctx.t, ctx.person, assignment)
    return plain(outcome.text, replaces_pressed=True)


async def later_pressed(ctx: Context, value: str) -> Reply:
    assignment = await _own_assignment(ctx, value)
    outcome = await outcomes.snooze(ctx.app, ctx.session, ctx.t, ctx.person, assignment, None)
    more = " " + ctx._("Another day? Type e.g. `remind me on Friday` or `next week`.")
    return plain(outcome.text + more, replaces_pressed=True)


async def help_pressed(ctx: Context, value: str) -> Reply:
    assignment = await _own_assignment(ctx, value)
    outcome = await outcomes.ask_for_help(ctx.app, ctx.session, ctx.t, ctx.person, assignment, None)
    return plain(outcome.text, replaces_pressed=True)


async def confirm_pressed(ctx: Context, value: str) -> Reply:
    return plain(await outcomes.confirm(ctx.app, ctx.session, ctx.t, await _managed(ctx, value)))


async def reject_pressed(ctx: Context, value: str) -> Reply:
    return plain(await outcomes.reject(ctx.app, ctx.session, ctx.t, await _managed(ctx, value)))


async def resume_pressed(ctx: Context, value: str) -> Reply:
    return plain(await outcomes.resume(ctx.app, ctx.session, ctx.t, await _managed(ctx, value)))


# -- typed replies ---------------------------------------------------------------------------
async def _which_help(ctx: Context) -> Reply:
    """A bare "help" right after a reminder: ask rather than guess. Escalating to the
    learning manager unasked would be wrong, and so would ignoring someone who is stuck."""
    assignment = await _open_nudged(ctx, "")
    if assignment is None:
        return None
    course = outcomes.course_of(ctx.config, assignment)
    return texts.which_help(ctx.t, course, assignment.id, ctx.app.help_message(ctx))


async def reply(ctx: Context, text: str) -> Reply:
    """A typed answer to a reminder, in the person's language: done (with its day), a day to be
    reminded, help, not mine / exempt / on leave / stop, thanks, a question, or "which?"."""
    if is_help_word(text):
        return await _which_help(ctx)
    intent = understand(text, _local_now(ctx), ctx.t.language)
    if intent is None:
        return None
    assignment = await _open_nudged(ctx, text)
    if assignment is None:
        return None
    recent = assignment.last_nudge_at is not None and ctx.now - assignment.last_nudge_at <= REPLY_WINDOW
    if not intent.is_reply and not recent:
        return None
    return await _act(ctx, assignment, intent, text)


async def _act(ctx: Context, assignment: Assignment, intent: Intent, text: str) -> Reply:
    app, session, t, person = ctx.app, ctx.session, ctx.t, ctx.person
    course = outcomes.course_of(ctx.config, assignment)
    if intent.kind == Kind.DONE:
        outcome = await outcomes.report_done(app, session, t, person, assignment, intent.on)
    elif intent.kind == Kind.NOT_YET:
        later = await outcomes.snooze(app, session, t, person, assignment, None)
        return plain(t._("No problem, thanks for telling me.") + " " + later.text)
    elif intent.kind == Kind.SNOOZE:
        outcome = await outcomes.snooze(app, session, t, person, assignment, intent.on, intent.default)
    elif intent.kind == Kind.HELP:
        outcome = await outcomes.ask_for_help(app, session, t, person, assignment, text)
    elif intent.kind in PAUSING:
        outcome = await outcomes.pause(app, session, t, person, assignment, intent.kind, text)
    elif intent.kind == Kind.THANKS:
        return plain(t._("You're welcome! 🙂"))
    elif intent.kind == Kind.QUESTION:
        return await _answer(ctx, assignment, intent, text)
    else:
        return texts.clarify(t, course, assignment.id)
    return plain(outcome.text)


async def _answer(ctx: Context, assignment: Assignment, intent: Intent, text: str) -> Reply:
    """A question the course's own details answer (when is it due, where is the link), or one
    for the learning manager."""
    course = outcomes.course_of(ctx.config, assignment)
    today = outcomes.local_today(ctx.config, ctx.person, ctx.now)
    if intent.topic == "due":
        return plain(
            ctx._("*{course}* is due on {day}.", course=course.title, day=ctx.t.day(assignment.due_on, today))
        )
    if intent.topic == "link" and course.url:
        return plain(ctx._("Here's *{course}*: {url}", course=course.title, url=course.url))
    outcome = await outcomes.ask_manager(ctx.app, ctx.session, ctx.t, ctx.person, assignment, text)
    return plain(outcome.text)


async def explain(ctx: Context, text: str) -> Reply:
    """Asked last: someone with a fresh reminder (within the reply window) who typed something
    nobody understood. Later, the normal assistant answers instead."""
    assignment = await _open_nudged(ctx, text)
    if (
        assignment is None
        or assignment.last_nudge_at is None
        or ctx.now - assignment.last_nudge_at > REPLY_WINDOW
    ):
        return None
    course = outcomes.course_of(ctx.config, assignment)
    return plain(
        ctx._(
            "Sorry, I didn't understand that. About your reminder for {course}: {how} For everything else, "
            "type `help`.",
            course=course.title,
            how=ctx._(texts.UNDERSTOOD),
        )
    )


# -- jobs ------------------------------------------------------------------------------------
async def sweep_job(app: Learnbot, session: AsyncSession, args: dict[str, Any]) -> str:
    return await sweep(app, session)


async def summary_job(app: Learnbot, session: AsyncSession, args: dict[str, Any]) -> str:
    """Each learning manager's private weekly summary of their own office, compared with the
    organisation; org admins get the offices side by side."""
    now = app.clock.now()
    sent = await _org_summary(app, session)
    for office in app.config.offices:
        today = local_time(office.timezone, now).today
        year, week, _ = today.isocalendar()
        lines = await report.office_report(session, app.config, office, today)
        unreachable = await report.unreachable_assignees(session, app.config, app.platforms, office)
        rates = await report.office_rates(session, app.config, today)
        for email in office.learning_managers:
            manager = await get_or_create_by_email(session, app.config, email, now)
            planned = await app.plan(
                session,
                destination=ToPerson(manager.id),
                message=report.with_reach(
                    t := app.translator_for(manager),
                    report.render(
                        t, office, lines, weekly=True, compared=report.organisation_line(t, rates, office)
                    ),
                    unreachable,
                ),
                key=f"nudge-summary:{office.id}:{manager.id}:{year}-W{week:02d}",
            )
            sent += sum(1 for p in planned if p.created)
    return f"{sent} weekly summary(ies) planned"


async def _org_summary(app: Learnbot, session: AsyncSession) -> int:
    now = app.clock.now()
    year, week, _ = now.date().isocalendar()
    rates = await report.office_rates(session, app.config, now.date())
    sent = 0
    for email in app.config.org_admins:
        admin = await get_or_create_by_email(session, app.config, email, now)
        planned = await app.plan(
            session,
            destination=ToPerson(admin.id),
            message=report.render_offices(app.translator_for(admin), rates),
            key=f"nudge-org:{admin.id}:{year}-W{week:02d}",
        )
        sent += sum(1 for p in planned if p.created)
    return sent


# -- registration ----------------------------------------------------------------------------
def register(router: Router) -> None:
    """The nudges feature's whole registration table."""
    command = router.command
    command("learning", "courses", help=N_("your mandatory courses and when they are due"), private=True)(
        courses
    )
    router.home_section(10)(home)
    command(
        "learning",
        "report",
        usage="[office | offices]",
        help=N_("compliance per course in your office(s): assigned, done, overdue, trend"),
        managers_only=True,
        private=True,
    )(compliance_report)
    review_usage = "[<email> <course>]"
    command(
        "learning",
        "confirm",
        usage=review_usage,
        help=N_("confirm self-reported completions"),
        managers_only=True,
        private=True,
    )(confirm)
    command(
        "learning",
        "reject",
        usage=review_usage,
        help=N_("reject a self-reported completion"),
        managers_only=True,
        private=True,
    )(reject)
    command(
        "learning", "kudos", usage="on|off", help=N_("celebrate your completed courses in the office channel")
    )(kudos)
    router.action(actions.DONE, private=True)(done_pressed)
    router.action(actions.LATER, private=True)(later_pressed)
    router.action(actions.HELP, private=True)(help_pressed)
    router.action(actions.CONFIRM, private=True)(confirm_pressed)
    router.action(actions.REJECT, private=True)(reject_pressed)
    router.action(actions.RESUME, private=True)(resume_pressed)
    router.interpreter("nudges", priority=20, private=True)(reply)
    router.interpreter("nudges-fallback", priority=90, private=True)(explain)
    router.job("nudge_sweep")(sweep_job)
    router.job("nudge_summary")(summary_job)
