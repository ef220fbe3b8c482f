"""Speaking to the bot in a shared channel, on Slack and Teams, through the real adapters:
a slash command typed in a channel or an @mention (Slack), an @mention in a Teams channel.
What lands in the channel is what everyone in it sees."""

from __future__ import annotations

import time
import uuid
from typing import Any
from urllib.parse import urlencode

from adapters.slack.render import escape
from bot.config import AppConfig
from tests.slack.fake import BOT_USER, TEAM
from tests.slack.world import SlackWorld
from tests.support.conversation import ChatWorld
from tests.teams.world import BOT_ID, TEAM_ID, TENANT, TeamsWorld


def channel_ids(config: AppConfig, key: str) -> tuple[str, str]:
    for office in config.offices:
        for channel in office.channels:
            if channel.key == key and channel.slack and channel.teams:
                return channel.slack, channel.teams
    raise AssertionError(f"channel '{key}' needs a Slack and a Teams id in the test app.yaml")


async def say_in_channel(world: ChatWorld, email: str, key: str, text: str) -> None:
    """``email`` says ``text`` in channel ``key``: a slash command if it starts with ``/``
    (Slack), otherwise an @mention of the bot."""
    if isinstance(world, SlackWorld):
        await _slack(world, email, key, text)
    elif isinstance(world, TeamsWorld):
        await _teams(world, email, key, text)
    else:
        raise AssertionError(f"{world.platform} has no shared channels")


def channel_posts(world: ChatWorld, key: str) -> list[str]:
    """Everything posted in channel ``key`` so far (seen by all its members)."""
    if isinstance(world, SlackWorld):
        slack, _ = channel_ids(world.app.config, key)
        return list(world.posts.get(slack, []))
    if isinstance(world, TeamsWorld):
        return list(world.posts.get(key, []))
    raise AssertionError(f"{world.platform} has no shared channels")


async def _slack(world: SlackWorld, email: str, key: str, text: str) -> None:
    driver = world.person(email)
    await world.link()
    channel, _ = channel_ids(world.app.config, key)
    if text.startswith("/"):
        command, _, rest = text.partition(" ")
        response_url, trigger = world._handles(driver)
        form = {
            "token": "legacy",
            "team_id": TEAM,
            "team_domain": "learning",
            "channel_id": channel,
            "channel_name": key,
            "user_id": driver.user_id,
            "user_name": email.split("@")[0],
            "command": command,
            "text": escape(rest),
            "api_app_id": "A0LEARN",
            "response_url": response_url,
            "trigger_id": trigger,
        }
        await world.post(urlencode(form), "application/x-www-form-urlencoded")
        return
    ts = f"{time.time():.6f}"
    event = {
        "type": "app_mention",
        "channel": channel,
        "user": driver.user_id,
        "text": f"<@{BOT_USER}> {escape(text)}",
        "ts": ts,
        "event_ts": ts,
        "team": TEAM,
    }
    await world.post(world.event_body(event), "application/json")


def teams_channel_activity(world: TeamsWorld, email: str, key: str, **fields: Any) -> dict[str, Any]:
    driver = world.person(email)
    _, channel = channel_ids(world.app.config, key)
    return {
        "type": "message",
        "id": f"f:{uuid.uuid4().hex}",
        "timestamp": "2026-12-01T09:00:00.000Z",
        "channelId": "msteams",
        "serviceUrl": world.connector.url,
        "from": driver.account(),
        "recipient": {"id": BOT_ID, "name": "Learnbot"},
        "conversation": {
            "id": f"{channel};messageid=1{uuid.uuid4().int % 10**12}",
            "conversationType": "channel",
            "isGroup": True,
            "tenantId": TENANT,
        },
        "channelData": {
            "tenant": {"id": TENANT},
            "team": {"id": TEAM_ID, "name": "Office"},
            "channel": {"id": channel},
        },
        "locale": "en-US",
        **fields,
    }


async def _teams(world: TeamsWorld, email: str, key: str, text: str) -> None:
    driver = world.person(email)
    await driver.install()
    mention = "<at>Learnbot</at>"
    activity = teams_channel_activity(
        world,
        email,
        key,
        text=f"{mention} {text}",
        textFormat="plain",
        entities=[
            {"type": "mention", "text": mention, "mentioned": {"id": BOT_ID, "name": "Learnbot"}},
        ],
    )
    await world.post(activity)
    await world.worker.drain()


async def press_in_channel(world: ChatWorld, email: str, key: str, action_id: str, value: str) -> None:
    """``email`` presses a button of a message posted in channel ``key`` (an announcement)."""
    if isinstance(world, SlackWorld):
        from tests.slack.world import Shown

        driver = world.person(email)
        await world.link()
        channel, _ = channel_ids(world.app.config, key)
        await world.block_action(driver, Shown("button", action_id, value, channel, False, False))
    elif isinstance(world, TeamsWorld):
        await world.person(email).install()
        await world.post(
            teams_channel_activity(world, email, key, value={"action_id": action_id, "value": value})
        )
        await world.worker.drain()
    else:
        raise AssertionError(f"{world.platform} has no shared channels")
