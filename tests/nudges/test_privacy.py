"""Who sees what: reminders and help requests are private, only the office's learning manager
learns who is overdue, kudos appear only for people who opted in."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from bot.clock import ManualClock
from bot.config import ConfigError, parse_config
from bot.core import Learnbot
from bot.features import FEATURES
from storage.models import OutboxMessage, Person
from tests.nudges.helpers import assign, place
from tests.support.conversation import ConsoleWorld


async def _outbox(app: Learnbot) -> list[tuple[str, str, str | None]]:
    async with app.sessions() as session:
        rows = await session.execute(
            select(OutboxMessage.idempotency_key, OutboxMessage.destination_kind, Person.email)
            .outerjoin(Person, Person.id == OutboxMessage.person_id)
            .order_by(OutboxMessage.id)
        )
        return [(key, kind, email) for key, kind, email in rows]


async def test_help_goes_privately_to_the_persons_own_manager(app: Learnbot, clock: ManualClock) -> None:
    world = ConsoleWorld(app)
    luis = world.person("luis@example.org")
    await luis.send("hello")
    await luis.expect_reply("what I can do")
    await assign(app, "luis@example.org,infosec,2026-12-04")
    await place(app, "luis@example.org", office_id="bogota")
    clock.set(datetime(2026, 12, 1, 14, tzinfo=UTC))  # 09:00 in Bogotá
    await world.run_job("nudge_sweep")
    await luis.expect_reply("Information security")
    # Luis is in the Bogotá office (locale: es) and the console has no locale of its own.
    await luis.press("Necesito ayuda")
    await luis.expect_reply("en privado", "te recordaré")
    await luis.send("I need help")  # the same day again: the manager is not told twice
    await world.deliver()
    sent = [row for row in await _outbox(app) if row[0].startswith("nudge-help:")]
    assert [(kind, email) for _, kind, email in sent] == [("person", "gestora@example.org")]
    await world.person("gestora@example.org").expect_reply("pidió ayuda", "Information security")
    assert "manager@example.org" not in world.people or not world.people["manager@example.org"].outputs


async def test_only_the_offices_learning_manager_sees_who_is_overdue(app: Learnbot) -> None:
    world = ConsoleWorld(app)
    await assign(app, "ana@example.org,ethics,2026-11-01", "luis@example.org,ethics,2026-11-01")
    await place(app, "luis@example.org", office_id="bogota")
    ana, manager, gestora = (
        world.person(e) for e in ("ana@example.org", "manager@example.org", "gestora@example.org")
    )
    await ana.send("/learning report")
    await ana.expect_reply("only a learning manager")
    await ana.send("/learning help")
    text = await ana.expect_reply("/learning courses")
    assert "/learning report" not in text
    await manager.send("/learning report")
    report = await manager.expect_reply("Nairobi office", "Ethics and integrity", "Overdue: Ana")
    assert "luis" not in report.lower()
    await gestora.send("/learning report")
    report = await gestora.expect_reply("Bogotá office", "Vencidos: luis@example.org")  # office locale: es
    assert "Ana (due" not in report
    # A manager cannot review another office's people either.
    await ana.send("done")  # no reminder yet: not taken as an answer
    await ana.expect_reply("didn't understand")
    await gestora.send("/learning confirm ana@example.org ethics")
    await gestora.expect_reply("no está en una oficina que gestionas")


async def test_a_button_from_someone_elses_reminder_does_nothing(app: Learnbot) -> None:
    world = ConsoleWorld(app)
    ana, bob = world.person("ana@example.org"), world.person("bob@example.org")
    await ana.send("hello")
    await ana.expect_reply("what I can do")
    await assign(app, "ana@example.org,ethics,2026-12-02")
    await world.run_job("nudge_sweep")
    await ana.expect_reply("Ethics and integrity")
    from bot.events import ButtonPressed, Conversation

    replies = await app.handle(
        ButtonPressed(
            actor=bob.chat.actor(), conversation=Conversation("dm:bob"), action_id="nudge.done", value="1"
        )
    )
    assert "isn't one of yours" in replies[0].text


async def test_kudos_only_for_people_who_opted_in(app: Learnbot) -> None:
    world = ConsoleWorld(app)
    ana, bob = world.person("ana@example.org"), world.person("bob@example.org")
    await ana.send("/learning kudos on")
    await ana.expect_reply("Kudos are on")
    await bob.send("/learning kudos")
    await bob.expect_reply("off (the default)")
    await assign(app, "ana@example.org,ethics,2026-12-08", "bob@example.org,ethics,2026-12-08")
    from bot.features.lms.apply import import_text

    await import_text(
        app,
        "email,course,completed\nana@example.org,ethics,2026-12-01\nbob@example.org,ethics,2026-12-01\n",
        "completions",
    )
    await world.deliver()
    await world.expect_post("learning", "Kudos to Ana")
    assert not [post for post in world.posts["learning"] if "Bob" in post]
    await bob.expect_reply("Thank you for completing")
    await ana.expect_reply("Thank you for completing")
    await ana.send("/learning kudos off")
    await ana.expect_reply("stay private")


async def test_weekly_summary_goes_to_each_manager_once_per_week(app: Learnbot, clock: ManualClock) -> None:
    world = ConsoleWorld(app)
    await assign(app, "ana@example.org,ethics,2026-11-20", "bob@example.org,ethics,2026-11-24")
    await app.run_job("nudge_summary")
    await app.run_job("nudge_summary")
    await world.deliver()
    manager = world.person("manager@example.org")
    await manager.expect_reply("Weekly compliance summary", "Overdue: 2", "2 worse than last week")
    await manager.expect_nothing()


async def test_help_says_so_when_the_manager_cannot_be_reached(config, sessions, clock) -> None:  # type: ignore[no-untyped-def]
    """On Slack, a manager who never used the bot has no account yet: say so, don't pretend."""
    from bot.features.nudges.outcomes import ask_for_help
    from bot.i18n import ENGLISH
    from bot.people import person_by_email
    from storage.nudges import Assignment

    slack_only = Learnbot(config, sessions, clock=clock, platforms=("slack",), features=FEATURES)
    await assign(slack_only, "ana@example.org,ethics,2026-12-08")
    async with sessions() as session, session.begin():
        ana = await person_by_email(session, "ana@example.org")
        assert ana is not None
        assignment = await session.get_one(Assignment, 1)
        outcome = await ask_for_help(slack_only, session, ENGLISH, ana, assignment, "no access")
    assert "write to manager@example.org" in outcome.text
    failed = [row for row in await _outbox(slack_only) if row[0].startswith("nudge-help:")]
    assert [email for _, _, email in failed] == ["manager@example.org"]


