"""A whole nudge conversation, written against ``world`` so it runs on every platform."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.clock import ManualClock
from tests.nudges.helpers import assign
from tests.support.conversation import ChatWorld


async def test_reminder_snooze_help_done_confirm_and_kudos(world: ChatWorld, clock: ManualClock) -> None:
    # Everyone meets the bot the day before: on Teams installing the app sends a welcome DM,
    # which counts towards the one-proactive-message-a-day cap.
    clock.set(datetime(2026, 11, 30, 9, 0, tzinfo=UTC))
    ana = world.person("ana@example.org", name="Ana")
    manager = world.person("manager@example.org", name="Manager")
    bob = world.person("bob@example.org", name="Bob")
    for person in (ana, manager, bob):
        await person.send("hello")
        await person.expect_reply("How can I help")
    await ana.send("/learning kudos on")
    await ana.expect_reply("Kudos are on")
    clock.set(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    # Tue 1 Dec, 12:00 in Nairobi: the first reminder, 7 days before the due date.
    await assign(world.app, "ana@example.org,ethics,2026-12-08", "bob@example.org,ethics,2026-11-20")
    await world.run_job("nudge_sweep")
    await ana.expect_reply(
        "Ethics and integrity", "due on Tuesday 8 December", "https://lms.example.org/ethics"
    )
    await bob.expect_reply("Ethics and integrity", "was due on Friday 20 November")

    await ana.press("Remind me later")
    await ana.expect_reply("I'll remind you about Ethics and integrity on Friday 4 December")
    await ana.send("actually, remind me next week")
    await ana.expect_reply("on Monday 7 December")
    await world.run_job("nudge_sweep")
    await ana.expect_nothing()

    # Mon 7 Dec, 10:00 in Nairobi: the snoozed reminder.
    clock.set(datetime(2026, 12, 7, 7, 0, tzinfo=UTC))
    await world.run_job("nudge_sweep")
    await ana.expect_reply("as you asked, again today", "Ethics and integrity")
    await bob.expect_reply("was due on Friday 20 November")  # overdue: every 7 days
    await ana.send("I can't access the course")
    await ana.expect_reply("know privately", "they'll get in touch")
    await world.deliver()
    await manager.expect_reply("Ana asked for help", "Ethics and integrity", "can't access the course")
    await bob.expect_nothing()

    await ana.send("remind me sometime maybe")
    await ana.expect_reply("I'll remind you about Ethics and integrity on Thursday 10 December")
    await ana.send("finished it")
    await ana.expect_reply("noted", "Ethics and integrity", "as done")

    await bob.send("/learning confirm")
    await bob.expect_reply("only a learning manager")
    await bob.send("/learning report")
    await bob.expect_reply("only a learning manager")

    await manager.send("/learning report")
    await manager.expect_reply("Ethics and integrity", "Assigned", "Overdue", "Bob")
    await manager.send("/learning confirm")
    await manager.expect_reply("Self-reported completions to review", "Ana")
    await manager.press("Confirm Ana")
    await manager.expect_reply("Confirmed", "Ana", "Ethics and integrity")
    await world.deliver()
    await ana.expect_reply("Thank you for completing", "Ethics and integrity")
    await world.expect_post("learning", "Kudos to Ana", "Ethics and integrity")

    await ana.send("/learning courses")
    await ana.expect_reply("Ethics and integrity", "confirmed")


async def test_own_courses_and_what_the_bot_understands(world: ChatWorld, clock: ManualClock) -> None:
    clock.set(datetime(2026, 11, 30, 9, 0, tzinfo=UTC))  # the day before (Teams: welcome DM)
    ana = world.person("ana@example.org")
    await ana.send("/learning courses")
    await ana.expect_reply("no mandatory courses")
    clock.set(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    await assign(world.app, "ana@example.org,infosec,2026-11-20", "ana@example.org,ethics,2027-03-01")
    await ana.send("/learning home")
    await ana.expect_reply("Hi Ana", "at a glance")
    await ana.expect_reply(
        "Your mandatory courses", "Information security", "overdue since Friday 20 November"
    )
    await ana.expect_reply("Learning days")
    await ana.expect_reply("Your skillshare offers")
    await ana.send("what's the weather")
    await ana.expect_reply("didn't understand")
    await world.run_job("nudge_sweep")
    await ana.expect_reply("Information security", "was due on Friday 20 November")
    await ana.send("what's the weather")
    await ana.expect_reply("About your reminder for Information security", "remind me on Friday", "help")
    await ana.send("remind me yesterday")
    await ana.expect_reply("isn't in the future")


async def test_bare_help_after_a_reminder_asks_which_help(world: ChatWorld, clock: ManualClock) -> None:
    """ "help" right after a reminder may mean the course or the bot: ask, don't guess."""
    clock.set(datetime(2026, 11, 30, 9, 0, tzinfo=UTC))
    ana = world.person("ana@example.org", name="Ana")
    manager = world.person("manager@example.org", name="Manager")
    for person in (ana, manager):
        await person.send("hello")
        await person.expect_reply("How can I help")
    clock.set(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    await assign(world.app, "ana@example.org,ethics,2026-12-08")
    await world.run_job("nudge_sweep")
    await ana.expect_reply("Ethics and integrity", "due on Tuesday 8 December")

    await ana.send("help")
    await ana.expect_reply("Do you need help with", "Ethics and integrity", "Here's what I can do")
    await world.deliver()
    await manager.expect_nothing()  # nothing escalated unasked
    await ana.press("Yes, I need help with the course")
    await ana.expect_reply("know privately")
    await world.deliver()
    await manager.expect_reply("asked for help", "Ethics and integrity")
