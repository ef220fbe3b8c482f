"""The adapters' side of privacy and directories: a personal reply never reaches a Teams
channel even when the personal chat can't be opened; the Teams manifest offers only
public-safe commands in team and group chats; a Slack profile field places people."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.teams.package import SAFE_IN_PUBLIC, feature_router, manifest
from bot.clock import ManualClock
from bot.config import AppConfig, parse_config
from bot.messages import PRIVATE_FAILED, PRIVATE_POINTER
from bot.people import person_by_email
from tests.offices.channels import channel_posts, say_in_channel, teams_channel_activity
from tests.slack.world import slack_world
from tests.teams.world import BOT_ID, TeamsWorld, teams_world

APP_ID = "00000000-0000-4000-8000-000000000001"


@pytest.fixture
async def teams(
    config: AppConfig, sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> AsyncIterator[TeamsWorld]:
    async with teams_world(config, sessions, clock) as world:
        assert isinstance(world, TeamsWorld)
        yield world


async def test_teams_personal_reply_goes_to_the_personal_chat_with_a_pointer(teams: TeamsWorld) -> None:
    ana = teams.person("ana@example.org", name="Ana Ba")
    await say_in_channel(teams, "ana@example.org", "dakar", "learning home")
    await ana.expect_reply("Hi Ana Ba")
    assert channel_posts(teams, "dakar") == [PRIVATE_POINTER]


async def test_teams_personal_reply_is_withheld_when_no_personal_chat_can_be_opened(
    teams: TeamsWorld,
) -> None:
    """Someone the roster doesn't know (a guest, a 404 on create): the channel gets an honest
    note, never the content; nothing is posted to anyone else."""
    activity: dict[str, Any] = teams_channel_activity(
        teams,
        "ghost@example.org",
        "dakar",
        text="<at>Learnbot</at> learning home",
        textFormat="plain",
        entities=[
            {"type": "mention", "text": "<at>Learnbot</at>", "mentioned": {"id": BOT_ID, "name": "Learnbot"}}
        ],
    )
    ghost = teams.people.pop("ghost@example.org")
    del teams.connector.members[ghost.member.id]  # Teams has no such member to open a chat with
    await teams.post(activity)
    assert channel_posts(teams, "dakar") == [PRIVATE_FAILED]
    assert "Hi " not in PRIVATE_FAILED


def test_teams_manifest_public_scopes_list_only_public_safe_commands() -> None:
    router = feature_router()
    built = manifest(APP_ID, "Learnbot", router, website="https://example.org")
    lists = {tuple(entry["scopes"]): entry["commands"] for entry in built["bots"][0]["commandLists"]}
    personal = {c["title"] for c in lists[("personal",)]}
    public = {c["title"] for c in lists[("team", "groupChat")]}
    assert public and public <= SAFE_IN_PUBLIC
    assert {"learning courses", "learning home", "learning me"}.isdisjoint(public)
    assert "learning courses" in personal


async def test_slack_profile_field_places_people_by_label_or_id(
    config_data: dict[str, Any], sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    config_data["directory"] = {"slack_office_field": "office"}
    config = parse_config(config_data)
    async with slack_world(config, sessions, clock) as world:
        for email, value in (("karim@example.org", "COX’S BAZAR"), ("zed@example.org", "Atlantis")):
            driver = world.person(email, name=email.split("@")[0].title())
            world.fake.users[driver.user_id].fields = {"Xf01": {"label": "Office", "value": value}}
            await driver.send("/learning office")
            await driver.expect_reply("Your office")
        async with sessions() as session:
            karim = await person_by_email(session, "karim@example.org")
            zed = await person_by_email(session, "zed@example.org")
    assert karim is not None and (karim.office_id, karim.office_source) == ("coxs-bazar", "directory")
    assert zed is not None and (zed.office_id, zed.office_source) == ("dakar", "default")
    assert karim.display_name == "Karim"


async def test_slack_channel_request_answered_in_the_dm_leaves_a_private_pointer(
    config: AppConfig, sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    async with slack_world(config, sessions, clock) as world:
        ana = world.person("ana@example.org", name="Ana Ba")
        await say_in_channel(world, "ana@example.org", "dakar", "/skillshare offer")
        await ana.expect_reply("teach")
        await ana.expect_reply(PRIVATE_POINTER)
        assert channel_posts(world, "dakar") == []


async def test_people_imported_without_a_name_get_their_slack_name(
    config: AppConfig, sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    from tests.nudges.helpers import assign

    async with slack_world(config, sessions, clock) as world:
        world.person("amina@example.org", name="Amina Diallo")
        await assign(world.app, "amina@example.org,ethics,2026-12-20")
        async with sessions() as session:
            person = await person_by_email(session, "amina@example.org")
            assert person is not None and person.display_name == ""
        await world.link()
        async with sessions() as session:
            person = await person_by_email(session, "amina@example.org")
    assert person is not None and person.display_name == "Amina Diallo"
