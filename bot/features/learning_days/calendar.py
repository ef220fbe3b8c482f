"""The "Add to calendar" file for a learning day, an RFC 5545 iCalendar document built with the
``icalendar`` library (it escapes text, folds long lines and writes the VTIMEZONE for us).

The UID is stable per day, SEQUENCE goes up with every change, and a cancelled day is sent as
``METHOD:CANCEL`` with ``STATUS:CANCELLED``, so calendar programs update or remove the event they
already have instead of adding a second one.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Timezone

from bot.config import AppConfig
from bot.features.learning_days.store import AgendaItem
from storage.learning_days import CANCELLED, LearningDay

PRODID = "-//Learnbot//Learning days//EN"


@lru_cache(maxsize=64)
def _vtimezone(tzid: str, year: int) -> str:
    """The VTIMEZONE for one zone over the event's year. icalendar derives it by probing the
    zone hour by hour (tens of milliseconds), so each (zone, year) is computed once per process;
    the result depends only on the arguments and the installed tz database."""
    zone = Timezone.from_tzid(tzid, first_date=date(year, 1, 1), last_date=date(year + 1, 1, 1))
    return str(zone.to_ical().decode("utf-8"))


def filename(day_id: int) -> str:
    return f"learning-day-{day_id}.ics"


def calendar_url(config: AppConfig, day_id: int) -> str:
    """Where Learnbot serves the file, when a public URL is configured ("" otherwise)."""
    base = config.learning_days.public_url.rstrip("/")
    return f"{base}/calendar/{filename(day_id)}" if base else ""


def with_public_url(config: AppConfig, url: str | None) -> AppConfig:
    """The configuration with ``LEARNBOT_PUBLIC_URL`` applied (the environment wins over
    ``learning_days.public_url`` because the address is a property of the deployment)."""
    if not url:
        return config
    section = config.learning_days.model_copy(update={"public_url": url.rstrip("/")})
    return config.model_copy(update={"learning_days": section})


def uid(day: LearningDay) -> str:
    """Stable for the day's whole life, so calendars update the event instead of adding one."""
    return f"learning-day-{day.id}-{day.office_id}@learnbot"


def sequence(day: LearningDay) -> int:
    """RFC 5545 SEQUENCE: 0 for the first version, +1 per change; cancelling is a change too."""
    return day.version - 1 + (1 if day.status == CANCELLED else 0)


def ics(day: LearningDay, agenda: list[AgendaItem], now: datetime) -> str:
    zone = ZoneInfo(day.timezone)
    cancelled = day.status == CANCELLED
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "CANCEL" if cancelled else "PUBLISH")
    event = Event()
    event.add("uid", uid(day))
    event.add("dtstamp", now)
    event.add("dtstart", datetime.combine(day.date, day.start_time, tzinfo=zone))
    event.add("dtend", datetime.combine(day.date, day.end_time, tzinfo=zone))
    event.add("summary", day.title)
    event.add("sequence", sequence(day))
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    location = day.place or day.online_url
    if location:
        event.add("location", location)
    if day.online_url:
        event.add("url", day.online_url)
    lines = [day.theme] if day.theme else []
    if agenda:
        lines.append("Agenda:")
        lines += [f"- {item.title}" + (f" ({item.presenter})" if item.presenter else "") for item in agenda]
    if day.online_url:
        lines.append(f"Join online: {day.online_url}")
    if lines:
        event.add("description", "\n".join(lines))
    cal.add_component(Timezone.from_ical(_vtimezone(day.timezone, day.date.year)))
    cal.add_component(event)
    return cal.to_ical().decode("utf-8")
