"""The sweep's cadence: stages, working hours and weekends in each person's time zone, snooze,
the per-person daily cap across every feature, and never a duplicate."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import update

from bot.clock import ManualClock
from bot.core import Learnbot
from bot.features.nudges.stages import current_stage, next_stage_on, regular_stages
from bot.messages import plain
from bot.outbox import ToPerson
from bot.people import person_by_email
from storage.nudges import Assignment
from tests.nudges.helpers import assign, assignments, nudge_keys, place
from tests.support.conversation import ConsoleWorld


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=UTC)


def test_stages_follow_the_policy(app: Learnbot) -> None:
    policy = app.config.nudges  # 7 days before, due day, every 7 days overdue, at most 4
    due = date(2026, 12, 15)
    names = [(s.name, s.on.day if s.on.month == 12 else s.on) for s in regular_stages(due, policy)]
    assert names == [
        ("early", 8),
        ("due", 15),
        ("overdue-1", 22),
        ("overdue-2", 29),
        ("overdue-3", date(2027, 1, 5)),
        ("overdue-4", date(2027, 1, 12)),
    ]
    assert current_stage(due, policy, None, date(2026, 12, 7)) is None
    assert current_stage(due, policy, None, date(2026, 12, 10)).name == "early"  # type: ignore[union-attr]
    assert next_stage_on(due, policy, None, date(2027, 1, 12)) is None
    # A snooze silences the stages before it and reminds once on its day.
    snoozed = current_stage(due, policy, date(2026, 12, 11), date(2026, 12, 11))
    assert snoozed is not None and snoozed.name == "snooze-2026-12-11"
    assert current_stage(due, policy, date(2026, 12, 15), date(2026, 12, 15)).name == "due"  # type: ignore[union-attr]


async def test_full_cadence_then_silence(app: Learnbot, clock: ManualClock) -> None:
    await assign(app, "ana@example.org,ethics,2026-12-08")  # early stage starts today
    sent = []
    for day in range(1, 32):
        clock.set(at(day, 10))  # 13:00 in Nairobi
        await app.run_job("nudge_sweep")
        sent = await nudge_keys(app)
    stages = [key.rsplit(":", 1)[1] for key in sent]
    assert stages == ["early", "due", "overdue-1", "overdue-2", "overdue-3"]
    clock.set(datetime(2027, 1, 20, 10, tzinfo=UTC))
    await app.run_job("nudge_sweep")
    clock.set(datetime(2027, 2, 20, 10, tzinfo=UTC))
    await app.run_job("nudge_sweep")
    assert [key.rsplit(":", 1)[1] for key in await nudge_keys(app)] == [*stages, "overdue-4"]
    assert (await assignments(app))[0].next_nudge_on is None


async def test_working_hours_and_weekends_in_each_time_zone(app: Learnbot, clock: ManualClock) -> None:
    await assign(app, "ana@example.org,ethics,2026-12-04", "luis@example.org,ethics,2026-12-04")
    await place(app, "luis@example.org", office_id="bogota")  # 08:00-16:00, UTC-5
    clock.set(at(1, 9))  # Nairobi 12:00, Bogotá 04:00
    await app.run_job("nudge_sweep")
    keys = await nudge_keys(app)
    assert len(keys) == 1
    clock.set(at(1, 14))  # Nairobi 17:00 (closed), Bogotá 09:00
    await app.run_job("nudge_sweep")
    assert len(await nudge_keys(app)) == 2
    # A person's own time zone wins over their office's.
    await assign(app, "kim@example.org,infosec,2026-12-10")
    await place(app, "kim@example.org", timezone="Asia/Tokyo")  # 09:00-17:00 there = 00:00-08:00 UTC
    clock.set(at(3, 12))  # Tokyo 21:00
    await app.run_job("nudge_sweep")
    assert not [k for k in await nudge_keys(app) if k.startswith("nudge:3:")]
    clock.set(at(4, 1))  # Tokyo Friday 10:00
    await app.run_job("nudge_sweep")
    assert [k for k in await nudge_keys(app) if k.startswith("nudge:3:")] == ["nudge:3:early"]


async def test_never_on_the_weekend(app: Learnbot, clock: ManualClock) -> None:
    await assign(app, "ana@example.org,ethics,2026-12-12")  # early stage starts Sat 5 Dec
    for moment in (at(5, 10), at(6, 10)):  # Saturday, Sunday at 13:00 Nairobi
        clock.set(moment)
        await app.run_job("nudge_sweep")
    assert await nudge_keys(app) == []
    clock.set(at(7, 6))  # Monday 09:00 Nairobi
    await app.run_job("nudge_sweep")
    assert await nudge_keys(app) == ["nudge:1:early"]


async def test_daily_cap_counts_every_proactive_message(app: Learnbot, clock: ManualClock) -> None:
    await assign(app, "ana@example.org,ethics,2026-12-02", "ana@example.org,infosec,2026-11-20")
    async with app.sessions() as session, session.begin():
        ana = await person_by_email(session, "ana@example.org")
        assert ana is not None
        await app.plan(session, destination=ToPerson(ana.id), message=plain("picks"), key="picks:w49:ana")
    await app.run_job("nudge_sweep")
    assert await nudge_keys(app) == []
    clock.set(at(2, 6))  # next morning in Nairobi: the most overdue course first
    await app.run_job("nudge_sweep")
    await app.run_job("nudge_sweep")
    assert await nudge_keys(app) == ["nudge:2:overdue-1"]
    clock.set(at(3, 6))
    await app.run_job("nudge_sweep")
    assert await nudge_keys(app) == ["nudge:2:overdue-1", "nudge:1:due"]


async def test_cap_day_is_the_persons_local_day(app: Learnbot, clock: ManualClock) -> None:
    """At 21:30 UTC it is already tomorrow in Nairobi: yesterday's message no longer counts."""
    await assign(app, "ana@example.org,ethics,2026-12-02", "ana@example.org,infosec,2026-12-05")
    await place(app, "ana@example.org", timezone="Pacific/Auckland")  # UTC+13 in December
    clock.set(at(1, 20, 30))  # Wed 09:30 in Auckland
    await app.run_job("nudge_sweep")
    assert len(await nudge_keys(app)) == 1
    clock.set(at(2, 3))  # Wed 16:00 in Auckland: same local day, capped
    await app.run_job("nudge_sweep")
    assert len(await nudge_keys(app)) == 1
    clock.set(at(2, 20, 30))  # Thu 09:30 in Auckland
    await app.run_job("nudge_sweep")
    assert len(await nudge_keys(app)) == 2


