"""Teams rosters: install in a team whose members never talked to the bot, and reach them all.

Everything goes through the real botbuilder adapter (``POST /api/messages``) and the fake Bot
Connector's REST calls: paged members, team channels, creating the 1:1 chats.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.teams.render import flatten
from bot.clock import ManualClock
from bot.config import AppConfig
from bot.messages import plain
from bot.outbox import ToChannel
from learnbot.cli import main
from storage.models import ConversationRef, OutboxMessage, PlatformAccount
from storage.teams import TeamsChannel, TeamsMember, TeamsTeam
from tests.learning_days.conftest import make_day
from tests.nudges.helpers import assign
from tests.teams.conftest import teams_app
from tests.teams.fake_connector import FakeConnector
from tests.teams.world import BOT_ID, TENANT, TeamsDriver, TeamsServer, TeamsWorld

TEAM = "19:office-team@thread.tacv2"
LEARNING = "19:learning@thread.tacv2"  # the "learning" channel of app.yaml, not the General one
RANDOM = "19:random@thread.tacv2"
FIXTURE_CONFIG = Path(__file__).parents[1] / "fixtures" / "app.yaml"


def team_event(connector: FakeConnector, event_type: str, **fields: Any) -> dict[str, Any]:
    channel = fields.pop("channel", {"id": TEAM})
    return {
        "type": "conversationUpdate",
        "id": f"f:{uuid.uuid4().hex}",
        "channelId": "msteams",
        "serviceUrl": connector.url,
        "from": {"id": "29:owner", "name": "Team owner"},
        "recipient": {"id": BOT_ID, "name": "Learnbot"},
        "conversation": {"id": TEAM, "conversationType": "channel", "isGroup": True, "tenantId": TENANT},
        "channelData": {
            "tenant": {"id": TENANT},
            "team": {"id": TEAM, "name": "Nairobi office", "aadGroupId": "g-1"},
            "channel": channel,
            "eventType": event_type,
        },
        **fields,
    }


@pytest.fixture
async def office(
    config: AppConfig,
    sessions: async_sessionmaker[AsyncSession],
    clock: ManualClock,
    connector: FakeConnector,
) -> AsyncIterator[TeamsWorld]:
    """A Teams world where nobody has installed anything yet (not a conversation scenario:
    these tests check rosters, references and the outbox)."""
    server = TeamsServer(teams_app(config, sessions, clock))
    await server.start()
    office = TeamsWorld(server.teams.bot.app, connector, server)
    try:
        yield office
    finally:
        await office.close()
        await server.stop()


def members(office: TeamsWorld, count: int) -> list[TeamsDriver]:
    people = [office.person(f"person{n}@example.org", name=f"Person {n}") for n in range(count)]
    office.connector.teams[TEAM] = [p.member.id for p in people]
    office.connector.team_channels[TEAM] = [
        {"id": TEAM},  # General: Teams gives no name
        {"id": LEARNING, "name": "learning"},
        {"id": RANDOM, "name": "random"},
    ]
    return people


async def install_in_team(office: TeamsWorld) -> None:
    await office.post(team_event(office.connector, "teamMemberAdded", membersAdded=[{"id": BOT_ID}]))
    await office.server.teams.bot.rosters_read()  # read in the background, after the answer


async def count(office: TeamsWorld, model: type, *where: Any) -> int:
    async with office.app.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def statuses(office: TeamsWorld, prefix: str) -> list[tuple[str, str]]:
    async with office.app.sessions() as session:
        rows = await session.execute(
            select(OutboxMessage.status, OutboxMessage.platform)
            .where(OutboxMessage.idempotency_key.startswith(prefix))
            .order_by(OutboxMessage.id)
        )
        return [(status, platform) for status, platform in rows]


async def test_install_then_import_reaches_every_member_by_one_to_one_chat(office: TeamsWorld) -> None:
    people = members(office, 120)
    office.server.teams.roster.page_size = 50  # three pages of the roster
    await install_in_team(office)
    roster_calls = [c for c in office.connector.roster_calls if c.startswith("pagedmembers")]
    assert [c.rsplit(" ", 1)[1] for c in roster_calls] == [
        "pageSize=50",
        "pageSize=50&continuationToken=50",
        "pageSize=50&continuationToken=100",
    ]
    assert await count(office, TeamsMember) == 120
    assert await count(office, TeamsChannel) == 3
    await assign(office.app, *(f"{p.email},ethics,2026-12-01" for p in people))  # due today
    summary = await office.app.run_job("nudge_sweep")
    assert "120 reminder(s) planned" in summary
    assert await office.worker.drain() == 120
    assert await statuses(office, "nudge:") == [("sent", "teams")] * 120
    for person in (people[0], people[99], people[119]):
        assert any("Ethics and integrity" in shown for shown in person.outputs), person.email
        assert len(person.outputs) == 1
    created = office.connector.created
    assert len(created) == 120
    assert created[0]["tenantID"] == TENANT and created[0]["channelData"] == {"tenant": {"id": TENANT}}
    assert {c["members"][0]["id"] for c in created} == {p.member.id for p in people}
    # Nobody installed the app personally, and nobody got a welcome.
    assert not any(p.installed for p in people)


async def test_a_member_known_by_upn_only_is_linked(office: TeamsWorld) -> None:
    [ana] = members(office, 1)
    ana.member.email = ""
    ana.member.upn = "person0@example.org"
    await install_in_team(office)
    await assign(office.app, "person0@example.org,ethics,2026-12-01")
    await office.app.run_job("nudge_sweep")
    await office.worker.drain()
    assert await statuses(office, "nudge:") == [("sent", "teams")]


async def test_a_non_general_configured_channel_gets_the_learning_day_post(
    office: TeamsWorld, sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    members(office, 2)
    await install_in_team(office)  # the install event comes from General only
    day_id = await make_day(sessions, date(2026, 12, 3), now=clock.now())
    await office.app.run_job("learning_day_announcements")
    await office.worker.drain()
    await office.expect_post("learning", "Learning day")
    assert await statuses(office, f"learning-day:{day_id}:") == [("sent", "teams")]


async def test_a_waiting_channel_post_goes_out_when_the_app_is_added_to_its_team(
    office: TeamsWorld, clock: ManualClock
) -> None:
    members(office, 1)
    async with office.app.sessions() as session, session.begin():
        await office.app.plan(
            session, destination=ToChannel("learning"), message=plain("Picks"), key="picks:1"
        )
    await office.worker.drain()
    assert await statuses(office, "picks:1") == [("waiting", "teams")]
    async with office.app.sessions() as session:
        error = await session.scalar(select(OutboxMessage.last_error))
    assert error and "add the app to that team" in error
    await install_in_team(office)  # the roster sync finds #learning and wakes the post up
    await office.worker.drain()
    assert await statuses(office, "picks:1") == [("sent", "teams")]
    await office.expect_post("learning", "Picks")


async def test_channel_events_keep_channels_current(office: TeamsWorld) -> None:
    members(office, 1)
    office.connector.team_channels[TEAM] = [{"id": TEAM}]  # #learning does not exist yet
    await install_in_team(office)
    assert await count(office, ConversationRef, ConversationRef.owner_key == "learning") == 0
    await office.post(
        team_event(office.connector, "channelCreated", channel={"id": LEARNING, "name": "learn"})
    )
    assert await count(office, ConversationRef, ConversationRef.owner_key == "learning") == 1
    await office.post(
        team_event(office.connector, "channelRenamed", channel={"id": LEARNING, "name": "learning"})
    )
    async with office.app.sessions() as session:
        assert (await session.get_one(TeamsChannel, LEARNING)).name == "learning"
    await office.post(
        team_event(office.connector, "channelDeleted", channel={"id": LEARNING, "name": "learning"})
    )
    assert await count(office, ConversationRef, ConversationRef.owner_key == "learning") == 0
    assert await count(office, TeamsChannel, TeamsChannel.channel_id == LEARNING) == 0


async def test_members_added_and_removed_and_the_app_removed(office: TeamsWorld) -> None:
    ana, bob = members(office, 2)
    await install_in_team(office)
    await assign(office.app, f"{ana.email},ethics,2026-12-01", f"{bob.email},ethics,2026-12-01")
    await office.app.run_job("nudge_sweep")
    await office.worker.drain()  # both linked from the roster and reached
    carl = office.person("carl@example.org", name="Carl")
    await office.post(
        team_event(
            office.connector,
            "teamMemberAdded",
            membersAdded=[{"id": carl.member.id, "aadObjectId": carl.member.aad_object_id}],
        )
    )
    assert await count(office, TeamsMember, TeamsMember.user_id == carl.member.id) == 1
    await office.post(
        team_event(office.connector, "teamMemberRemoved", membersRemoved=[{"id": bob.member.id}])
    )
    assert await count(office, TeamsMember, TeamsMember.user_id == bob.member.id) == 0
    async with office.app.sessions() as session:
        bob_id = await session.scalar(
            select(PlatformAccount.person_id).where(PlatformAccount.external_id == bob.member.aad_object_id)
        )
        bob_ref = await session.scalar(
            select(ConversationRef).where(
                ConversationRef.platform == "teams", ConversationRef.owner_key == str(bob_id)
            )
        )
    assert bob_id is not None
    assert bob_ref is None  # known only from the roster: no longer reachable
    await office.post(team_event(office.connector, "teamMemberRemoved", membersRemoved=[{"id": BOT_ID}]))
    async with office.app.sessions() as session:
        team = await session.get_one(TeamsTeam, TEAM)
        assert not team.installed
    assert await count(office, TeamsMember) == 0
    assert await count(office, ConversationRef, ConversationRef.owner_kind == "channel") == 0


async def test_a_roster_that_cannot_be_read_does_not_break_the_install(office: TeamsWorld) -> None:
    members(office, 1)
    office.connector.fail_next(403)
    await install_in_team(office)  # answered 200 all the same
    async with office.app.sessions() as session:
        team = await session.get_one(TeamsTeam, TEAM)
    assert team.last_error == "HTTP 403: Learnbot may not read this team (was it removed?)"
    reports = await office.server.teams.roster.sync_all()  # the schedule or `learnbot teams-link`
    assert [r.members for r in reports] == [1] and reports[0].error is None


async def test_waiting_reminders_expire_and_are_recorded(office: TeamsWorld, clock: ManualClock) -> None:
    await assign(office.app, "stranger@example.org,ethics,2026-12-01")
    await office.app.run_job("nudge_sweep")
    await office.worker.drain()
    assert await statuses(office, "nudge:") == [("waiting", "none")]
    clock.advance(timedelta(days=7, minutes=1))
    await office.worker.drain()
    assert await statuses(office, "nudge:") == [("expired", "none")]
    async with office.app.sessions() as session:
        error = await session.scalar(select(OutboxMessage.last_error))
    # a reminder waits until its own deadline (the end of its day) at most, then is recorded
    assert error and error.startswith("expired: not reachable by its deadline (")
    assert "not reachable yet in Teams" in error


def cli_env(monkeypatch: pytest.MonkeyPatch, database_url: str) -> None:
    for name, value in {
        "DATABASE_URL": database_url,
        "LEARNBOT_TEAMS": "1",
        "LEARNBOT_CONFIG": str(FIXTURE_CONFIG),
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("MICROSOFT_APP_ID", "SLACK_BOT_TOKEN", "SLACK_CLIENT_ID"):
        monkeypatch.delenv(name, raising=False)


async def test_import_links_from_the_stored_roster_and_reach_says_what_to_fix(
    office: TeamsWorld,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    members(office, 2)
    await install_in_team(office)
    cli_env(monkeypatch, database_url)
    export = tmp_path / "lms.csv"
    export.write_text(
        "email,course,due\nperson0@example.org,ethics,2026-12-20\nstranger@example.org,ethics,2026-12-20\n",
        encoding="utf-8",
    )
    assert await asyncio.to_thread(main, ["import", "assignments", str(export)]) == 0
    assert "Teams: 1 person(s) newly linked from the rosters of installed teams" in capsys.readouterr().out

    assert await asyncio.to_thread(main, ["reach"]) == 0
    out = capsys.readouterr().out
    assert "Nairobi office (nairobi): 2 people; reachable: Teams 1" in out
    assert "not reachable on any platform: 1\n  - stranger@example.org\n" in out
    assert "Teams: stranger@example.org is in no team Learnbot is installed in; install the app" in out
    assert "channel #learning: Teams: ok (19:learning@thread.tacv2)" in out
    assert "channel #aprendizaje: Teams: not reachable; add Learnbot to the team of this channel" in out
    assert await asyncio.to_thread(main, ["reach", "--office", "nowhere"]) == 2


async def test_teams_link_reads_every_installed_team_again(
    office: TeamsWorld,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    cli_env(monkeypatch, database_url)
    assert await asyncio.to_thread(main, ["teams-link"]) == 0
    assert "Learnbot is installed in no team yet" in capsys.readouterr().out
    members(office, 2)
    await install_in_team(office)
    office.person("late@example.org")
    office.connector.teams[TEAM].append(office.people["late@example.org"].member.id)
    assert await asyncio.to_thread(main, ["teams-link"]) == 0
    out = capsys.readouterr().out
    assert "team Nairobi office: 3 member(s)" in out and "reachable from app.yaml: learning" in out


async def test_uninstalling_from_the_team_forgets_its_members_and_channels(office: TeamsWorld) -> None:
    [ana] = members(office, 1)
    await assign(office.app, f"{ana.email},ethics,2026-12-20")
    await install_in_team(office)
    assert await count(office, ConversationRef) == 2  # Ana (to open her chat) and #learning
    await office.post(team_event(office.connector, "", type="installationUpdate", action="remove"))
    assert await count(office, ConversationRef) == 0
    async with office.app.sessions() as session:
        assert not (await session.get_one(TeamsTeam, TEAM)).installed


async def test_someone_who_installed_the_app_keeps_their_chat_when_the_team_removes_it(
    office: TeamsWorld,
) -> None:
    [ana] = members(office, 1)
    await install_in_team(office)
    await ana.install()  # her own 1:1 chat with the bot
    await office.post(team_event(office.connector, "teamMemberRemoved", membersRemoved=[{"id": BOT_ID}]))
    async with office.app.sessions() as session:
        refs_left = list(await session.scalars(select(ConversationRef.owner_kind)))
    assert refs_left == ["person"]


async def test_the_welcome_on_install_day_does_not_use_up_the_daily_cap(teams: TeamsWorld) -> None:
    ana = teams.person("ana@example.org")
    await ana.install()  # the welcome DM
    assert any("Welcome" in shown for shown in [flatten(a) for a in ana.shown])
    await assign(teams.app, "ana@example.org,ethics,2026-12-01")  # due today; cap is 1 a day
    summary = await teams.run_job("nudge_sweep")
    assert summary.startswith("1 reminder(s) planned; 0 held back by the daily cap")
    await ana.expect_reply("Ethics and integrity")


async def test_a_throttled_roster_read_is_tried_again_soon(
    office: TeamsWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("adapters.teams.handler.ROSTER_RETRY_WAITS", (0.01,))
    members(office, 3)
    office.connector.fail_next(429, retry_after=0)
    await install_in_team(office)
    assert await count(office, TeamsMember) == 3
    async with office.app.sessions() as session:
        assert (await session.get_one(TeamsTeam, TEAM)).last_error is None
