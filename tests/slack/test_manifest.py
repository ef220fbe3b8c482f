"""The app manifest an admin pastes into Slack matches what the code listens to and needs."""

from __future__ import annotations

import yaml

from adapters.slack.app import COMMANDS
from adapters.slack.plugin import BOT_SCOPES, MANIFEST
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
