"""The conversation a learning manager has with the bot to schedule a learning day.

Steps: date -> time -> title -> theme -> place/link -> summary to confirm. The state lives in
``dialog_states`` (see :mod:`bot.dialogs`), so a restart or another replica continues it, and
"cancel" or an idle hour drops it without saving anything.
"""

from __future__ import annotations

from datetime import date, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot import dialogs
from bot.config import AppConfig
from bot.dialogs import Dialog
from bot.errors import UserError
from bot.features.learning_days import actions, parsing
from bot.features.learning_days.views import when
from bot.i18n import N_
from bot.messages import Button, Buttons, Fields, Header, Message, Note, Text, plain
from bot.people import person_timezone
from bot.router import Context, Reply
from storage.learning_days import SCHEDULED, LearningDay
from storage.models import DialogState

NAME = "learning_day_schedule"
SKIP_WORDS = {
    "skip", "none", "no", "-", "n/a", "default", "ok", "okay",
    "passer", "aucun", "aucune", "non", "rien", "d'accord", "omitir", "saltar", "ninguno", "ninguna", "vale",
}  # fmt: skip
YES_WORDS = {
    "yes", "y", "confirm", "schedule", "schedule it", "ok", "okay", "go",
    "oui", "confirmer", "programmer", "d'accord", "sí", "si", "confirmar", "programar", "vale",
}  # fmt: skip


def _idle(ctx: Context) -> timedelta:
    return timedelta(minutes=ctx.config.dialog_idle_minutes)


async def _save(ctx: Context, step: str, data: dict[str, Any]) -> None:
    await dialogs.save(ctx.session, ctx.person.id, NAME, step, data, ctx.now, _idle(ctx))


async def start(ctx: Context) -> Reply:
    await _save(ctx, "date", {})
    tz = person_timezone(ctx.config, ctx.person)
    return plain(
        ctx._(
            "Let's schedule a learning day. Which date? (e.g. `next Thursday`, `15 Jan`; "
            "read in your time zone, {zone}). Type `cancel` to stop.",
            zone=tz,
        ),
        dm=True,
    )


def _draft_day(config: AppConfig, data: dict[str, Any], office_id: str) -> LearningDay:
    return LearningDay(
        office_id=office_id,
        timezone=config.office(office_id).timezone,
        date=date.fromisoformat(data["date"]),
        start_time=time.fromisoformat(data["start"]),
        end_time=time.fromisoformat(data["end"]),
        title=data["title"],
        theme=data.get("theme", ""),
        place=data.get("place", ""),
        online_url=data.get("online_url", ""),
        status=SCHEDULED,
        version=1,
    )


def _summary(ctx: Context, data: dict[str, Any]) -> Message:
    office = ctx.config.office(ctx.person.office_id)
    draft = _draft_day(ctx.config, data, office.id)
    on = when(ctx.t, draft)
    facts = [(ctx._("Title"), draft.title), (ctx._("When"), on), (ctx._("Office"), office.name)]
    facts += [(ctx._("Theme"), draft.theme)] if draft.theme else []
    facts += [(ctx._("Where"), draft.place)] if draft.place else []
    facts += [(ctx._("Online"), draft.online_url)] if draft.online_url else []
    announce = ", ".join(ctx.config.learning_days.announce)
    return Message(
        text=ctx._(
            "Schedule {title} on {when}? Type yes to schedule it, or cancel.", title=draft.title, when=on
        ),
        blocks=[
            Header(ctx._("Schedule this learning day?")),
            Fields(facts),
            Text(ctx._("Type `yes` to schedule it, or `cancel` to drop it.")),
            Buttons([Button(ctx._("Schedule it"), actions.CONFIRM, "yes", style="primary")]),
            Note(ctx._("I'll announce it in the office channels: {offsets}.", offsets=announce)),
        ],
        dm=True,
    )


async def _date_answered(ctx: Context, data: dict[str, Any], answer: str) -> Reply:
    """The date, read in the person's language and time zone; then ask for the time."""
    tz = person_timezone(ctx.config, ctx.person)
    day = parsing.parse_date(ctx.t, answer, tz, ctx.now)
    data["date"] = day.isoformat()
    section = ctx.config.learning_days
    await _save(ctx, "time", data)
    return plain(
        ctx._(
            "{day}. What time? Type e.g. `09:00-16:00`, just the start (`10:00`, ending {end}), "
            "or `ok` for {start}–{end} (office time).",
            day=ctx.t.day(day, date.min),
            start=ctx.t.time(section.start),
            end=ctx.t.time(section.end),
        ),
        dm=True,
    )


