"""The app manifest an admin pastes into Slack matches what the code listens to and needs."""

from __future__ import annotations

import pytest
import yaml

from adapters.slack.app import COMMANDS
from adapters.slack.plugin import BOT_SCOPES, MANIFEST
from learnbot.cli import main
from learnbot.settings import Settings


def test_manifest_matches_the_code() -> None:
    manifest = yaml.safe_load(MANIFEST.read_text())
    assert sorted(manifest["oauth_config"]["scopes"]["bot"]) == sorted(BOT_SCOPES)
    commands = manifest["features"]["slash_commands"]
    assert sorted(c["command"].lstrip("/") for c in commands) == sorted(COMMANDS)
    settings = manifest["settings"]
    urls = [c["url"] for c in commands]
    urls += [settings["event_subscriptions"]["request_url"], settings["interactivity"]["request_url"]]
    assert all(url.endswith("/slack/events") for url in urls)
    assert set(settings["event_subscriptions"]["bot_events"]) == {
        "app_home_opened",
        "app_mention",
        "member_joined_channel",
        "message.im",
        "team_join",
    }
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    assert manifest["oauth_config"]["redirect_urls"][0].endswith("/slack/oauth_redirect")


def test_the_server_loads_the_slack_plugin_only_when_configured() -> None:
    from learnbot.platforms import configured_platforms

    assert configured_platforms(Settings()) == []
    names = [p.NAME for p in configured_platforms(Settings(slack_bot_token="xoxb", slack_signing_secret="s"))]
    assert names == ["slack"]


def test_learnbot_prints_the_manifest_for_this_server(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["slack-manifest", "--url", "https://learn.office.example/"]) == 0
    manifest = yaml.safe_load(capsys.readouterr().out)
    assert (
        manifest["settings"]["event_subscriptions"]["request_url"]
        == "https://learn.office.example/slack/events"
    )
    assert manifest["oauth_config"]["redirect_urls"] == ["https://learn.office.example/slack/oauth_redirect"]
    assert {c["url"] for c in manifest["features"]["slash_commands"]} == {
        "https://learn.office.example/slack/events"
    }

    assert main(["slack-manifest", "--socket-mode"]) == 0
    socket = yaml.safe_load(capsys.readouterr().out)
    assert socket["settings"]["socket_mode_enabled"] is True
    assert "request_url" not in socket["settings"]["event_subscriptions"]
    assert all("url" not in c for c in socket["features"]["slash_commands"])


def test_a_plain_http_address_is_refused_with_a_hint(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["slack-manifest", "--url", "http://10.0.0.5:3000"]) == 2
    assert "Slack only calls HTTPS addresses" in capsys.readouterr().err


def _slack_manifest_schema_problems(manifest: dict) -> list[str]:
    import json

    from jsonschema import Draft7Validator

    from tests.teams.schemas import SPECS

    schema = json.loads((SPECS / "slack-app-manifest-1.0.0.schema.json").read_text())
    return [f"{e.message} at {list(e.path)}" for e in Draft7Validator(schema).iter_errors(manifest)]


def test_the_manifest_names_the_bot_and_hints_only_real_commands(
    tmp_path, config_data: dict, capsys: pytest.CaptureFixture[str]
) -> None:
    from adapters.slack.cli import feature_router

    config_data["bot_name"] = "Aprendizaje y Desarrollo Bot de la Oficina Regional"
    path = tmp_path / "app.yaml"
    path.write_text(yaml.safe_dump(config_data, allow_unicode=True), encoding="utf-8")
    assert main(["--config", str(path), "slack-manifest", "--url", "https://learn.example.org"]) == 0
    manifest = yaml.safe_load(capsys.readouterr().out)
    assert _slack_manifest_schema_problems(manifest) == []
    assert manifest["display_information"]["name"] == "Aprendizaje y Desarrollo Bot de la"
    assert manifest["features"]["bot_user"]["display_name"] == config_data["bot_name"]
    assert "Learnbot" not in manifest["display_information"]["long_description"]

    router = feature_router()
    for command in manifest["features"]["slash_commands"]:
        registered = router.commands[command["command"].lstrip("/")]
        for hinted in command["usage_hint"].split(" | "):
            name = hinted.split(" ", 1)[0]
            assert name == "help" or name in registered, f"{command['command']} {name}"
    assert all("find" not in c["usage_hint"] for c in manifest["features"]["slash_commands"])


def test_the_static_manifest_hints_only_real_commands() -> None:
    from adapters.slack.cli import feature_router

    router = feature_router()
    manifest = yaml.safe_load(MANIFEST.read_text())
    assert _slack_manifest_schema_problems(manifest) == []
    for command in manifest["features"]["slash_commands"]:
        for hinted in command["usage_hint"].split(" | "):
            name = hinted.split(" ", 1)[0]
            assert name == "help" or name in router.commands[command["command"].lstrip("/")], name
