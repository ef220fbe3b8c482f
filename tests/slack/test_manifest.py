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
