"""What learning-day messages say: announcements, change and cancellation notices, listings.

Every message carries the facts people need without clicking (date, time with the office's time
zone, place or link, agenda, who is coming) and the RSVP buttons; an .ics file rides along as an
attachment, and as an "Add to calendar" link when Learnbot has a public URL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import AppConfig
from bot.features.learning_days import actions, calendar, store
from bot.messages import Block, Button, Buttons, Divider, Fields, Header, Message, Note, Text
from storage.learning_days import CANCELLED, LearningDay

HEADER_LIMIT = 150  # Slack's header block limit
LISTED = 8
AGENDA_SHOWN = 15  # keeps the agenda well inside Slack's 3000 characters per section
HOME_SHOWN = 3
ANSWER_LABELS = {"going": "Going", "maybe": "Maybe", "no": "Can't"}
ANSWER_PHRASES = {"going": "you're going", "maybe": "you might come", "no": "you can't come"}


@dataclass(frozen=True, slots=True)
class DayView:
    """A day with everything a message about it shows."""

    day: LearningDay
    agenda: list[store.AgendaItem]
    counts: store.Counts
    answer: str | None = None


async def view(session: AsyncSession, day: LearningDay, person_id: int | None = None) -> DayView:
    answer = await store.answer_of(session, day.id, person_id) if person_id is not None else None
    return DayView(day, await store.agenda(session, day.id), await store.counts(session, day.id), answer)


def when(config: AppConfig, day: LearningDay) -> str:
    """ "Thursday 7 January 2027, 09:00–17:00 (Africa/Nairobi)"."""
    zone = day.timezone
    return (
        f"{day.date:%A} {day.date.day} {day.date:%B %Y}, {day.start_time:%H:%M}–{day.end_time:%H:%M} ({zone})"
    )


def short_date(day: LearningDay) -> str:
    return f"{day.date:%a} {day.date.day} {day.date:%b}"


def details(config: AppConfig, item: DayView) -> list[Block]:
    day = item.day
    office = config.office(day.office_id)
    facts: list[tuple[str, str]] = [("When", when(config, day)), ("Office", office.name)]
    if day.theme:
        facts.append(("Theme", day.theme))
    if day.place:
        facts.append(("Where", day.place))
    if day.online_url:
        facts.append(("Online", day.online_url))
    blocks: list[Block] = [Fields(facts)]
    if item.agenda:
        lines = [
            f"• {entry.title[:150]}"
            + (f" — {entry.presenter}" if entry.presenter else "")
            + (" (skillshare)" if entry.source == "skillshare" else "")
            for entry in item.agenda[:AGENDA_SHOWN]
        ]
        if len(item.agenda) > AGENDA_SHOWN:
            lines.append(f"…and {len(item.agenda) - AGENDA_SHOWN} more")
        blocks.append(Text("*Agenda*\n" + "\n".join(lines)))
    return blocks


def rsvp_buttons(config: AppConfig, item: DayView) -> Buttons:
    buttons = [
        Button(
            f"{label} ✓" if item.answer == answer else label,
            actions.RSVP,
            f"{item.day.id}:{answer}",
            style="primary" if answer == "going" else "default",
        )
        for answer, label in ANSWER_LABELS.items()
    ]
    url = calendar.calendar_url(config, item.day.id)
    if url:
        buttons.append(Button("Add to calendar", actions.CALENDAR, str(item.day.id), url=url))
    return Buttons(buttons)


def _footer(item: DayView) -> list[Block]:
    answer = f" · You: {ANSWER_LABELS[item.answer]}" if item.answer else ""
    return [Note(f"{item.counts.describe()}{answer} · Learning day #{item.day.id}")]


def _ics(config: AppConfig, item: DayView, now: datetime) -> dict[str, str]:
    return {calendar.filename(item.day.id): calendar.ics(item.day, item.agenda, now)}


def relative(day: LearningDay, now: datetime) -> str:
    """ "today", "tomorrow", "in 5 days", counted in the day's own time zone. Worded from the real
    distance, not the offset's name, so an announcement sent late never says "in 7 days" wrongly."""
    days = (day.date - now.astimezone(ZoneInfo(day.timezone)).date()).days
    if days <= 0:
        return "today"
    return "tomorrow" if days == 1 else f"in {days} days"


def announcement(config: AppConfig, item: DayView, now: datetime) -> Message:
    day = item.day
    heading = f"Learning day {relative(day, now)}: {day.title}"
    return Message(
        text=f"{heading} — {when(config, day)}",
        blocks=[
            Header(heading[:HEADER_LIMIT]),
            *details(config, item),
            Text("Will you come? Your answer helps plan the room and the sessions."),
            rsvp_buttons(config, item),
            *_footer(item),
        ],
        attachments=_ics(config, item, now),
    )


def change_notice(config: AppConfig, item: DayView, what: str, now: datetime) -> Message:
    day = item.day
    heading = f"Learning day changed: {day.title}"
    return Message(
        text=f"{heading} — {what}. Now: {when(config, day)}",
        blocks=[
            Header(heading[:HEADER_LIMIT]),
            Text(f"{what}. Here are the new details; your RSVP still stands."),
            *details(config, item),
            rsvp_buttons(config, item),
            *_footer(item),
        ],
        attachments=_ics(config, item, now),
    )


def cancel_notice(config: AppConfig, item: DayView, now: datetime) -> Message:
    day = item.day
    assert day.status == CANCELLED
    heading = f"Learning day cancelled: {day.title}"
    return Message(
        text=f"{heading} ({when(config, day)})",
        blocks=[
            Header(heading[:HEADER_LIMIT]),
            Text(f"The learning day on {when(config, day)} is cancelled. Sorry for the change of plans."),
            Note("The attached calendar file removes it from your calendar."),
        ],
        attachments=_ics(config, item, now),
    )


def listing(config: AppConfig, items: list[DayView], *, heading: str, empty: str) -> Message:
    """One message listing days (Slack allows 50 blocks, so at most ``LISTED`` days)."""
    if not items:
        return Message(text=empty, blocks=[Header(heading), Text(empty)])
    blocks: list[Block] = [Header(heading)]
    lines = [heading]
    for item in items[:LISTED]:
        day = item.day
        lines.append(f"{day.title} — {when(config, day)} ({item.counts.describe()})")
        blocks += [Divider(), Text(f"*{day.title}*"), *details(config, item), rsvp_buttons(config, item)]
        blocks += _footer(item)
    if len(items) > LISTED:
        blocks.append(Note(f"…and {len(items) - LISTED} more later."))
    return Message(text="\n".join(lines), blocks=blocks)


def home(config: AppConfig, items: list[DayView]) -> Message:
    """The learning-days section of a person's home: the next few days and their answer."""
    blocks: list[Block] = [Header("Learning days")]
    if not items:
        blocks.append(Text("None scheduled yet. `/learning days` will list them when there are."))
        return Message(text="No learning days scheduled yet.", blocks=blocks)
    lines = []
    for item in items[:HOME_SHOWN]:
        day = item.day
        answer = ANSWER_LABELS[item.answer] if item.answer else "not answered yet"
        lines.append(f"{day.title}, {when(config, day)} — you: {answer}")
        blocks += [
            Text(f"*{day.title}* — {when(config, day)}\nYour answer: {answer}"),
            rsvp_buttons(config, item),
            Note(item.counts.describe()),
        ]
    return Message(text="Learning days: " + "; ".join(lines), blocks=blocks)
