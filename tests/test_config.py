"""app.yaml validation: every problem is reported with the key's path and what is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.config import ConfigError, load_config, parse_config, parse_recurrence
from learnbot.cli import main

REPO = Path(__file__).parent.parent


def problems(data: dict) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(data)
    return caught.value.problems


def test_the_shipped_app_yaml_is_valid() -> None:
    config = load_config(REPO / "app.yaml")
    assert config.offices[0].id == "nairobi"


def test_wrong_key_names_the_path_and_suggests(config_data: dict) -> None:
    config_data["offices"][0]["timzone"] = "Africa/Nairobi"
    assert problems(config_data) == ["offices[0].timzone: unknown key (did you mean 'timezone'?)"]


def test_nested_wrong_key(config_data: dict) -> None:
    config_data["nudges"] = {"first_reminder_days_befor": 3}
    assert problems(config_data) == [
        "nudges.first_reminder_days_befor: unknown key (did you mean 'first_reminder_days_before'?)"
    ]


def test_bad_values_are_explained(config_data: dict) -> None:
    config_data["offices"][1]["timezone"] = "America/Bogata"
    config_data["offices"][0]["working_hours"] = {"start": "18:00", "end": "09:00"}
    config_data["courses"][0]["recurrence"] = "every 2 yrs"
    config_data["schedules"] = [{"name": "picks", "job": "weekly_picks", "cron": "0 25 * * mon"}]
    found = problems(config_data)
    assert "offices[1].timezone: unknown time zone 'America/Bogata' (did you mean 'America/Bogota'?)" in found
    assert "offices[0].working_hours: start must be before end" in found
    assert any(p.startswith("courses[0].recurrence: 'every 2 yrs' is not a recurrence") for p in found)
    assert any(p.startswith("schedules[0]: cron '0 25 * * mon' is not valid") for p in found)


def test_cross_references(config_data: dict) -> None:
    config_data["default_office"] = "paris"
    assert any("default_office 'paris' is not one of" in p for p in problems(config_data))


def test_missing_offices() -> None:
    assert problems({"bot_name": "x"}) == ["offices: Field required"]


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "app.yaml"
    path.write_text("offices:\n  - id: x\n    name: [unclosed\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.problems[0].startswith("line 4, column 1: not valid YAML")


def test_recurrence() -> None:
    assert parse_recurrence("every 2 years").years == 2  # type: ignore[union-attr]
    assert parse_recurrence("yearly").years == 1  # type: ignore[union-attr]
    assert parse_recurrence("every 6 months").months == 6  # type: ignore[union-attr]
    assert parse_recurrence("once") is None


def test_config_check_command(tmp_path: Path, config_data: dict, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(yaml.safe_dump(config_data))
    assert main(["config", "check", str(good)]) == 0
    assert "is valid: 2 office(s)" in capsys.readouterr().out

    config_data["offices"][0]["chanels"] = []
    config_data["schedules"] = [{"name": "s", "job": "no_such_job", "cron": "0 9 * * mon"}]
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(config_data))
    assert main(["config", "check", str(bad)]) == 2
    assert "offices[0].chanels: unknown key (did you mean 'channels'?)" in capsys.readouterr().err

    del config_data["offices"][0]["chanels"]
    bad.write_text(yaml.safe_dump(config_data))
    assert main(["config", "check", str(bad)]) == 2
    assert "schedules[0].job: no job named 'no_such_job'" in capsys.readouterr().err
