"""Reports per office, and the organisation view: offices side by side for org admins."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.clock import ManualClock
from tests.nudges.helpers import assign
from tests.offices.conftest import COX_MANAGER, DAKAR_DEPUTY, DAKAR_MANAGER, ORG_ADMIN
from tests.support.conversation import ChatWorld


async def test_reports_per_office_and_offices_side_by_side(world: ChatWorld, clock: ManualClock) -> None:
    clock.set(datetime(2026, 12, 1, 10, 0, tzinfo=UTC))
    awa = world.person(DAKAR_MANAGER, name="Awa Diop")
    rahim = world.person(COX_MANAGER, name="Rahim Uddin")
    hq = world.person(ORG_ADMIN, name="Head Office")
    karim = world.person("karim@example.org", name="Karim Hossain")
    moussa = world.person(DAKAR_DEPUTY, name="Moussa Fall")
    for person in (awa, rahim, hq, karim, moussa):
        await person.send("hello")
        await person.expect_reply("How can I help")
    await karim.send("/learning office BD-CXB")
    await karim.expect_reply("You're now in Cox's Bazar office")
    await world.deliver()
    await rahim.expect_reply("says they work in Cox's Bazar office")
    await assign(
        world.app,
        "fatou@example.org,ethics,2026-11-20",
        "ousmane@example.org,ethics,2026-11-20",
        "karim@example.org,ethics,2026-11-20",
    )
    await awa.send("/learning report")
    dakar = await awa.expect_reply("Compliance report: Dakar office", "Compared with the other office:")
    assert "Karim" not in dakar
    await awa.send("/learning report offices")
    await awa.expect_reply("for org admins")
    await awa.send("/learning report cox")
    await awa.expect_reply("I don't know an office called 'cox'")
    await awa.send("/learning report BD-CXB")
    await awa.expect_reply("which you don't manage")

    await hq.send("/learning report offices")
    side = await hq.expect_reply("offices side by side", "Dakar office", "Cox's Bazar office", "0% done")
    assert "Karim" not in side and "Fatou" not in side
    await hq.send("/learning report Cox's Bazar")
    await hq.expect_reply("Compliance report: Cox's Bazar office", "Karim")

    await world.run_job("nudge_summary")
    await hq.expect_reply("offices side by side")
    await awa.expect_reply("Weekly compliance summary: Dakar office")
    await moussa.expect_reply("Weekly compliance summary: Dakar office")
    await rahim.expect_reply("Weekly compliance summary: Cox's Bazar office")
