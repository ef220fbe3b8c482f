"""Which language Learnbot speaks to someone: their choice, then their platform's locale (Slack
``users.info`` with ``include_locale``, the Teams activity's ``locale``), then their office's
``locale``, then English."""

from __future__ import annotations

from bot.core import Learnbot
from bot.i18n import Catalogues, choose_language, language_of
from tests.support.conversation import ChatWorld, ConsoleDriver


def test_language_tags_are_read_loosely() -> None:
    assert [language_of(t) for t in ("fr-FR", "es_419", "FR", "en-US", "", None, "x-klingon")] == [
        "fr",
        "es",
        "fr",
        "en",
        None,
        None,
        None,
    ]
    spoken = ("en", "es", "fr")
    assert choose_language(["es", "fr-FR", "en"], spoken) == "es"
    assert choose_language([None, "fr-CA", "es"], spoken) == "fr"
    assert choose_language([None, "de-DE", "es"], spoken) == "es"  # no German yet: the office's
    assert choose_language([None, None, None], spoken) == "en"


def test_catalogues_speak_the_three_languages() -> None:
    catalogues = Catalogues()
    assert {"en", "fr", "es"} <= set(catalogues.languages)
    assert catalogues.translator("fr")._("Sorry, I didn't understand that.") == "Désolé, je n'ai pas compris."
    assert (
        catalogues.translator("de")._("Sorry, I didn't understand that.")
        == "Sorry, I didn't understand that."
    )


async def test_own_choice_wins_and_auto_gives_it_back(world: ChatWorld) -> None:
    ana = world.person("ana@example.org", name="Ana")
    await ana.send("/learning language fr")
    await ana.expect_reply("je parlerai français avec vous")
    await ana.send("blablabla")
    await ana.expect_reply("Désolé, je n'ai pas compris")
    await ana.send("/learning language español")
    await ana.expect_reply("a partir de ahora te hablaré en español")
    await ana.send("/learning language klingon")
    await ana.expect_reply("Todavía no hablo 'klingon'")
    await ana.send("/learning language auto")
    await ana.expect_reply("I'll follow your chat app's language")


async def test_the_office_locale_when_the_platform_says_nothing(app: Learnbot) -> None:
    # gestora@ manages the Bogotá office (locale: es); the console knows no locale.
    gestora = ConsoleDriver(app, "gestora@example.org")
    await gestora.send("blablabla")
    await gestora.expect_reply("Lo siento, no lo he entendido")


def test_formats_follow_the_language() -> None:
    from datetime import date, time

    catalogues = Catalogues()
    en, fr, es = (catalogues.translator(language) for language in ("en", "fr", "es"))
    friday = date(2026, 12, 4)
    assert (en.day(friday), fr.day(friday), es.day(friday)) == (
        "Friday 4 December",
        "vendredi 4 décembre",
        "viernes 4 de diciembre",
    )
    assert fr.day(date(2027, 1, 4), today=friday) == "lundi 4 janvier 2027"
    assert (en.time(time(9, 5)), fr.time(time(14, 30))) == ("09:05", "14:30")
    assert (en.number(1234.5), fr.number(1234.5), es.number(1234.5)) == ("1,234.5", "1\u202f234,5", "1.234,5")
    assert (en.list(["a", "b", "c"]), fr.list(["a", "b", "c"]), es.list(["a", "b", "c"])) == (
        "a, b, and c",
        "a, b et c",
        "a, b y c",
    )


def test_a_broken_translation_falls_back_to_english() -> None:
    import gettext
    import io

    from babel.messages.catalog import Catalog
    from babel.messages.mofile import write_mo

    from bot.i18n import Translator

    catalog = Catalog(locale="fr")
    catalog.add("Hi {name}", "Bonjour {nom}")  # a translator renamed the field
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    broken = Translator("fr", gettext.GNUTranslations(buffer))
    assert broken._("Hi {name}", name="Ana") == "Hi Ana"
    assert broken.ngettext("{n} day", "{n} days", 3) == "3 days"
