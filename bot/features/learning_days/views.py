"""What learning-day messages say: announcements, change and cancellation notices, listings.

Every message carries the facts people need without clicking (date, time with the office's time
zone, place or link, agenda, who is coming) and the RSVP buttons; an .ics file rides along as an
attachment, and as an "Add to calendar" link when Learnbot has a public URL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import AppConfig
from bot.features.learning_days import actions, calendar, store
from bot.i18n import N_, Translator
from bot.messages import Block, Button, Buttons, Divider, Fields, Header, Message, Note, Text
from storage.learning_days import CANCELLED, LearningDay

HEADER_LIMIT = 150  # Slack's header block limit
LISTED = 8
AGENDA_SHOWN = 15  # keeps the agenda well inside Slack's 3000 characters per section
HOME_SHOWN = 3
ANSWER_LABELS = {"going": N_("Going"), "maybe": N_("Maybe"), "no": N_("Can't")}
ANSWER_PHRASES = {"going": N_("you're going"), "maybe": N_("you might come"), "no": N_("you can't come")}


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


def when(t: Translator, day: LearningDay) -> str:
    """ "Thursday 7 January 2027, 09:00–17:00 (Africa/Nairobi)", in the reader's language."""
    return f"{t.day(day.date, date.min)}, {t.time(day.start_time)}–{t.time(day.end_time)} ({day.timezone})"


def short_date(t: Translator, day: LearningDay) -> str:
    return t.date(day.date, "EEE d MMM")


def counts(t: Translator, item: DayView) -> str:
    c = item.counts
    return t._("Going {going} · Maybe {maybe} · Can't {no}", going=c.going, maybe=c.maybe, no=c.no)


def details(t: Translator, config: AppConfig, item: DayView) -> list[Block]:
    day = item.day
    office = config.office(day.office_id)
    facts: list[tuple[str, str]] = [(t._("When"), when(t, day)), (t._("Office"), office.name)]
    if day.theme:
        facts.append((t._("Theme"), day.theme))
    if day.place:
        facts.append((t._("Where"), day.place))
    if day.online_url:
        facts.append((t._("Online"), day.online_url))
    blocks: list[Block] = [Fields(facts)]
    if item.agenda:
        lines = [
            f"• {entry.title[:150]}"
            + (f" — {entry.presenter}" if entry.presenter else "")
            + (" (skillshare)" if entry.source == "skillshare" else "")
            for entry in item.agenda[:AGENDA_SHOWN]
        ]
        if len(item.agenda) > AGENDA_SHOWN:
            lines.append(t._("…and {n} more", n=len(item.agenda) - AGENDA_SHOWN))
        blocks.append(Text(t._("*Agenda*") + "\n" + "\n".join(lines)))
    return blocks


def rsvp_buttons(t: Translator, config: AppConfig, item: DayView) -> Buttons:
    buttons = [
        Button(
            f"{t._(label)} ✓" if item.answer == answer else t._(label),
            actions.RSVP,
            f"{item.day.id}:{answer}",
            style="primary" if answer == "going" else "default",
        )
        for answer, label in ANSWER_LABELS.items()
    ]
    url = calendar.calendar_url(config, item.day.id)
    if url:
        buttons.append(Button(t._("Add to calendar"), actions.CALENDAR, str(item.day.id), url=url))
    return Buttons(buttons)


def _footer(t: Translator, item: DayView) -> list[Block]:
    you = " · " + t._("You: {answer}", answer=t._(ANSWER_LABELS[item.answer])) if item.answer else ""
    return [Note(f"{counts(t, item)}{you} · " + t._("Learning day #{number}", number=item.day.id))]


def _ics(config: AppConfig, item: DayView, now: datetime) -> dict[str, str]:
    return {calendar.filename(item.day.id): calendar.ics(item.day, item.agenda, now)}