async def on_text(ctx: Context, state: DialogState, text: str) -> Reply:
    data = dict(state.data)
    answer = text.strip()
    lowered = answer.lower()
    if state.step == "date":
        return await _date_answered(ctx, data, answer)
    if state.step == "time":
        section = ctx.config.learning_days
        start, end = (
            (section.start, section.end)
            if lowered in SKIP_WORDS
            else parsing.parse_time_range(ctx.t, answer, section.end)
        )
        data["start"], data["end"] = start.isoformat("minutes"), end.isoformat("minutes")
        await _save(ctx, "title", data)
        return plain(ctx._("What's the title? (e.g. `Learning day: data skills`)"), dm=True)
    if state.step == "title":
        title = " ".join(answer.split())
        if not 1 <= len(title) <= 200:
            raise UserError(ctx._("Give the day a title of up to 200 characters."))
        data["title"] = title
        await _save(ctx, "theme", data)
        return plain(ctx._("What's the theme, in a line? (or `skip`)"), dm=True)
    if state.step == "theme":
        theme = "" if lowered in SKIP_WORDS else " ".join(answer.split())
        if len(theme) > 500:
            raise UserError(ctx._("Keep the theme under 500 characters."))
        data["theme"] = theme
        await _save(ctx, "place", data)
        return plain(
            ctx._(
                "Where is it? A room, an online link or both (e.g. `Room 4 https://meet.example.org/x`), "
                "or `skip`."
            ),
            dm=True,
        )
    if state.step == "place":
        place, url = ("", "") if lowered in SKIP_WORDS else parsing.split_place(answer)
        if len(place) > 300 or len(url) > 1000:
            raise UserError(ctx._("That place is too long; keep it under 300 characters."))
        data["place"], data["online_url"] = place, url
        await _save(ctx, "confirm", data)
        return _summary(ctx, data)
    if state.step == "confirm":
        if lowered.strip("!. ") in YES_WORDS:
            return await confirm(ctx, state)
        return plain(ctx._("Type `yes` to schedule it, or `cancel` to drop it."), dm=True)
    await dialogs.finish(ctx.session, ctx.person.id)
    return plain(
        ctx._("I lost track of that conversation; please start again with `/learning day schedule`.")
    )


async def confirm(ctx: Context, state: DialogState) -> Reply:
    """Create the day from a confirmed draft (typed "yes" or the "Schedule it" button)."""
    data = dict(state.data)
    tz = person_timezone(ctx.config, ctx.person)
    if date.fromisoformat(data["date"]) < ctx.now.astimezone(ZoneInfo(tz)).date():
        await dialogs.finish(ctx.session, ctx.person.id)
        return plain(
            ctx._("That date has passed while we were talking; start again with `/learning day schedule`.")
        )
    office = ctx.config.office(ctx.person.office_id)
    day = _draft_day(ctx.config, data, office.id)
    day.created_by, day.created_at = ctx.person.id, ctx.now
    ctx.session.add(day)
    await ctx.session.flush()
    await dialogs.finish(ctx.session, ctx.person.id)
    channels = ", ".join(c.name or c.key for c in office.channels if c.learning_days) or ctx._(
        "no channel yet"
    )
    return plain(
        ctx._(
            "Scheduled learning day #{number}: {title}, {when}. I'll announce it in {channels} ({offsets}). "
            "Add sessions with `/learning day add-session {number} <title> by <email>`.",
            number=day.id,
            title=day.title,
            when=when(ctx.t, day),
            channels=channels,
            offsets=", ".join(ctx.config.learning_days.announce),
        ),
        dm=True,
    )


async def on_action(ctx: Context, state: DialogState, action_id: str, value: str) -> Reply:
    """The "Schedule it" button of the open draft (the core checked it is open and not idle)."""
    if state.step != "confirm":
        return plain(ctx._("That draft is no longer open; start again with `/learning day schedule`."))
    return await confirm(ctx, state)


DIALOG = Dialog(
    name=NAME,
    topic=N_("the learning day you were scheduling"),
    restart_hint=N_("Start again with `/learning day schedule`."),
    on_text=on_text,
    on_action=on_action,
    actions=frozenset({actions.CONFIRM}),
)
