"""The "Add to calendar" file: valid RFC 5545 that updates (SEQUENCE) and cancels cleanly, and
the HTTP route that serves it to Slack and Teams buttons."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from icalendar import Calendar
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.clock import ManualClock
from bot.config import AppConfig
from bot.core import Learnbot
from bot.errors import UserError
from bot.events import Actor, ButtonPressed, Conversation
from bot.features import FEATURES
from bot.features.learning_days.calendar import with_public_url
from bot.features.learning_days.handlers import add_agenda_session, upcoming_days
from learnbot import calendar as calendar_route
from learnbot.runtime import Runtime
from learnbot.server import RUNTIME
from learnbot.settings import Settings
from storage.models import OutboxMessage
from tests.learning_days.conftest import make_day
from tests.support.conversation import ConsoleWorld

JOB = "learning_day_announcements"


def _check_rfc5545(text: str) -> Calendar:
    raw = text.encode("utf-8")
    assert raw.endswith(b"\r\n")
    for line in raw.split(b"\r\n"):
        assert len(line) <= 75, line  # folded at 75 octets
    calendar = Calendar.from_ical(text)
    assert calendar["VERSION"] == "2.0" and calendar["PRODID"]
    return calendar


def _event(calendar: Calendar) -> dict[str, object]:
    (event,) = [c for c in calendar.walk("VEVENT")]
    return dict(event)


async def _announcement_ics(sessions: async_sessionmaker[AsyncSession], key: str) -> tuple[str, dict]:
    async with sessions() as session:
        row = await session.scalar(select(OutboxMessage).where(OutboxMessage.idempotency_key == key))
        assert row is not None
        attachments = row.payload["attachments"]
        ((name, _text),) = attachments.items()
        return name, row.payload


async def test_announcement_ics_is_valid_and_changes_bump_sequence(
    app: Learnbot, sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    world = ConsoleWorld(app)
    day_id = await make_day(
        sessions, date(2026, 12, 10), title="Learning day; ethics, data & you", now=clock.now()
    )
    async with sessions() as session, session.begin():
        await add_agenda_session(
            session,
            day_id=day_id,
            title="A very long session title " * 4,
            presenter_person_id=None,
            source="skillshare",
            now=clock.now(),
        )
    clock.set(datetime(2026, 12, 3, 6, 0, tzinfo=UTC))
    await app.run_job(JOB)
    name, payload = await _announcement_ics(sessions, f"learning-day:{day_id}:7d:1:learning")
    assert name == f"learning-day-{day_id}.ics"
    calendar = _check_rfc5545(payload["attachments"][name])
    assert calendar["METHOD"] == "PUBLISH"
    event = _event(calendar)
    assert str(event["SUMMARY"]) == "Learning day; ethics, data & you"
    assert event["UID"] == f"learning-day-{day_id}-nairobi@learnbot"
    assert event["SEQUENCE"] == 0
    assert event["DTSTART"].dt == datetime(2026, 12, 10, 6, 0, tzinfo=UTC)  # type: ignore[attr-defined]
    assert event["DTEND"].dt == datetime(2026, 12, 10, 14, 0, tzinfo=UTC)  # type: ignore[attr-defined]
    assert str(event["LOCATION"]) == "Room 4"
    assert "DTSTAMP" in event
    assert "A very long session title" in str(event["DESCRIPTION"])
    assert next(c.name for c in calendar.subcomponents) == "VTIMEZONE"

    manager = world.person("manager@example.org")
    await manager.send(f"/learning day change {day_id} place https://meet.example.org/day")
    await manager.expect_reply("Changed")
    _, payload = await _announcement_ics(sessions, f"learning-day:{day_id}:changed:2:learning")
    event = _event(_check_rfc5545(payload["attachments"][f"learning-day-{day_id}.ics"]))
    assert event["SEQUENCE"] == 1
    assert str(event["URL"]) == "https://meet.example.org/day"

    await manager.send(f"/learning day cancel {day_id}")
    _, payload = await _announcement_ics(sessions, f"learning-day:{day_id}:cancelled:learning")
    calendar = _check_rfc5545(payload["attachments"][f"learning-day-{day_id}.ics"])
    assert calendar["METHOD"] == "CANCEL"
    event = _event(calendar)
    assert event["STATUS"] == "CANCELLED" and event["SEQUENCE"] == 2
    assert event["UID"] == f"learning-day-{day_id}-nairobi@learnbot"


async def test_calendar_route_serves_the_file_and_buttons_link_to_it(
    config: AppConfig, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    config = with_public_url(config, "https://learnbot.example.org/")
    app = Learnbot(config, sessions, clock=clock, features=FEATURES)
    day_id = await make_day(sessions, date(2026, 12, 10), now=clock.now())
    clock.set(datetime(2026, 12, 3, 6, 0, tzinfo=UTC))
    await app.run_job(JOB, {})
    async with sessions() as session:
        row = await session.scalar(
            select(OutboxMessage).where(OutboxMessage.idempotency_key.like("learning-day:%"))
        )
        assert row is not None
    buttons = [b for block in row.payload["blocks"] if block["kind"] == "buttons" for b in block["buttons"]]
    assert {
        "label": "Add to calendar",
        "url": f"https://learnbot.example.org/calendar/learning-day-{day_id}.ics",
    }.items() <= next(b for b in buttons if b["label"] == "Add to calendar").items()

    web_app = web.Application()
    web_app[RUNTIME] = Runtime(settings=Settings(), config=config, engine=engine, app=app)
    calendar_route.add_routes(web_app)
    async with TestClient(TestServer(web_app)) as client:
        response = await client.get(f"/calendar/learning-day-{day_id}.ics")
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/calendar")
        _check_rfc5545(await response.text())
        assert (await client.get("/calendar/learning-day-999.ics")).status == 404
        assert (await client.get("/calendar/something-else.ics")).status == 404


async def test_skillshare_api_refuses_unknown_cancelled_and_past_days(
    app: Learnbot, sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    soon = await make_day(sessions, date(2026, 12, 10), now=clock.now())
    past = await make_day(sessions, date(2026, 11, 20), now=clock.now())
    other = await make_day(
        sessions, date(2026, 12, 11), office="bogota", timezone="America/Bogota", now=clock.now()
    )
    async with sessions() as session, session.begin():
        days = await upcoming_days(session, "nairobi", clock.now())
        assert [(d.id, d.date, d.title) for d in days] == [(soon, date(2026, 12, 10), "Learning day")]
        assert [d.id for d in await upcoming_days(session, "bogota", clock.now())] == [other]
        session_id = await add_agenda_session(
            session,
            day_id=soon,
            title="Coaching circles",
            presenter_person_id=None,
            source="skillshare",
            now=clock.now(),
        )
        assert session_id > 0
        for day_id, reason in ((past, "is over"), (12345, "no learning day")):
            with pytest.raises(UserError, match=reason):
                await add_agenda_session(
                    session,
                    day_id=day_id,
                    title="x",
                    presenter_person_id=None,
                    source="skillshare",
                    now=clock.now(),
                )
    world = ConsoleWorld(app)
    await world.person("manager@example.org").send(f"/learning day cancel {soon}")
    async with sessions() as session:
        with pytest.raises(UserError, match="was cancelled"):
            await add_agenda_session(
                session,
                day_id=soon,
                title="x",
                presenter_person_id=None,
                source="skillshare",
                now=clock.now(),
            )


async def test_a_click_on_the_calendar_link_is_acknowledged_silently(app: Learnbot) -> None:
    actor = Actor(platform="console", user_id="ana@example.org", email="ana@example.org")
    event = ButtonPressed(
        actor=actor, conversation=Conversation(id="C1", is_direct=False), action_id="day.calendar"
    )
    assert await app.handle(event) == []
