"""The reply table: at least 60 real-looking replies per language, at least 90% understood,
and no negative ever read as done (figures in docs/benchmarks.md, from bench/intents.py)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.intents import Default, Kind, normalise, read_day, understand
from tests.i18n.reply_cases import ANY, CASES, HELD_OUT, NOW, Case


def understood(case: Case, language: str) -> bool:
    got = understand(case.text, NOW, language)
    if case.kind is None:
        return got is None
    return got is not None and got.kind == case.kind and (case.on is ANY or got.on == case.on)


@pytest.mark.parametrize("language", sorted(CASES))
def test_at_least_90_percent_of_60_replies_understood(language: str) -> None:
    cases = CASES[language]
    assert len(cases) >= 60
    missed = [case.text for case in cases if not understood(case, language)]
    share = 1 - len(missed) / len(cases)
    assert share >= 0.9, f"{language}: {share:.0%} understood; missed {missed}"


@pytest.mark.parametrize("language", sorted(CASES))
def test_no_negative_is_ever_read_as_done(language: str) -> None:
    negatives = [case for case in CASES[language] + HELD_OUT[language] if case.negative]
    assert len(negatives) >= 6
    for case in negatives:
        got = understand(case.text, NOW, language)
        assert got is None or got.kind != Kind.DONE, case.text


@pytest.mark.parametrize("language", sorted(HELD_OUT))
def test_replies_the_rules_were_not_tuned_on(language: str) -> None:
    cases = HELD_OUT[language]
    share = sum(understood(case, language) for case in cases) / len(cases)
    assert share >= 0.8, f"{language}: {share:.0%}"


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("I haven't done it, done is not the word", Kind.NOT_YET),
        ("pas encore fait", Kind.NOT_YET),
        ("todavía no lo hice", Kind.NOT_YET),
        ("not done", Kind.NOT_YET),
        ("no lo he hecho, listo mañana", Kind.SNOOZE),
    ],
)
def test_negatives_with_done_words_inside(text: str, kind: Kind) -> None:
    got = understand(text, NOW, "en")
    assert got is not None and got.kind == kind


def test_a_pasted_link_or_an_unrelated_sentence_is_no_reply() -> None:
    assert understand("https://www.youtube.com/watch?v=abc", NOW) is None
    assert understand("I liked the TED talk about sleep", NOW) is None


def test_stated_defaults_for_holidays_and_eid() -> None:
    holidays = understand("after the holidays", NOW)
    eid = understand("remind me after Eid", NOW)
    back = understand("when I'm back", NOW)
    assert holidays and holidays.default == Default.HOLIDAYS and holidays.on == date(2027, 1, 4)
    assert eid and eid.default == Default.EID and eid.on == date(2027, 3, 13)
    assert back and back.default == Default.BACK and back.on == date(2026, 12, 8)
    # In summer "after the holidays" is two weeks off, not next January.
    july = datetime(2027, 7, 6, 10, tzinfo=ZoneInfo("Europe/Paris"))
    summer = understand("après les vacances", july, "fr")
    assert summer and summer.on == date(2027, 7, 20)


def test_days_in_three_languages() -> None:
    assert read_day("jeudi 17 décembre", NOW, past=False) == date(2026, 12, 17)
    assert read_day("el viernes", NOW, past=False) == date(2026, 12, 4)
    assert read_day("el viernes", NOW, past=True) == date(2026, 11, 27)
    assert read_day("mardi dernier", NOW, past=False) == date(2026, 11, 24)
    assert read_day("la semana que viene", NOW, past=False) == date(2026, 12, 7)
    assert read_day("in two weeks", NOW, past=False) == date(2026, 12, 15)


def test_the_persons_own_zone_decides_yesterday() -> None:
    # 23:30 on Monday in Bogotá is already Tuesday in UTC: "yesterday" is Sunday there.
    late = datetime(2026, 11, 30, 23, 30, tzinfo=ZoneInfo("America/Bogota"))
    got = understand("lo terminé ayer", late, "es")
    assert got and got.on == date(2026, 11, 29)


def test_normalising_keeps_ordinary_words() -> None:
    assert normalise("¿Dónde está?") == "donde esta ?"
    assert normalise("Finsihed ✅") == "finished done"
    assert normalise("merciiii 🙏") == "merci thanks"
