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
from bot.i18n import N_, Translator
from bot.messages import Message, Note, Text, plain
from bot.outbox import ToChannel, ToPerson
from bot.people import get_or_create_by_email
from bot.router import Context, Reply, Router
from bot.scope import other_office_refusal
from storage.learning_days import CANCELLED, LearningDay
from storage.models import Person

__all__ = ["add_agenda_session", "register", "upcoming_days"]

if TYPE_CHECKING:
    from bot.core import Learnbot

logger = logging.getLogger(__name__)

DAY_USAGE = N_(
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
    usage = ctx._("Learning day commands: {usage}", usage=ctx._(DAY_USAGE))
    if verb:
        return plain(ctx._("I don't know `/learning day {verb}`.", verb=verb) + " " + usage)
    return plain(usage)


async def _managed_day(ctx: Context, text: str) -> LearningDay:
    """The learning day ``text`` names, if it belongs to an office this manager manages."""
    day = await store.get_day(ctx.session, store.parse_day_id(text))
    if not ctx.manages(day.office_id):
        raise UserError((await other_office_refusal(ctx.session, ctx.config, day.office_id, ctx.t)).text)
    return day


async def _editable_day(ctx: Context, text: str) -> LearningDay:
    day = await _managed_day(ctx, text)
    if day.status == CANCELLED:
        raise UserError(
            ctx._("Learning day #{number} ({title}) is already cancelled.", number=day.id, title=day.title)
        )
    if store.is_over(day, ctx.now):
        raise UserError(
            ctx._(
                "Learning day #{number} ({title}) is over, so it can't be changed.",
                number=day.id,
                title=day.title,
            )
        )
    return day


def _office_language(ctx: Context, day: LearningDay) -> Translator:
    """Channel posts speak the office's language (a channel has many readers)."""
    return ctx.app.i18n.choose(ctx.config.office(day.office_id).locale)


async def _notify_channels(ctx: Context, day: LearningDay, message: Message, reason: str) -> int:
    keys = announce.channels(ctx.config, day.office_id)
    for key in keys:
        # A notice about a day is useless once the day is over: that is its deadline.
        await ctx.send(
            ToChannel(key),
            message,
            key=f"learning-day:{day.id}:{reason}:{key}",
            expires_at=store.ends_at(day),
        )
    return len(keys)


async def _change(ctx: Context, rest: str) -> Reply:
    parts = rest.strip().split(None, 2)
    if len(parts) < 3 or parts[1].lower() not in CHANGE_FIELDS:
        raise UserError(
            ctx._(
                "Tell me which day, what to change and the new value, e.g. "
                "`/learning day change 4 date 22 Jan`, `... time 10:00-15:00`, "
                "`... place Room 5 https://meet.example.org/x`, `... title ...` or `... theme ...`."
            )
        )
    day = await _editable_day(ctx, parts[0])
    field, value = parts[1].lower(), parts[2].strip()
    channel = _office_language(ctx, day)
    what = await _apply_change(ctx, channel, day, field, value)
    if store.is_over(day, ctx.now):
        raise UserError(ctx._("With that change the day would already be over; nothing was changed."))
    day.version += 1
    day.changed_at = ctx.now
    await ctx.session.flush()
    item = await views.view(ctx.session, day)
    notice = views.change_notice(channel, ctx.config, item, what, ctx.now)
    posted = await _notify_channels(ctx, day, notice, f"changed:{day.version}")
    said = ctx.ngettext(
        "Changed learning day #{number}: {what}. A change notice goes to {n} channel, "
        "and the next announcements use the new details.",
        "Changed learning day #{number}: {what}. A change notice goes to {n} channels, "
        "and the next announcements use the new details.",
        posted,
        number=day.id,
        what=what,
    )
    return plain(said)


async def _apply_change(ctx: Context, t: Translator, day: LearningDay, field: str, value: str) -> str:
    """Change one field of ``day``; returns what changed, worded for the channel (``t``)."""
    if field == "date":
        new_date = parsing.parse_date(ctx.t, value, day.timezone, ctx.now)
        if new_date == day.date:
            raise UserError(ctx._("Learning day #{number} is already on that date.", number=day.id))
        day.date = new_date
        return t._("New date: {day}", day=t.day(new_date))
    if field == "time":
        day.start_time, day.end_time = parsing.parse_time_range(ctx.t, value, day.end_time)
        return t._("New time: {start}–{end}", start=t.time(day.start_time), end=t.time(day.end_time))
    if field == "place":
        day.place, day.online_url = parsing.split_place(value)
        return t._(
            "New place: {place}", place=" · ".join(part for part in (day.place, day.online_url) if part)
        )
    if field == "title":
        if not 1 <= len(value) <= 200:
            raise UserError(ctx._("Give the day a title of up to 200 characters."))
        day.title = " ".join(value.split())
        return t._("New title: {title}", title=value)
    day.theme = " ".join(value.split())[:500]
    return t._("New theme: {theme}", theme=value)


async def _cancel(ctx: Context, rest: str) -> Reply:
    day = await _editable_day(ctx, rest)
    day.status = CANCELLED
    day.cancelled_at = ctx.now
    await ctx.session.flush()
    item = await views.view(ctx.session, day)
    notice = views.cancel_notice(_office_language(ctx, day), ctx.config, item, ctx.now)
    posted = await _notify_channels(ctx, day, notice, "cancelled")
    coming = await store.people_answering(ctx.session, day.id, ("going", "maybe"))
    for person_id in coming:
        person = await ctx.session.get_one(Person, person_id)
        own = views.cancel_notice(ctx.app.translator_for(person), ctx.config, item, ctx.now)
        await ctx.send(
            ToPerson(person_id),
            own,
            key=f"learning-day:{day.id}:cancelled:person:{person_id}",
            expires_at=store.ends_at(day),
        )
    channels = ctx.ngettext("{n} channel", "{n} channels", posted)
    people = ctx.ngettext("the {n} person", "the {n} people", len(coming))
    return plain(
        ctx._(
            "Cancelled learning day #{number} ({title}). A notice goes to {channels} "
            "and privately to {people} who said they'd come.",
            number=day.id,
            title=day.title,
            channels=channels,
            people=people,
        )
    )


async def _add_session(ctx: Context, rest: str) -> Reply:
    match = _ADD_SESSION.match(rest.strip())
    if not match:
        raise UserError(ctx._("Write `/learning day add-session <day number> <title> [by <email>]`."))
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
    title = " ".join(match.group(2).split())
    if presenter:
        return plain(
            ctx._(
                "Added “{session}” by {name} to the agenda of #{number} ({title}).",
                session=title,
                name=presenter.name,
                number=day.id,
                title=day.title,
            )
        )
    return plain(
        ctx._(
            "Added “{session}” to the agenda of #{number} ({title}).",
            session=title,
            number=day.id,
            title=day.title,
        )
    )


async def _who(ctx: Context, rest: str) -> Reply:
    """Names behind the counts, for planning the room: shown only to learning managers (the
    channel posts show counts, never who said no)."""
    day = await _managed_day(ctx, rest)
    answers = await store.answers(ctx.session, day.id)
    lines = [
        f"{ctx._(views.ANSWER_LABELS[answer])} ({len(names)}): {', '.join(names) or ctx._('nobody yet')}"
        for answer, names in answers.items()
    ]
    return Message(
        text=ctx._("Who answered for #{number} {title}:", number=day.id, title=day.title)
        + " "
        + "; ".join(lines),
        blocks=[Text(f"*{day.title}* — {views.when(ctx.t, day)}"), Text("\n".join(lines))],
        dm=True,
    )


# -- everyone --------------------------------------------------------------------------------
async def _days(ctx: Context, args: str) -> Reply:
    everywhere = args.strip().lower() == "all"
    office = ctx.config.office(ctx.person.office_id)
    days = await store.upcoming(ctx.session, None if everywhere else office.id, ctx.now)
    items = [await views.view(ctx.session, day, ctx.person.id) for day in days]
    where = ctx._("all offices") if everywhere else office.name
    return views.listing(
        ctx.t,
        ctx.config,
        items,
        heading=ctx._("Upcoming learning days ({where})", where=where),
        empty=ctx._("No learning days are scheduled yet for {where}.", where=where),
    )


async def _rsvp(ctx: Context, value: str) -> Reply:
    day_text, _, answer = value.partition(":")
    day = await store.get_day(ctx.session, store.parse_day_id(day_text))
    if day.status == CANCELLED:
        return plain(
            ctx._(
                "{title} on {day} was cancelled, so there's nothing to answer.",
                title=day.title,
                day=views.short_date(ctx.t, day),
            ),
            dm=True,
        )
    if store.is_over(day, ctx.now):
        return plain(
            ctx._("{title} on {day} is over already.", title=day.title, day=views.short_date(ctx.t, day)),
            dm=True,
        )
    await store.set_answer(ctx.session, day.id, ctx.person.id, answer, ctx.now)
    item = await views.view(ctx.session, day)
    counts = views.counts(ctx.t, item)
    phrase = ctx._(views.ANSWER_PHRASES[answer])
    noted = ctx._(
        "Thanks, noted that {phrase} to *{title}* on {day}.",
        phrase=phrase,
        title=day.title,
        day=views.short_date(ctx.t, day),
    )
    return Message(
        text=f"{noted} {counts}",
        blocks=[
            Text(noted),
            Note(counts + " · " + ctx._("Changed your mind? Press another answer any time.")),
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
    return [views.home(ctx.t, ctx.config, items)]


async def _announcements(app: Learnbot, session: AsyncSession, args: dict[str, Any]) -> str:
    return (await announce.run(app, session)).describe()


def register(router: Router) -> None:
    router.command(
        "learning",
        "day",
        help=N_("schedule, change or cancel a learning day; add a session"),
        usage="schedule | change <id> … | cancel <id> | add-session <id> <title> [by <email>] | who <id>",
        managers_only=True,
        private=True,
    )(_day_command)
    router.command(
        "learning", "days", help=N_("upcoming learning days, with who is coming"), usage="[all]", private=True
    )(_days)
    router.dialog(scheduling.DIALOG)
    router.action(actions.RSVP, private=True)(_rsvp)
    router.action(actions.CALENDAR)(_calendar_link)
    router.home_section(20)(_home)
    router.job("learning_day_announcements")(_announcements)
