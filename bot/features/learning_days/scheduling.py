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
from bot.messages import Button, Buttons, Fields, Header, Message, Note, Text, plain
from bot.people import person_timezone
from bot.router import Context, Reply
from storage.learning_days import SCHEDULED, LearningDay
from storage.models import DialogState

NAME = "learning_day_schedule"
SKIP_WORDS = {"skip", "none", "no", "-", "n/a", "default", "ok", "okay"}
YES_WORDS = {"yes", "y", "confirm", "schedule", "schedule it", "ok", "okay", "go"}


def _idle(ctx: Context) -> timedelta:
    return timedelta(minutes=ctx.config.dialog_idle_minutes)


async def _save(ctx: Context, step: str, data: dict[str, Any]) -> None:
    await dialogs.save(ctx.session, ctx.person.id, NAME, step, data, ctx.now, _idle(ctx))


async def start(ctx: Context) -> Reply:
    await _save(ctx, "date", {})
    tz = person_timezone(ctx.config, ctx.person)
    return plain(
        "Let's schedule a learning day. Which date? (e.g. `next Thursday`, `15 Jan`; "
        f"read in your time zone, {tz}). Type `cancel` to stop.",
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
    facts = [("Title", draft.title), ("When", when(ctx.config, draft)), ("Office", office.name)]
    facts += [("Theme", draft.theme)] if draft.theme else []
    facts += [("Where", draft.place)] if draft.place else []
    facts += [("Online", draft.online_url)] if draft.online_url else []
    announce = ", ".join(ctx.config.learning_days.announce)
    return Message(
        text=f"Schedule {draft.title} on {when(ctx.config, draft)}? Type yes to schedule it, or cancel.",
        blocks=[
            Header("Schedule this learning day?"),
            Fields(facts),
            Text("Type `yes` to schedule it, or `cancel` to drop it."),
            Buttons([Button("Schedule it", actions.CONFIRM, "yes", style="primary")]),
            Note(f"I'll announce it in the office channels: {announce}."),
        ],
        dm=True,
    )


async def on_text(ctx: Context, state: DialogState, text: str) -> Reply:
    data = dict(state.data)
    answer = text.strip()
    lowered = answer.lower()
    if state.step == "date":
        tz = person_timezone(ctx.config, ctx.person)
        day = parsing.parse_date(answer, tz, ctx.now, ctx.person.locale)
        data["date"] = day.isoformat()
        section = ctx.config.learning_days
        await _save(ctx, "time", data)
        return plain(
            f"{day:%A} {day.day} {day:%B %Y}. What time? Type e.g. `09:00-16:00`, just the start "
            f"(`10:00`, ending {section.end:%H:%M}), or `ok` for "
            f"{section.start:%H:%M}–{section.end:%H:%M} (office time).",
            dm=True,
        )
    if state.step == "time":
        section = ctx.config.learning_days
        start, end = (
            (section.start, section.end)
            if lowered in SKIP_WORDS
            else parsing.parse_time_range(answer, section.end)
        )
        data["start"], data["end"] = start.isoformat("minutes"), end.isoformat("minutes")
        await _save(ctx, "title", data)
        return plain("What's the title? (e.g. `Learning day: data skills`)", dm=True)
    if state.step == "title":
        title = " ".join(answer.split())
        if not 1 <= len(title) <= 200:
            raise UserError("Give the day a title of up to 200 characters.")
        data["title"] = title
        await _save(ctx, "theme", data)
        return plain("What's the theme, in a line? (or `skip`)", dm=True)
    if state.step == "theme":
        theme = "" if lowered in SKIP_WORDS else " ".join(answer.split())
        if len(theme) > 500:
            raise UserError("Keep the theme under 500 characters.")
        data["theme"] = theme
        await _save(ctx, "place", data)
        return plain(
            "Where is it? A room, an online link or both "
            "(e.g. `Room 4 https://meet.example.org/x`), or `skip`.",
            dm=True,
        )
    if state.step == "place":
        place, url = ("", "") if lowered in SKIP_WORDS else parsing.split_place(answer)
        if len(place) > 300 or len(url) > 1000:
            raise UserError("That place is too long; keep it under 300 characters.")
        data["place"], data["online_url"] = place, url
        await _save(ctx, "confirm", data)
        return _summary(ctx, data)
    if state.step == "confirm":
        if lowered.strip("!. ") in YES_WORDS:
            return await confirm(ctx, state)
        return plain("Type `yes` to schedule it, or `cancel` to drop it.", dm=True)
    await dialogs.finish(ctx.session, ctx.person.id)
    return plain("I lost track of that conversation; please start again with `/learning day schedule`.")


async def confirm(ctx: Context, state: DialogState) -> Reply:
    """Create the day from a confirmed draft (typed "yes" or the "Schedule it" button)."""
    data = dict(state.data)
    tz = person_timezone(ctx.config, ctx.person)
    if date.fromisoformat(data["date"]) < ctx.now.astimezone(ZoneInfo(tz)).date():
        await dialogs.finish(ctx.session, ctx.person.id)
        return plain("That date has passed while we were talking; start again with `/learning day schedule`.")
    office = ctx.config.office(ctx.person.office_id)
    day = _draft_day(ctx.config, data, office.id)
    day.created_by, day.created_at = ctx.person.id, ctx.now
    ctx.session.add(day)
    await ctx.session.flush()
    await dialogs.finish(ctx.session, ctx.person.id)
    channels = ", ".join(c.name or c.key for c in office.channels if c.learning_days) or "no channel yet"
    return plain(
        f"Scheduled learning day #{day.id}: {day.title}, {when(ctx.config, day)}. "
        f"I'll announce it in {channels} ({', '.join(ctx.config.learning_days.announce)}). "
        f"Add sessions with `/learning day add-session {day.id} <title> by <email>`.",
        dm=True,
    )


async def on_action(ctx: Context, state: DialogState, action_id: str, value: str) -> Reply:
    """The "Schedule it" button of the open draft (the core checked it is open and not idle)."""
    if state.step != "confirm":
        return plain("That draft is no longer open; start again with `/learning day schedule`.")
    return await confirm(ctx, state)


DIALOG = Dialog(
    name=NAME,
    topic="the learning day you were scheduling",
    restart_hint="Start again with `/learning day schedule`.",
    on_text=on_text,
    on_action=on_action,
    actions=frozenset({actions.CONFIRM}),
)