def relative(t: Translator, day: LearningDay, now: datetime) -> str:
    """ "today", "tomorrow", "in 5 days", counted in the day's own time zone. Worded from the real
    distance, not the offset's name, so an announcement sent late never says "in 7 days" wrongly."""
    days = (day.date - now.astimezone(ZoneInfo(day.timezone)).date()).days
    if days <= 0:
        return t._("today")
    return t._("tomorrow") if days == 1 else t.ngettext("in {n} day", "in {n} days", days)


def announcement(t: Translator, config: AppConfig, item: DayView, now: datetime) -> Message:
    day = item.day
    heading = t._("Learning day {when}: {title}", when=relative(t, day, now), title=day.title)
    return Message(
        text=f"{heading} — {when(t, day)}",
        blocks=[
            Header(heading[:HEADER_LIMIT]),
            *details(t, config, item),
            Text(t._("Will you come? Your answer helps plan the room and the sessions.")),
            rsvp_buttons(t, config, item),
            *_footer(t, item),
        ],
        attachments=_ics(config, item, now),
    )


def change_notice(t: Translator, config: AppConfig, item: DayView, what: str, now: datetime) -> Message:
    day = item.day
    heading = t._("Learning day changed: {title}", title=day.title)
    return Message(
        text=t._("{heading} — {what}. Now: {when}", heading=heading, what=what, when=when(t, day)),
        blocks=[
            Header(heading[:HEADER_LIMIT]),
            Text(t._("{what}. Here are the new details; your RSVP still stands.", what=what)),
            *details(t, config, item),
            rsvp_buttons(t, config, item),
            *_footer(t, item),
        ],
        attachments=_ics(config, item, now),
    )


def cancel_notice(t: Translator, config: AppConfig, item: DayView, now: datetime) -> Message:
    day = item.day
    assert day.status == CANCELLED
    heading = t._("Learning day cancelled: {title}", title=day.title)
    return Message(
        text=f"{heading} ({when(t, day)})",
        blocks=[
            Header(heading[:HEADER_LIMIT]),
            Text(
                t._(
                    "The learning day on {when} is cancelled. Sorry for the change of plans.",
                    when=when(t, day),
                )
            ),
            Note(t._("The attached calendar file removes it from your calendar.")),
        ],
        attachments=_ics(config, item, now),
    )


def listing(t: Translator, config: AppConfig, items: list[DayView], *, heading: str, empty: str) -> Message:
    """One message listing days (Slack allows 50 blocks, so at most ``LISTED`` days)."""
    if not items:
        return Message(text=empty, blocks=[Header(heading), Text(empty)])
    blocks: list[Block] = [Header(heading)]
    lines = [heading]
    for item in items[:LISTED]:
        day = item.day
        lines.append(f"{day.title} — {when(t, day)} ({counts(t, item)})")
        blocks += [
            Divider(),
            Text(f"*{day.title}*"),
            *details(t, config, item),
            rsvp_buttons(t, config, item),
        ]
        blocks += _footer(t, item)
    if len(items) > LISTED:
        blocks.append(Note(t._("…and {n} more later.", n=len(items) - LISTED)))
    return Message(text="\n".join(lines), blocks=blocks)


def home(t: Translator, config: AppConfig, items: list[DayView]) -> Message:
    """The learning-days section of a person's home: the next few days and their answer."""
    blocks: list[Block] = [Header(t._("Learning days"))]
    if not items:
        blocks.append(Text(t._("None scheduled yet. `/learning days` will list them when there are.")))
        return Message(text=t._("No learning days scheduled yet."), blocks=blocks)
    lines = []
    for item in items[:HOME_SHOWN]:
        day = item.day
        answer = t._(ANSWER_LABELS[item.answer]) if item.answer else t._("not answered yet")
        lines.append(
            t._("{title}, {when} — you: {answer}", title=day.title, when=when(t, day), answer=answer)
        )
        blocks += [
            Text(f"*{day.title}* — {when(t, day)}\n" + t._("Your answer: {answer}", answer=answer)),
            rsvp_buttons(t, config, item),
            Note(counts(t, item)),
        ]
    return Message(text=t._("Learning days:") + " " + "; ".join(lines), blocks=blocks)
