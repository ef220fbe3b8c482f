"""Dakar and Cox's Bazar in one organisation, on the console, Slack and Teams.

Offices are set the way a new deployment sets them without an office column in the import:
Karim tells the bot once (``/learning office``), Rahim (Cox's Bazar's manager) claims Sumon,
who was still unplaced, and everyone else stays in the default office (Dakar). Then reminders,
help requests and confirmations stay within each office, reports are separate, and
cross-office manager actions are refused politely."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from bot.clock import ManualClock
from storage.learning_days import LearningDay
from tests.nudges.helpers import assign
from tests.offices.conftest import COX_MANAGER, DAKAR_DEPUTY, DAKAR_MANAGER
from tests.support.conversation import ChatDriver, ChatWorld

FATOU, KARIM, SUMON = "fatou@example.org", "karim@example.org", "sumon@example.org"


async def _meet(*people: ChatDriver) -> None:
    for person in people:
        await person.send("hello")
        await person.expect_reply("How can I help")


async def _cox_day(world: ChatWorld) -> int:
    async with world.app.sessions() as session, session.begin():
        day = LearningDay(
            office_id="coxs-bazar",
            timezone="Asia/Dhaka",
            date=date(2026, 12, 17),
            start_time=time(9, 0),
            end_time=time(17, 0),
            title="Cox learning day",
            theme="",
            place="Room 2",
            online_url="",
            status="scheduled",
            version=1,
            created_at=world.app.clock.now(),
        )
        session.add(day)
        await session.flush()
        return day.id


async def test_two_offices_stay_apart(world: ChatWorld, clock: ManualClock) -> None:
    clock.set(datetime(2026, 11, 30, 10, 0, tzinfo=UTC))
    awa = world.person(DAKAR_MANAGER, name="Awa Diop")
    moussa = world.person(DAKAR_DEPUTY, name="Moussa Fall")
    rahim = world.person(COX_MANAGER, name="Rahim Uddin")
    fatou = world.person(FATOU, name="Fatou Sow")
    karim = world.person(KARIM, name="Karim Hossain")
    sumon = world.person(SUMON, name="Sumon Das")
    await _meet(awa, moussa, rahim, fatou, karim, sumon)

    # -- placing people -----------------------------------------------------------------------
    await karim.send("/learning office Cox's Bazar")
    await karim.expect_reply("You're now in Cox's Bazar office")
    await world.deliver()
    await rahim.expect_reply("says they work in Cox's Bazar office")
    await rahim.send(f"/learning move {SUMON} BD-CXB")
    await rahim.expect_reply("is now in Cox's Bazar office")
    await world.deliver()
    await sumon.expect_reply("has placed you in Cox's Bazar office")
    await awa.send(f"/learning move {KARIM} dakar")
    await awa.expect_reply("which you don't manage")

    # -- reminders, each in its own office's working hours ------------------------------------
    clock.set(datetime(2026, 12, 1, 10, 0, tzinfo=UTC))  # 10:00 in Dakar, 16:00 in Cox's Bazar
    await assign(world.app, f"{FATOU},ethics,2026-11-20", f"{KARIM},ethics,2026-11-20")
    await world.run_job("nudge_sweep")
    await fatou.expect_reply("Ethics and integrity", "was due")
    await karim.expect_reply("Ethics and integrity", "was due")

    # -- help goes to the person's own office's manager ----------------------------------------
    await karim.press("I need help")
    await karim.expect_reply("know privately")
    await world.deliver()
    help_note = await rahim.expect_reply("asked for help", "Ethics and integrity")
    if world.platform != "console":
        assert "Karim Hossain" in help_note and KARIM not in help_note
    await awa.expect_nothing()
    await moussa.expect_nothing()

    # -- confirmations stay in the office ----------------------------------------------------
    await fatou.send("done")
    await fatou.expect_reply("as done")
    await rahim.send("/learning confirm")
    await rahim.expect_reply("Nothing to review")
    await rahim.send(f"/learning confirm {FATOU} ethics")
    refusal = await rahim.expect_reply("isn't in an office you manage")
    assert "Dakar" not in refusal
    await awa.send("/learning confirm")
    await awa.expect_reply("to review", "Fatou")
    await awa.send(f"/learning confirm {FATOU} ethics")
    await awa.expect_reply("Confirmed")
    await world.deliver()
    await fatou.expect_reply("Thank you for completing")

    # -- reports are separate -----------------------------------------------------------------
    await awa.send("/learning report")
    dakar_report = await awa.expect_reply("Dakar office", "Ethics and integrity")
    assert "Karim" not in dakar_report and "Cox" not in dakar_report
    await rahim.send("/learning report")
    cox_report = await rahim.expect_reply("Cox's Bazar office", "Overdue", "Karim")
    assert "Fatou" not in cox_report

    # -- a learning day of another office is not a Dakar manager's to change -------------------
    day_id = await _cox_day(world)
    for command in (f"who {day_id}", f"cancel {day_id}", f"change {day_id} title Mine now"):
        await awa.send(f"/learning day {command}")
        await awa.expect_reply("which you don't manage")
    await rahim.send(f"/learning day who {day_id}")
    await rahim.expect_reply("Cox learning day")
