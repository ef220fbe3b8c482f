"""Learning days as people live them, on every platform world (console, Slack fake, Teams fake):
the schedule conversation, refusals, RSVPs, reschedules, cancellations and the agenda."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import ManualClock
from tests.learning_days.conftest import make_day, outbox_keys
from tests.support.conversation import ChatWorld, converse

JOB = "learning_day_announcements"
MANAGER = "manager@example.org"


async def test_manager_schedules_a_day_in_a_conversation(world: ChatWorld) -> None:
    manager = world.person(MANAGER)
    await manager.send("/learning day schedule")
    await manager.expect_reply("Which date?")
    await manager.send("yesterday")
    await manager.expect_reply("is in the past", "Which upcoming date?")
    await manager.send("15 Jan")
    await manager.expect_reply("Friday 15 January 2027", "What time?")
    await manager.send("10:00-15:30")
    await manager.expect_reply("title")
    await manager.send("Data skills day")
    await manager.expect_reply("theme")
    await manager.send("Spreadsheets to dashboards")
    await manager.expect_reply("Where is it?")
    await manager.send("Room 4 and https://meet.example.org/data")
    await manager.expect_reply("Schedule this learning day?", "Data skills day", "10:00–15:30", "Room 4")
    await manager.send("yes")
    await manager.expect_reply("Scheduled learning day #1", "Data skills day")

    ana = world.person("ana@example.org")
    await ana.send("/learning days")
    await ana.expect_reply("Data skills day", "Friday 15 January 2027", "Going 0")


async def test_schedule_conversation_can_be_cancelled(world: ChatWorld) -> None:
    manager = world.person(MANAGER)
    await manager.send("/learning day schedule")
    await manager.expect_reply("Which date?")
    await manager.send("next Thursday")
    await manager.expect_reply("Thursday 3 December 2026")
    await manager.send("cancel")
    await manager.expect_reply("Cancelled", "nothing was saved")
    await manager.send("/learning days")
    await manager.expect_reply("No learning days are scheduled yet")


async def test_only_learning_managers_may_schedule_change_or_cancel(world: ChatWorld) -> None:
    ana = world.person("ana@example.org")
    for command in ("/learning day schedule", "/learning day cancel 1", "/learning day change 1 time 9-5"):
        await ana.send(command)
        await ana.expect_reply("only a learning manager", "manager@example.org")


async def test_rsvp_is_one_answer_per_person_and_changeable(
    world: ChatWorld, sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    await make_day(sessions, date(2026, 12, 10), title="December learning day", now=clock.now())
    ana = world.person("ana@example.org")
    bob = world.person("bob@example.org")
    await ana.send("/learning days")
    await ana.expect_reply("December learning day")
    await ana.press("Going")
    await ana.expect_reply("you're going", "Going 1 · Maybe 0 · Can't 0")
    await bob.send("/learning days")
    await bob.expect_reply("Going 1")
    await bob.press("Maybe")
    await bob.expect_reply("Going 1 · Maybe 1 · Can't 0")
    await ana.send("/learning days")
    await ana.expect_reply("You: Going")
    await ana.press("Can't")
    await ana.expect_reply("you can't come", "Going 0 · Maybe 1 · Can't 1")
    await ana.send("/learning home")
    await ana.expect_reply("Hi Ana", "at a glance")
    await ana.expect_reply("Learning days", "Your answer: Can't")
    await ana.expect_reply("Your skillshare offers")
    await ana.send("/learning day who 1")
    await ana.expect_reply("only a learning manager")
    manager = world.person(MANAGER)
    await manager.send("/learning day who 1")
    await manager.expect_reply("Going (0): nobody yet", "Maybe (1): Bob", "Can't (1): Ana")


async def test_announcement_carries_agenda_rsvp_counts_and_calendar(
    world: ChatWorld, sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    day_id = await make_day(sessions, date(2026, 12, 10), title="December learning day", now=clock.now())
    manager = world.person(MANAGER)
    await manager.send(f"/learning day add-session {day_id} Intro to SQL by ana@example.org")
    await manager.expect_reply("Added", "Intro to SQL", "December learning day")
    await manager.send(f"/learning day add-session {day_id}")
    await manager.expect_reply("add-session <day number> <title>")
    ana = world.person("ana@example.org")
    await ana.send("/learning days")
    await ana.expect_reply("December learning day")
    await ana.press("Going")
    await ana.expect_reply("you're going")
    clock.set(datetime(2026, 12, 3, 6, 0, tzinfo=UTC))
    await world.run_job(JOB)
    await world.expect_post(
        "learning", "Learning day in 7 days", "December learning day", "Intro to SQL", "Going 1", "Room 4"
    )


async def test_reschedule_announces_again_and_never_repeats_old_ones(
    world: ChatWorld, sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    day_id = await make_day(sessions, date(2026, 12, 10), title="December learning day", now=clock.now())
    clock.set(datetime(2026, 12, 3, 6, 0, tzinfo=UTC))
    await world.run_job(JOB)
    await world.expect_post("learning", "in 7 days", "Thursday 10 December")

    clock.set(datetime(2026, 12, 4, 8, 0, tzinfo=UTC))
    manager = world.person(MANAGER)
    await manager.send(f"/learning day change {day_id} date 17 Dec")
    await manager.expect_reply("Changed learning day", "17 December")
    await world.deliver()
    await world.expect_post("learning", "Learning day changed", "Thursday 17 December")
    await manager.send(f"/learning day change {day_id} date 1 Dec 2026")
    await manager.expect_reply("is in the past")

    clock.set(datetime(2026, 12, 9, 6, 0, tzinfo=UTC))  # the old "1 day before": nothing
    await world.run_job(JOB)
    clock.set(datetime(2026, 12, 10, 6, 0, tzinfo=UTC))  # "7 days before" the new date
    await world.run_job(JOB)
    await world.expect_post("learning", "in 7 days", "Thursday 17 December")
    assert await outbox_keys(sessions) == [
        f"learning-day:{day_id}:7d:1:learning",
        f"learning-day:{day_id}:changed:2:learning",
        f"learning-day:{day_id}:7d:2:learning",
    ]


async def test_cancel_sends_one_notice_and_stops_announcements(
    world: ChatWorld, sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    day_id = await make_day(sessions, date(2026, 12, 10), title="December learning day", now=clock.now())
    ana = world.person("ana@example.org")
    await ana.send("/learning days")
    await ana.expect_reply("December learning day")
    await ana.press("Going")
    await ana.expect_reply("you're going")
    manager = world.person(MANAGER)
    await manager.send(f"/learning day cancel {day_id}")
    await manager.expect_reply("Cancelled learning day", "1 person who said they'd come")
    await world.deliver()
    await world.expect_post("learning", "Learning day cancelled", "December learning day")
    await ana.expect_reply("Learning day cancelled")
    await manager.send(f"/learning day cancel {day_id}")
    await manager.expect_reply("already cancelled")
    clock.set(datetime(2026, 12, 9, 6, 0, tzinfo=UTC))
    await world.run_job(JOB)
    channel_notice, personal_notice = await outbox_keys(sessions)
    assert channel_notice == f"learning-day:{day_id}:cancelled:learning"
    assert personal_notice.startswith(f"learning-day:{day_id}:cancelled:person:")
    await ana.send("/learning days")
    await ana.expect_reply("No learning days are scheduled yet")


async def test_unknown_day_commands_explain_themselves(world: ChatWorld) -> None:
    manager = world.person(MANAGER)
    await manager.send("/learning day frobnicate")
    await manager.expect_reply("I don't know", "learning day frobnicate", "/learning day schedule")
    await manager.send("/learning day cancel 99")
    await manager.expect_reply("no learning day number 99")
    await manager.send("/learning day change 99 colour blue")
    await manager.expect_reply("which day, what to change")


async def test_a_late_announcement_says_how_far_off_the_day_really_is(
    world: ChatWorld, sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    await make_day(sessions, date(2026, 12, 3), title="Thursday learning", now=clock.now())
    await world.run_job(JOB)
    await world.expect_post("learning", "Learning day in 2 days", "Thursday learning", "Going 0")


async def test_schedule_confirmed_with_the_button(world: ChatWorld) -> None:
    manager = world.person(MANAGER)
    await manager.send("/learning day schedule")
    await manager.expect_reply("Which date?")
    await manager.send("2027-02-11")
    await manager.expect_reply("Thursday 11 February 2027")
    await converse(manager, [("9am to 1pm", "title"), ("Writing clearly", "theme"), ("skip", "Where is it?")])
    await manager.send("skip")
    await manager.expect_reply("Schedule this learning day?", "09:00–13:00")
    await manager.press("Schedule it")
    await manager.expect_reply("Scheduled learning day #1", "Writing clearly")
    await manager.press("Schedule it")
    await manager.expect_reply("That conversation has ended", "/learning day schedule")


async def test_schedule_button_of_an_idle_draft_says_it_was_set_aside(
    world: ChatWorld, clock: ManualClock
) -> None:
    """The same resume/expire rule as typed text (Dialog.on_action): the idle draft is dropped
    with the usual note, once, and nothing is scheduled."""
    manager = world.person(MANAGER)
    await converse(
        manager,
        [
            ("/learning day schedule", "Which date?"),
            ("2027-02-11", "What time?"),
            ("9am to 1pm", "title"),
            ("Writing clearly", "theme"),
            ("skip", "Where is it?"),
            ("skip", "Schedule this learning day?"),
        ],
    )
    clock.advance(timedelta(minutes=world.app.config.dialog_idle_minutes + 1))
    await manager.press("Schedule it")
    await manager.expect_reply("hadn't talked", "the learning day you were scheduling")
    assert await world.run_job("expire_dialogs") == "0 idle conversation(s) expired"
    await manager.send("/learning days")
    await manager.expect_reply("No learning days are scheduled yet")


async def test_each_manager_schedules_for_their_own_office_and_time_zone(
    world: ChatWorld, clock: ManualClock
) -> None:
    # 02:00 UTC on Tuesday 1 December is still Monday 30 November in Bogotá.
    clock.set(datetime(2026, 12, 1, 2, 0, tzinfo=UTC))
    gestora = world.person("gestora@example.org")
    # Her office's locale is Spanish; on the console (no platform locale) she would read Spanish.
    await gestora.send("/learning language en")
    await gestora.expect_reply("I'll speak English with you")
    await gestora.send("/learning day schedule")
    await gestora.expect_reply("America/Bogota")
    await gestora.send("tomorrow")
    await gestora.expect_reply("Tuesday 1 December 2026")
    await converse(
        gestora, [("08:00-12:00", "title"), ("Día de aprendizaje", "theme"), ("skip", "Where is it?")]
    )
    await gestora.send("skip")
    await gestora.expect_reply("Bogotá office", "08:00–12:00 (America/Bogota)")
    await gestora.send("yes")
    await gestora.expect_reply("Scheduled learning day #1", "#aprendizaje")
    ana = world.person("ana@example.org")  # Nairobi office: not in her list
    await ana.send("/learning days")
    await ana.expect_reply("No learning days are scheduled yet for Nairobi")
    await ana.send("/learning days all")
    await ana.expect_reply("Día de aprendizaje", "Tuesday 1 December 2026")
