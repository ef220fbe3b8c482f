"""Learning days: a learning manager schedules them (in a conversation, or as a recurring rule in
``app.yaml``), Learnbot announces them in the office channels at the configured offsets with the
agenda, RSVP buttons and a calendar file, and posts change and cancellation notices.

This module holds the handlers and, at the bottom, their registration table; the work lives in
the other modules of this folder. ``add_agenda_session`` and ``upcoming_days`` (re-exported by
the package) are the entry points other features (agenda invites) use to put sessions onto a day.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import UserError
from bot.features.learning_days import actions, announce, parsing, scheduling, store, views
from bot.features.learning_days.store import add_agenda_session
from bot.messages import Message, Note, Text, plain
from bot.outbox import ToChannel, ToPerson
from bot.people import get_or_create_by_email
from bot.router import Context, Reply, Router
from bot.scope import other_office_refusal
from storage.learning_days import CANCELLED, LearningDay

__all__ = ["add_agenda_session", "register", "upcoming_days"]

if TYPE_CHECKING:
    from bot.core import Learnbot

logger = logging.getLogger(__name__)

DAY_USAGE = (
    "`/learning day schedule` · `/learning day change <id> date|time|place|title|theme <value>` · "
    "`/learning day cancel <id>` · `/learning day add-session <id> <title> [by <email>]` · "
    "`/learning day who <id>`"
)
CHANGE_FIELDS = ("date", "time", "place", "title", "theme")
_ADD_SESSION = re.compile(r"^(\S+)\s+(.+?)(?:\s+by\s+(\S+@\S+))?$", re.IGNORECASE | re.DOTALL)


# -- the API other features use -------------------------------------------------------------
# add_agenda_session(session, *, day_id, title, presenter_person_id, source, now) -> int is
# re-exported from .store.


async def upcoming_days(session: AsyncSession, office_id: str, now: datetime) -> list[LearningDay]:
    """Scheduled days in ``office_id`` that are not over yet, soonest first."""
    return await store.upcoming(session, office_id, now)


# -- manager commands ------------------------------------------------------------------------
async def _day_command(ctx: Context, args: str) -> Reply:
    verb, _, rest = args.strip().partition(" ")
    verb = verb.lower()
    if verb == "schedule":
        return await scheduling.start(ctx)
    if verb in {"change", "reschedule"}:
        return await _change(ctx, rest)
    if verb == "cancel":
        return await _cancel(ctx, rest)
    if verb in {"add-session", "add_session", "addsession"}:
        return await _add_session(ctx, rest)
    if verb in {"who", "rsvps"}:
        return await _who(ctx, rest)
    note = f"I don't know `/learning day {verb}`. " if verb else ""
    return plain(f"{note}Learning day commands: {DAY_USAGE}")


async def _managed_day(ctx: Context, text: str) -> LearningDay:
    """The learning day ``text`` names, if it belongs to an office this manager manages."""
    day = await store.get_day(ctx.session, store.parse_day_id(text))
    if not ctx.manages(day.office_id):
        raise UserError((await other_office_refusal(ctx.session, ctx.config, day.office_id)).text)
    return day


async def _editable_day(ctx: Context, text: str) -> LearningDay:
    day = await _managed_day(ctx, text)
    if day.status == CANCELLED:
        raise UserError(f"Learning day #{day.id} ({day.title}) is already cancelled.")
    if store.is_over(day, ctx.now):
        raise UserError(f"Learning day #{day.id} ({day.title}) is over, so it can't be changed.")
    return day


async def _notify_channels(ctx: Context, day: LearningDay, message: Message, reason: str) -> int:
    keys = announce.channels(ctx.config, day.office_id)
    for key in keys:
        await ctx.send(ToChannel(key), message, key=f"learning-day:{day.id}:{reason}:{key}")
    return len(keys)


async def _change(ctx: Context, rest: str) -> Reply:
    parts = rest.strip().split(None, 2)
    if len(parts) < 3 or parts[1].lower() not in CHANGE_FIELDS:
        raise UserError(
            "Tell me which day, what to change and the new value, e.g. "
            "`/learning day change 4 date 22 Jan`, `... time 10:00-15:00`, "
            "`... place Room 5 https://meet.example.org/x`, `... title ...` or `... theme ...`."
        )
    day = await _editable_day(ctx, parts[0])
    field, value = parts[1].lower(), parts[2].strip()
    if field == "date":
        new_date = parsing.parse_date(value, day.timezone, ctx.now, ctx.person.locale)
        if new_date == day.date:
            raise UserError(f"Learning day #{day.id} is already on that date.")
        what = f"New date: {new_date:%A} {new_date.day} {new_date:%B}"
        day.date = new_date
    elif field == "time":
        day.start_time, day.end_time = parsing.parse_time_range(value, day.end_time)
        what = f"New time: {day.start_time:%H:%M}–{day.end_time:%H:%M}"
    elif field == "place":
        day.place, day.online_url = parsing.split_place(value)
        what = "New place: " + " · ".join(part for part in (day.place, day.online_url) if part)
    elif field == "title":
        if not 1 <= len(value) <= 200:
            raise UserError("Give the day a title of up to 200 characters.")
        day.title, what = " ".join(value.split()), f"New title: {value}"
    else:
        day.theme, what = " ".join(value.split())[:500], f"New theme: {value}"
    if store.is_over(day, ctx.now):
        raise UserError("With that change the day would already be over; nothing was changed.")
    day.version += 1
    day.changed_at = ctx.now
    await ctx.session.flush()
    item = await views.view(ctx.session, day)
    posted = await _notify_channels(
        ctx, day, views.change_notice(ctx.config, item, what, ctx.now), f"changed:{day.version}"
    )
    return plain(
        f"Changed learning day #{day.id}: {what}. A change notice goes to {posted} channel(s), "
        "and the next announcements use the new details."
    )


async def _cancel(ctx: Context, rest: str) -> Reply:
    day = await _editable_day(ctx, rest)
    day.status = CANCELLED
    day.cancelled_at = ctx.now
    await ctx.session.flush()
    item = await views.view(ctx.session, day)
    notice = views.cancel_notice(ctx.config, item, ctx.now)
    posted = await _notify_channels(ctx, day, notice, "cancelled")
    coming = await store.people_answering(ctx.session, day.id, ("going", "maybe"))
    for person_id in coming:
        await ctx.send(ToPerson(person_id), notice, key=f"learning-day:{day.id}:cancelled:person:{person_id}")
    return plain(
        f"Cancelled learning day #{day.id} ({day.title}). A notice goes to {posted} channel(s) "
        f"and privately to the {len(coming)} {'person' if len(coming) == 1 else 'people'} "
        "who said they'd come."
    )


async def _add_session(ctx: Context, rest: str) -> Reply:
    match = _ADD_SESSION.match(rest.strip())
    if not match:
        raise UserError("Write `/learning day add-session <day number> <title> [by <email>]`.")
    day_id = (await _managed_day(ctx, match.group(1))).id
    presenter = None
    if match.group(3):
        presenter = await get_or_create_by_email(ctx.session, ctx.config, match.group(3), ctx.now)
    await add_agenda_session(
        ctx.session,
        day_id=day_id,
        title=match.group(2),
        presenter_person_id=presenter.id if presenter else None,
        source="manager",
        now=ctx.now,
    )
    day = await store.get_day(ctx.session, day_id)
    by = f" by {presenter.name}" if presenter else ""
    return plain(f"Added “{' '.join(match.group(2).split())}”{by} to the agenda of #{day.id} ({day.title}).")


async def _who(ctx: Context, rest: str) -> Reply:
    """Names behind the counts, for planning the room: shown only to learning managers (the
    channel posts show counts, never who said no)."""
    day = await _managed_day(ctx, rest)
    answers = await store.answers(ctx.session, day.id)
    lines = [
        f"{views.ANSWER_LABELS[answer]} ({len(names)}): {', '.join(names) or 'nobody yet'}"
        for answer, names in answers.items()
    ]
    return Message(
        text=f"Who answered for #{day.id} {day.title}: " + "; ".join(lines),
        blocks=[Text(f"*{day.title}* — {views.when(ctx.config, day)}"), Text("\n".join(lines))],
        dm=True,
    )


# -- everyone --------------------------------------------------------------------------------
async def _days(ctx: Context, args: str) -> Reply:
    everywhere = args.strip().lower() == "all"
    office = ctx.config.office(ctx.person.office_id)
    days = await store.upcoming(ctx.session, None if everywhere else office.id, ctx.now)
    items = [await views.view(ctx.session, day, ctx.person.id) for day in days]
    where = "all offices" if everywhere else office.name
    return views.listing(
        ctx.config,
        items,
        heading=f"Upcoming learning days ({where})",
        empty=f"No learning days are scheduled yet for {where}.",
    )


async def _rsvp(ctx: Context, value: str) -> Reply:
    day_text, _, answer = value.partition(":")
    day = await store.get_day(ctx.session, store.parse_day_id(day_text))
    if day.status == CANCELLED:
        return plain(
            f"{day.title} on {views.short_date(day)} was cancelled, so there's nothing to answer.", dm=True
        )
    if store.is_over(day, ctx.now):
        return plain(f"{day.title} on {views.short_date(day)} is over already.", dm=True)
    await store.set_answer(ctx.session, day.id, ctx.person.id, answer, ctx.now)
    counts = await store.counts(ctx.session, day.id)
    phrase = views.ANSWER_PHRASES[answer]
    return Message(
        text=f"Thanks, noted that {phrase} to {day.title} on {views.short_date(day)}. {counts.describe()}",
        blocks=[
            Text(f"Thanks, noted that {phrase} to *{day.title}* on {views.short_date(day)}."),
            Note(f"{counts.describe()} · Changed your mind? Press another answer any time."),
        ],
        dm=True,
    )


async def _calendar_link(ctx: Context, value: str) -> Reply:
    """Slack reports clicks on link buttons too; the browser already opened the .ics, so there
    is nothing to say (without this, the click would get "that button does nothing")."""
    return None


async def _home(ctx: Context) -> list[Message]:
    office = ctx.config.office(ctx.person.office_id)
    days = await store.upcoming(ctx.session, office.id, ctx.now)
    items = [await views.view(ctx.session, day, ctx.person.id) for day in days[: views.HOME_SHOWN]]
    return [views.home(ctx.config, items)]


async def _announcements(app: Learnbot, session: AsyncSession, args: dict[str, Any]) -> str:
    return (await announce.run(app, session)).describe()


def register(router: Router) -> None:
    router.command(
        "learning",
        "day",
        help="schedule, change or cancel a learning day; add a session",
        usage="schedule | change <id> … | cancel <id> | add-session <id> <title> [by <email>] | who <id>",
        managers_only=True,
        private=True,
    )(_day_command)
    router.command(
        "learning", "days", help="upcoming learning days, with who is coming", usage="[all]", private=True
    )(_days)
    router.dialog(scheduling.DIALOG)
    router.action(actions.RSVP, private=True)(_rsvp)
    router.action(actions.CALENDAR)(_calendar_link)
    router.home_section(20)(_home)
    router.job("learning_day_announcements")(_announcements)
