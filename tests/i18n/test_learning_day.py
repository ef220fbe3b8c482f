"""A learning day scheduled in French, from the first question to the announcement, on every
platform; dates are read in French ("jeudi 17 décembre") and Spanish ("el viernes")."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select

from bot.clock import ManualClock
from bot.features.learning_days.parsing import parse_date
from bot.i18n import Catalogues
from storage.learning_days import LearningDay
from tests.support.conversation import ChatWorld

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def test_dates_in_three_languages() -> None:
    catalogues = Catalogues()
    fr, es, en = (catalogues.translator(language) for language in ("fr", "es", "en"))
    assert parse_date(fr, "jeudi 17 décembre", "Africa/Nairobi", NOW) == date(2026, 12, 17)
    assert parse_date(fr, "jeudi prochain", "Africa/Nairobi", NOW) == date(2026, 12, 3)
    assert parse_date(es, "el viernes", "America/Bogota", NOW) == date(2026, 12, 4)
    assert parse_date(es, "15 de enero", "America/Bogota", NOW) == date(2027, 1, 15)
    assert parse_date(en, "next Thursday", "Africa/Nairobi", NOW) == date(2026, 12, 3)


async def test_a_learning_day_scheduled_in_french(world: ChatWorld, clock: ManualClock) -> None:
    clock.set(NOW)
    manager = world.person("manager@example.org", name="Manager")
    await manager.send("/learning language fr")
    await manager.expect_reply("je parlerai français")
    await manager.send("/learning day schedule")
    await manager.expect_reply("Programmons une journée d'apprentissage", "Quelle date")
    await manager.send("jeudi 17 décembre")
    await manager.expect_reply("jeudi 17 décembre 2026", "À quelle heure")
    await manager.send("ok")
    await manager.expect_reply("Quel est le titre")
    await manager.send("Journée data")
    await manager.expect_reply("Quel est le thème")
    await manager.send("passer")
    await manager.expect_reply("Où est-ce")
    await manager.send("Salle 4 https://meet.example.org/data")
    await manager.expect_reply(
        "Programmer cette journée d'apprentissage", "Journée data", "jeudi 17 décembre 2026"
    )
    await manager.send("oui")
    await manager.expect_reply("Journée d'apprentissage #1 programmée", "Journée data")
    async with world.app.sessions() as session:
        day = await session.scalar(select(LearningDay))
    assert day is not None and day.date == date(2026, 12, 17) and day.place == "Salle 4"