async def test_sweeping_twice_plans_each_stage_once(app: Learnbot, clock: ManualClock) -> None:
    await assign(app, "ana@example.org,ethics,2026-12-01")
    for _ in range(3):
        await app.run_job("nudge_sweep")
    # Even if the assignment's bookkeeping were lost, the outbox key refuses a second row.
    async with app.sessions() as session, session.begin():
        await session.execute(update(Assignment).values(last_stage=None, next_nudge_on=date(2026, 12, 1)))
    clock.set(at(2, 6))
    await app.run_job("nudge_sweep")
    assert await nudge_keys(app) == ["nudge:1:due"]


async def test_an_unknown_profile_time_zone_falls_back_to_the_office(app: Learnbot) -> None:
    await assign(app, "ana@example.org,ethics,2026-12-02", "bob@example.org,ethics,2026-12-02")
    await place(app, "ana@example.org", timezone="Mars/Olympus_Mons")
    await app.run_job("nudge_sweep")
    assert await nudge_keys(app) == ["nudge:1:early", "nudge:2:early"]


async def test_a_due_day_on_the_weekend_arrives_monday_saying_when_it_was_due(
    app: Learnbot, clock: ManualClock
) -> None:
    world = ConsoleWorld(app)
    ana = world.person("ana@example.org")
    await ana.send("hello")
    await ana.expect_reply("what I can do")
    await assign(app, "ana@example.org,ethics,2026-12-05")  # a Saturday
    await world.run_job("nudge_sweep")
    await ana.expect_reply("is due on Saturday 5 December")
    clock.set(at(7, 6))  # Monday 09:00 in Nairobi
    await world.run_job("nudge_sweep")
    await ana.expect_reply("was due on Saturday 5 December")
    assert await nudge_keys(app) == ["nudge:1:early", "nudge:1:due"]
