"""Reminder -> typed reply -> effect, in French and Spanish, on the console, Slack and Teams."""

from __future__ import annotations

from datetime import UTC, date, datetime

from bot.clock import ManualClock
from bot.core import Learnbot
from storage.nudges import Source
from tests.nudges.helpers import assign, assignments
from tests.support.conversation import ChatWorld, ConsoleWorld


async def _meet(world: ChatWorld, clock: ManualClock, *people: tuple[str, str, str | None]) -> None:
    """Everyone meets the bot the day before (Teams' install welcome counts towards the daily
    cap) and, when given, chooses their language."""
    clock.set(datetime(2026, 11, 30, 9, 0, tzinfo=UTC))
    for email, name, language in people:
        driver = world.person(email, name=name)
        await driver.send("hello")
        await driver.expect_reply("How can I help")
        if language:
            await driver.send(f"/learning language {language}")
            await driver.expect_reply({"fr": "je parlerai français", "es": "te hablaré en español"}[language])


async def test_french_reminder_done_yesterday_and_not_yet(world: ChatWorld, clock: ManualClock) -> None:
    await _meet(world, clock, ("ana@example.org", "Ana", "fr"))
    ana = world.person("ana@example.org")
    clock.set(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))  # Tue 1 Dec, 12:00 in Nairobi
    await assign(world.app, "ana@example.org,ethics,2026-12-08", "ana@example.org,infosec,2026-12-03")
    await world.run_job("nudge_sweep")
    # One reminder a day: the most urgent (infosec, due Thursday) comes first.
    reminder = await ana.expect_reply("Rappel : Information security", "jeudi 3 décembre")
    assert "due" not in reminder and "Remind me later" not in reminder
    await ana.send("pas encore")
    await ana.expect_reply("Pas de souci", "je vous rappellerai Information security le")
    await ana.send("bonjour")
    await ana.expect_reply("Bonjour Ana", "Que puis-je faire")

    clock.set(datetime(2026, 12, 2, 9, 0, tzinfo=UTC))
    await world.run_job("nudge_sweep")
    await ana.expect_reply("Rappel : Ethics and integrity", "mardi 8 décembre")
    await ana.send("fini hier 👍")
    await ana.expect_reply("Merci", "Ethics and integrity", "comme terminé le mardi 1 décembre")
    rows = {a.course_id: a for a in await assignments(world.app)}
    assert rows["ethics"].completed_on == date(2026, 12, 1)
    assert rows["ethics"].completion_source == Source.SELF_REPORTED
    assert rows["infosec"].completed_on is None  # "pas encore" is never done


async def test_spanish_snooze_and_not_mine_pause_until_the_manager_decides(
    world: ChatWorld, clock: ManualClock
) -> None:
    await _meet(world, clock, ("luis@example.org", "Luis", "es"), ("manager@example.org", "Manager", None))
    luis, manager = world.person("luis@example.org"), world.person("manager@example.org")
    clock.set(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    await assign(world.app, "luis@example.org,infosec,2026-12-08")
    await world.run_job("nudge_sweep")
    await luis.expect_reply("Recordatorio: Information security", "vence el martes 8 de diciembre")
    await luis.send("todavia no, recuérdame el viernes")
    await luis.expect_reply("te recordaré Information security el viernes 4 de diciembre")
    assert (await assignments(world.app))[0].snoozed_until == date(2026, 12, 4)

    await luis.send("no es mío, trabajo en logística")
    await luis.expect_reply("He pausado los recordatorios de Information security")
    await world.deliver()
    await manager.expect_reply("Luis", "Information security", "says this course is not theirs", "paused")
    paused = (await assignments(world.app))[0]
    assert paused.paused_reason == "not_mine" and paused.next_nudge_on is None

    await manager.press("Resume reminders")
    await manager.expect_reply("Reminders about Information security for Luis are on again")
    assert (await assignments(world.app))[0].next_nudge_on is not None


async def test_spanish_help_and_thanks(world: ChatWorld, clock: ManualClock) -> None:
    await _meet(world, clock, ("luis@example.org", "Luis", "es"), ("manager@example.org", "Manager", None))
    luis, manager = world.person("luis@example.org"), world.person("manager@example.org")
    clock.set(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    await assign(world.app, "luis@example.org,ethics,2026-12-08")
    await world.run_job("nudge_sweep")
    await luis.expect_reply("Recordatorio: Ethics and integrity")
    await luis.send("olvidé mi contraseña del LMS")
    await luis.expect_reply("en privado", "necesitas ayuda con Ethics and integrity")
    await world.deliver()
    await manager.expect_reply("asked for help", "Ethics and integrity", "olvidé mi contraseña")
    await luis.send("gracias!!")
    await luis.expect_reply("¡De nada!")


async def test_only_plausible_replies_count_days_after_a_reminder(app: Learnbot, clock: ManualClock) -> None:
    """Within 48 hours anything reply-like is about the reminder; four days later a pasted link
    or "thanks" gets the normal assistant, while a clear answer ("done") still counts."""
    world = ConsoleWorld(app)
    ana = world.person("ana@example.org")
    clock.set(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    await assign(app, "ana@example.org,ethics,2026-12-08")
    await world.run_job("nudge_sweep")
    await ana.expect_reply("Reminder: Ethics and integrity")
    await ana.send("what's the weather like")
    await ana.expect_reply("About your reminder for Ethics and integrity")

    clock.set(datetime(2026, 12, 5, 9, 0, tzinfo=UTC))
    await ana.send("https://www.youtube.com/watch?v=dQw4w9WgXcQ")
    reply = await ana.expect_reply()
    assert "Ethics and integrity" not in reply
    await ana.send("thanks")
    reply = await ana.expect_reply()
    assert "Ethics and integrity" not in reply
    await ana.send("done last friday")
    await ana.expect_reply("noted", "Ethics and integrity", "as done on Friday 4 December")
