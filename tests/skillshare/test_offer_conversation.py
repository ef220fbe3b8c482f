"""The offer conversation, scripted, on every platform world (console; Slack and Teams fakes
once they are registered in WORLDS)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import ManualClock
from bot.config import AppConfig
from bot.core import Learnbot
from bot.events import Actor, ButtonPressed, CommandInvoked, Conversation, MessageReceived
from bot.features import FEATURES
from storage.models import DialogState
from storage.skillshare import SkillOffer
from tests.support.conversation import WORLDS, ChatWorld, converse


async def _offers(sessions: async_sessionmaker[AsyncSession]) -> list[SkillOffer]:
    async with sessions() as session:
        return list(await session.scalars(select(SkillOffer).order_by(SkillOffer.id)))


async def test_happy_path_with_typed_answers(world: ChatWorld) -> None:
    ana = world.person("ana@example.org")
    await ana.send("/skillshare offer")
    await ana.expect_reply("What would you like to teach?")
    await ana.send("Excel pivot tables")
    await ana.expect_reply("In one line, what will people learn?")
    await ana.send("Build a pivot table and a chart in 30 minutes")
    await ana.expect_reply("Which format", "workshop", "mentoring")
    await ana.send("workshop")
    await ana.expect_reply("What level")
    await ana.send("2")
    await ana.expect_reply("When are you available?")
    await ana.send("Tuesday afternoons")
    await ana.expect_reply("Here's your offer", "Excel pivot tables", "workshop", "intermediate", "Tuesday")
    await ana.send("confirm")
    await ana.expect_reply("Thank you", "Excel pivot tables", "saved")
    offers = await _offers(world.app.sessions)
    assert [(o.skill, o.format, o.level, o.availability) for o in offers] == [
        ("Excel pivot tables", "workshop", "intermediate", "Tuesday afternoons")
    ]


async def test_skill_on_the_command_line_skips_the_first_question_and_buttons_answer(
    world: ChatWorld,
) -> None:
    ana = world.person("ana@example.org")
    await ana.send("/skillshare offer Public speaking")
    await ana.expect_reply("In one line, what will people learn?")
    await ana.send("Speak without notes for five minutes")
    await ana.expect_reply("Which format")
    await ana.press("one-to-one coaching")
    await ana.expect_reply("What level")
    await ana.press("beginner")
    await ana.expect_reply("When are you available?")
    await ana.send("Mornings")
    await ana.expect_reply("Public speaking", "one-to-one coaching", "beginner")
    await ana.press("Confirm")
    await ana.expect_reply("Thank you", "Public speaking")
    assert [o.skill for o in await _offers(world.app.sessions)] == ["Public speaking"]


async def test_edit_from_the_summary_changes_one_answer(world: ChatWorld) -> None:
    ana = world.person("ana@example.org")
    await converse(
        ana,
        [
            ("/skillshare offer Budgeting", "In one line"),
            ("Plan a project budget", "Which format"),
            ("talk", "What level"),
            ("beginner", "When are you available?"),
        ],
    )
    await ana.send("Fridays")
    await ana.expect_reply("Here's your offer", "Budgeting", "beginner")
    await ana.press("Edit")
    await ana.expect_reply("What would you like to change?")
    await ana.press("Level")
    await ana.expect_reply("What level")
    await ana.send("advanced")
    await ana.expect_reply("Here's your offer", "advanced")
    await ana.send("edit")
    await ana.expect_reply("What would you like to change?")
    await ana.send("when")
    await ana.expect_reply("When are you available?")
    await ana.send("Monday mornings")
    await ana.expect_reply("Here's your offer", "Monday mornings", "advanced")
    await ana.send("yes")
    await ana.expect_reply("saved")
    offers = await _offers(world.app.sessions)
    assert [(o.level, o.availability) for o in offers] == [("advanced", "Monday mornings")]


async def test_answers_that_start_with_a_command_word_are_answers(world: ChatWorld) -> None:
    ana = world.person("ana@example.org")
    await ana.send("/skillshare offer Learning design")
    await ana.expect_reply("In one line")
    await ana.send("Learning how adults learn, and skillshare sessions that stick")
    await ana.expect_reply("Which format")
    await ana.send("/skillshare list")  # a command with the slash still works mid-conversation
    await ana.expect_reply("No offers yet")
    await ana.send("talk")
    await ana.expect_reply("What level")


async def test_cancel_at_any_step_saves_nothing(world: ChatWorld) -> None:
    ana = world.person("ana@example.org")
    await converse(ana, [("/skillshare offer Excel", "In one line"), ("Pivot tables", "Which format")])
    await ana.send("cancel")
    await ana.expect_reply("Cancelled your skillshare offer", "nothing was saved")
    await converse(
        ana,
        [
            ("/skillshare offer Excel", "In one line"),
            ("Pivot tables", "Which format"),
            ("talk", "What level"),
            ("beginner", "When are you available?"),
            ("Fridays", "Here's your offer"),
        ],
    )
    await ana.press("Cancel")
    await ana.expect_reply("Cancelled", "nothing was saved")
    assert await _offers(world.app.sessions) == []
    async with world.app.sessions() as session:
        assert await session.scalar(select(DialogState)) is None


async def test_bad_answers_are_refused_and_the_question_stays(world: ChatWorld) -> None:
    ana = world.person("ana@example.org")
    await ana.send("/skillshare offer")
    await ana.expect_reply("What would you like to teach?")
    await ana.send("x" * 81)
    await ana.expect_reply("81 characters", "80 characters or fewer")
    await ana.send("Leading meetings @here")
    await ana.expect_reply("leave out @channel, @here and @everyone")
    await ana.send("Leading meetings")
    await ana.expect_reply("In one line")
    await ana.send("Agendas, timekeeping, decisions")
    await ana.expect_reply("Which format")
    await ana.send("a podcast")
    await ana.expect_reply("Please pick one of", "talk", "workshop")
    await ana.send("talk")
    await ana.expect_reply("What level")


async def test_idle_conversation_expires_with_a_friendly_note(world: ChatWorld, clock: ManualClock) -> None:
    ana = world.person("ana@example.org")
    await ana.send("/skillshare offer Excel")
    await ana.expect_reply("In one line")
    clock.advance(timedelta(minutes=world.app.config.dialog_idle_minutes + 1))
    await world.run_job("expire_dialogs")
    await ana.expect_reply("hadn't talked", "your skillshare offer", "/skillshare offer")
    await ana.send("Pivot tables")
    await ana.expect_reply("didn't understand")
    assert await _offers(world.app.sessions) == []


async def test_expired_buttons_say_the_conversation_ended(world: ChatWorld, clock: ManualClock) -> None:
    ana = world.person("ana@example.org")
    await converse(ana, [("/skillshare offer Excel", "In one line"), ("Pivot tables", "Which format")])
    clock.advance(timedelta(hours=3))
    await ana.press("workshop")
    await ana.expect_reply("hadn't talked")
    assert await _offers(world.app.sessions) == []
    assert await world.run_job("expire_dialogs") == "0 idle conversation(s) expired"


async def test_restart_in_the_middle_continues_on_a_new_instance(
    world: ChatWorld, config: AppConfig, sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    ana = world.person("ana@example.org")
    await converse(
        ana,
        [
            ("/skillshare offer Data visualisation", "In one line"),
            ("Charts that tell a story", "Which format"),
        ],
    )
    # A new Learnbot process (or another replica) on the same database picks up the thread.
    async with WORLDS[world.platform](config, sessions, clock) as restarted:
        assert restarted.app is not world.app
        again = restarted.person("ana@example.org")
        await again.send("workshop")
        await again.expect_reply("What level")
        await again.send("all levels")
        await again.expect_reply("When are you available?")
        await again.send("Thursdays")
        await again.expect_reply("Data visualisation", "Charts that tell a story", "workshop")
        await again.send("confirm")
        await again.expect_reply("saved")
    assert [o.skill for o in await _offers(sessions)] == ["Data visualisation"]


async def test_double_confirm_saves_one_offer(
    config: AppConfig, sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    """Two replicas handling the same person's Confirm at once (a double click) save one offer."""
    first = Learnbot(config, sessions, clock=clock, features=FEATURES)
    second = Learnbot(config, sessions, clock=clock, features=FEATURES)
    actor = Actor(platform="console", user_id="ana@example.org", email="ana@example.org")
    conversation = Conversation(id="dm:ana")
    await first.handle(
        CommandInvoked(actor=actor, conversation=conversation, name="skillshare", text="offer Excel")
    )
    for answer in ("Pivot tables", "talk", "beginner", "Fridays"):
        await first.handle(MessageReceived(actor=actor, conversation=conversation, text=answer))
    press = ButtonPressed(actor=actor, conversation=conversation, action_id="skillshare.offer_confirm")
    replies = await asyncio.gather(first.handle(press), second.handle(press))
    assert len(await _offers(sessions)) == 1
    assert sum("saved" in reply.text for batch in replies for reply in batch) >= 1
    [again] = await first.handle(press)
    assert "conversation has ended" in again.text