def test_kudos_channel_must_exist(config_data: dict) -> None:
    config_data["nudges"] = {"kudos_channel": "nowhere"}
    with pytest.raises(ConfigError) as caught:
        parse_config(config_data)
    assert "nudges.kudos_channel: no channel with key 'nowhere'" in str(caught.value)


async def test_report_counts_people_not_rounds(app: Learnbot, clock: ManualClock) -> None:
    """A confirmed completion creates the next round; the person still counts once, as done."""
    from bot.features.nudges.report import office_report

    await assign(app, "ana@example.org,ethics,2026-12-08", "bob@example.org,ethics,2026-11-10")
    completions = "email,course,completed\nana@example.org,ethics,2026-11-30\n"
    from bot.features.lms.apply import import_text

    await import_text(app, completions, "completions")
    async with app.sessions() as session:
        [ethics, _infosec] = await office_report(
            session, app.config, app.config.office("nairobi"), date(2026, 12, 1)
        )
    assert (ethics.now.assigned, ethics.now.done, ethics.now.overdue) == (2, 1, 1)
    # Nothing was imported a week ago: the trend starts from zero.
    assert (ethics.week_ago.assigned, ethics.week_ago.done, ethics.week_ago.overdue) == (0, 0, 0)
    clock.set(datetime(2026, 12, 8, 9, tzinfo=UTC))
    async with app.sessions() as session:
        [ethics, _infosec] = await office_report(
            session, app.config, app.config.office("nairobi"), date(2026, 12, 8)
        )
    assert (ethics.week_ago.assigned, ethics.week_ago.done, ethics.week_ago.overdue) == (2, 1, 1)
    assert ethics.overdue_people == ["bob@example.org (due 10 Nov)"]
