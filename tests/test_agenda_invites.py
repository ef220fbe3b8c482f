"""A learning manager puts a skillshare offer on a learning day's agenda, on every platform."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from storage.learning_days import AgendaSession
from tests.learning_days.conftest import make_day
from tests.skillshare.helpers import make_offer
from tests.support.conversation import ChatWorld


async def test_manager_invites_an_offer_onto_a_learning_day(world: ChatWorld) -> None:
    app = world.app
    ana = world.person("ana@example.org")
    await make_offer(ana, "Excel pivot tables")
    manager = world.person("manager@example.org")

    await manager.send("/skillshare all")
    await manager.expect_reply("All skillshare offers", "Excel pivot tables")
    await manager.press("Invite to a learning day")
    await manager.expect_reply("no learning day coming up", "/learning day schedule")

    day_id = await make_day(
        app.sessions, date(2026, 12, 10), title="December learning day", now=app.clock.now()
    )
    await manager.send("/skillshare all")
    await manager.expect_reply("All skillshare offers", "Excel pivot tables")
    await manager.press("Invite to a learning day")
    await manager.expect_reply("Which learning day should", "Excel pivot tables")
    await manager.press("December learning day")
    await manager.expect_reply("Added", "Excel pivot tables", "agenda")
    await world.deliver()
    await ana.expect_reply("on the agenda", "Excel pivot tables", "December")

    async with app.sessions() as session:
        sessions = list(await session.scalars(select(AgendaSession).where(AgendaSession.day_id == day_id)))
    assert [(s.title, s.source) for s in sessions] == [("Excel pivot tables", "skillshare")]


async def test_only_managers_can_invite(world: ChatWorld) -> None:
    from bot.events import Actor, ButtonPressed, Conversation

    ana = Actor(platform="console", user_id="ana@example.org", email="ana@example.org")
    replies = await world.app.handle(
        ButtonPressed(
            actor=ana, conversation=Conversation(id="dm:ana"), action_id="skillshare.invite", value="1"
        )
    )
    assert "only a learning manager" in replies[0].text
