"""Office aliases and codes, org admins and the directory field in app.yaml."""

from __future__ import annotations

from typing import Any

import pytest

from bot.config import ConfigError, parse_config
from tests.offices.conftest import COX_MANAGER, DAKAR_DEPUTY, DAKAR_MANAGER, ORG_ADMIN


def problems(data: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(data)
    return caught.value.problems


@pytest.mark.parametrize(
    ("label", "office"),
    [
        ("dakar", "dakar"),
        ("DAKAR OFFICE", "dakar"),
        ("sn-dkr", "dakar"),
        ("SN DKR", "dakar"),
        ("Cox's Bazar", "coxs-bazar"),
        ("coxs bazar", "coxs-bazar"),
        ("COX’S BAZAR", "coxs-bazar"),
        ("bd-cxb", "coxs-bazar"),
        ("  Cox's Bazar office ", "coxs-bazar"),
        ("Nairobi", None),
        ("", None),
        ("---", None),
    ],
)
def test_office_for_label_ignores_case_accents_and_punctuation(
    config_data: dict[str, Any], label: str, office: str | None
) -> None:
    config = parse_config(config_data)
    found = config.office_for_label(label)
    assert (found.id if found else None) == office


def test_accented_names_match_without_accents(config_data: dict[str, Any]) -> None:
    config_data["offices"][0]["aliases"] = ["Bogotá Sede", "CO-BOG"]
    config = parse_config(config_data)
    assert config.office_for_label("bogota sede") is config.offices[0]
    assert config.office_for_label("BOGOTÁ SEDE") is config.offices[0]


def test_two_offices_answering_to_one_label_is_an_error_naming_the_key(config_data: dict[str, Any]) -> None:
    config_data["offices"][1]["aliases"] = ["Dakar"]
    [problem] = problems(config_data)
    assert problem.startswith("offices[1].aliases: 'Dakar' also names office 'dakar'")


def test_an_alias_without_letters_is_refused(config_data: dict[str, Any]) -> None:
    config_data["offices"][0]["aliases"] = ["--"]
    assert problems(config_data) == ["offices[0].aliases: alias '--' has no letters or digits"]


def test_org_admins_must_be_emails(config_data: dict[str, Any]) -> None:
    config_data["org_admins"] = ["hq"]
    assert problems(config_data) == ["org_admins: 'hq' is not an email address"]


def test_directory_field_unknown_key_is_named(config_data: dict[str, Any]) -> None:
    config_data["directory"] = {"slack_field": "Office"}
    [problem] = problems(config_data)
    assert problem.startswith("directory.slack_field: unknown key (did you mean 'slack_office_field'?)")


def test_managed_offices(config_data: dict[str, Any]) -> None:
    config = parse_config(config_data)
    assert config.managed_office_ids(DAKAR_MANAGER) == {"dakar"}
    assert config.managed_office_ids(DAKAR_DEPUTY.upper()) == {"dakar"}
    assert config.managed_office_ids(COX_MANAGER) == {"coxs-bazar"}
    assert config.managed_office_ids(ORG_ADMIN) == {"dakar", "coxs-bazar"}
    assert config.managed_office_ids("fatou@example.org") == frozenset()
    assert config.managed_office_ids(None) == frozenset()
    assert config.is_org_admin(ORG_ADMIN) and not config.is_org_admin(DAKAR_MANAGER)
