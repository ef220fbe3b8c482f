"""Recurring rules and announcement offsets as written in app.yaml, and their config errors."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from bot.config import ConfigError, parse_config
from bot.features.learning_days.rules import parse_offset, parse_rule


def test_first_thursday_crosses_the_year_end() -> None:
    dates = parse_rule("first Thursday of every month").dates(date(2026, 12, 4), 3)
    assert dates == [date(2027, 1, 7), date(2027, 2, 4), date(2027, 3, 4)]


def test_last_friday_of_the_month_handles_short_months() -> None:
    dates = parse_rule("last Friday of every month").dates(date(2027, 1, 30), 3)
    assert dates == [date(2027, 2, 26), date(2027, 3, 26), date(2027, 4, 30)]


def test_the_31st_skips_short_months_and_last_day_does_not() -> None:
    assert parse_rule("31st of every month").dates(date(2027, 1, 1), 3) == [
        date(2027, 1, 31),
        date(2027, 3, 31),
        date(2027, 5, 31),
    ]
    assert parse_rule("last day of every month").dates(date(2027, 1, 1), 3) == [
        date(2027, 1, 31),
        date(2027, 2, 28),
        date(2027, 3, 31),
    ]


def test_intervals_stay_in_step_whenever_generated() -> None:
    rule = parse_rule("every 2 weeks on Friday")
    early = rule.dates(date(2027, 1, 1), 4)
    later = rule.dates(early[1], 2)
    assert later == early[1:3]
    assert parse_rule("FREQ=MONTHLY;BYDAY=1TH").dates(date(2026, 12, 4), 1) == [date(2027, 1, 7)]


@pytest.mark.parametrize("text", ["first Blursday of every month", "sometimes", "FREQ=MONTHLY;COUNT=2"])
def test_unknown_rules_are_refused_with_examples(text: str) -> None:
    with pytest.raises(ValueError, match=text.split(";")[0].split()[0]):
        parse_rule(text)


def test_offsets() -> None:
    assert parse_offset("7 days before").key == "7d"
    assert parse_offset("a day before").key == "1d"
    assert parse_offset("2 weeks before").key == "14d"
    assert parse_offset("Morning of").key == "0d"
    assert parse_offset("2 hours before").key == "2h"
    with pytest.raises(ValueError, match="not an announcement offset"):
        parse_offset("soon")


def test_config_errors_name_the_key(config_data: dict[str, Any]) -> None:
    config_data["learning_days"] = {
        "announce": ["7 days before", "whenever"],
        "recurring": [{"id": "monthly", "office": "nairobi", "rule": "every blue moon"}],
        "anounce_at": "09:00",
    }
    with pytest.raises(ConfigError) as raised:
        parse_config(config_data)
    problems = "\n".join(raised.value.problems)
    assert "learning_days.announce[1]: 'whenever' is not an announcement offset" in problems
    assert "learning_days.recurring[0].rule: 'every blue moon'" in problems
    assert "learning_days.anounce_at: unknown key (did you mean 'announce_at'?)" in problems


def test_recurring_rule_must_name_a_known_office(config_data: dict[str, Any]) -> None:
    config_data["learning_days"] = {
        "recurring": [{"id": "monthly", "office": "lima", "rule": "first Thursday of every month"}]
    }
    with pytest.raises(ConfigError, match=r"learning_days.recurring\[0\].office: 'lima' is not one of"):
        parse_config(config_data)


def test_a_start_time_alone_keeps_the_usual_end() -> None:
    from datetime import time

    import pytest

    from bot.errors import UserError
    from bot.features.learning_days.parsing import parse_time_range
    from bot.i18n import ENGLISH

    assert parse_time_range(ENGLISH, "10:00", time(17, 0)) == (time(10, 0), time(17, 0))
    assert parse_time_range(ENGLISH, "9am", time(17, 0)) == (time(9, 0), time(17, 0))
    with pytest.raises(UserError, match="would end before 17:00"):
        parse_time_range(ENGLISH, "18:00", time(17, 0))
