"""Slack: a reminder planned before someone is linked waits and arrives once they are, the same
day and exactly once; an unlinked person is looked up by email at delivery; the import links."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.clock import ManualClock
from bot.messages import plain
from bot.outbox import ToChannel
from learnbot.cli import _delivery_note, main
from storage.models import OutboxMessage, PlatformAccount
from tests.nudges.helpers import assign
from tests.slack.world import SECRET, SlackWorld

FIXTURE_CONFIG = Path(__file__).parents[1] / "fixtures" / "app.yaml"


async def rows(slack: SlackWorld) -> list[tuple[str, str, str | None]]:
    async with slack.app.sessions() as session:
        found = await session.execute(
            select(OutboxMessage.status, OutboxMessage.platform, OutboxMessage.last_error).order_by(
                OutboxMessage.id
            )
        )
        return [(status, platform, error) for status, platform, error in found]


async def test_import_then_reminder_job_then_link_arrives_the_same_day_exactly_once(
    slack: SlackWorld, clock: ManualClock
) -> None:
    await assign(slack.app, "ana@example.org,ethics,2026-12-01")  # due today; Ana is not in Slack yet
    summary = await slack.app.run_job("nudge_sweep")
    assert summary.startswith("1 reminder(s) planned")
    await slack.deliver()
    assert await rows(slack) == [
        (
            "waiting",
            "none",
            "not reachable yet in Slack: ana@example.org has no linked account there yet",
        )
    ]
    assert [c.method for c in slack.fake.calls] == ["users.lookupByEmail"]  # asked once, not found

    clock.advance(timedelta(hours=2))
    ana = slack.person("ana@example.org")  # she joins the workspace (or her email is fixed)
    await slack.link()  # `learnbot slack-link`, or the server's hourly linking
    await slack.deliver()
    await ana.expect_reply("Ethics and integrity")
    assert [(status, platform) for status, platform, _ in await rows(slack)] == [("sent", "slack")]

    clock.advance(timedelta(hours=1))
    await slack.app.run_job("nudge_sweep")
    await slack.deliver()
    await ana.expect_nothing()  # exactly once: the stage was used by the delivered reminder


async def test_an_unlinked_person_is_found_by_email_at_delivery(slack: SlackWorld) -> None:
    bo = slack.person("bo@example.org")  # in Slack, never linked, never wrote to the bot
    await assign(slack.app, "bo@example.org,ethics,2026-12-01")
    await slack.app.run_job("nudge_sweep")
    await slack.deliver()
    await bo.expect_reply("Ethics and integrity")
    assert [c.method for c in slack.fake.calls] == [
        "users.lookupByEmail",
        "conversations.open",
        "chat.postMessage",
    ]
    async with slack.app.sessions() as session:
        account = await session.scalar(select(PlatformAccount))
    assert account is not None and account.external_id == bo.user_id  # linked for next time


async def test_a_deactivated_account_is_not_linked_and_the_reminder_waits(slack: SlackWorld) -> None:
    gone = slack.fake.add_user("gone@example.org", "Gone")
    gone.deleted = True
    await assign(slack.app, "gone@example.org,ethics,2026-12-01")
    await slack.app.run_job("nudge_sweep")
    await slack.deliver()
    assert [status for status, _, _ in await rows(slack)] == ["waiting"]


async def test_the_import_command_links_people_when_a_token_is_configured(
    slack: SlackWorld,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    slack.person("carl@example.org")
    export = tmp_path / "lms.csv"
    export.write_text("email,course,due\ncarl@example.org,ethics,2026-12-20\n", encoding="utf-8")
    for name, value in {
        "DATABASE_URL": database_url,
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": slack.fake.api_url,
        "LEARNBOT_CONFIG": str(FIXTURE_CONFIG),
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("MICROSOFT_APP_ID", raising=False)
    monkeypatch.delenv("LEARNBOT_TEAMS", raising=False)
    assert await asyncio.to_thread(main, ["import", "assignments", str(export)]) == 0
    out = capsys.readouterr().out
    assert "1 person(s) are not linked to a chat account yet: carl@example.org. Nobody has to write" in out
    assert "wait until they chat" not in out and "wait until they do" not in out
    assert "Slack: 1 person(s) newly linked to Slack" in out  # ... and then they are
    async with slack.app.sessions() as session:
        linked = list(await session.scalars(select(PlatformAccount.platform)))
    assert linked == ["slack"]


async def test_a_newer_stage_replaces_a_reminder_still_waiting(slack: SlackWorld, clock: ManualClock) -> None:
    await assign(slack.app, "ana@example.org,ethics,2026-12-03")  # "early" is due now
    await slack.app.run_job("nudge_sweep")
    await slack.deliver()
    clock.advance(timedelta(days=2))  # Thursday 3 December: the "due" stage
    summary = await slack.app.run_job("nudge_sweep")
    assert summary.startswith("1 reminder(s) planned (1 of them waiting until the person can be reached)")
    assert "1 reminder(s) in all are waiting for people Learnbot cannot reach yet" in summary
    async with slack.app.sessions() as session:
        found = await session.execute(
            select(OutboxMessage.idempotency_key, OutboxMessage.status, OutboxMessage.last_error).order_by(
                OutboxMessage.id
            )
        )
        rows_now = [tuple(row) for row in found]
    assert rows_now[0][1:] == ("expired", "replaced by the 'due' reminder")
    assert rows_now[1][1] == "waiting"
    ana = slack.person("ana@example.org")
    await slack.link()
    await slack.deliver()
    await ana.expect_reply("Ethics and integrity")
    await ana.expect_nothing()  # only the current reminder, not both


async def test_run_job_reports_planned_waiting_capped_and_sent(slack: SlackWorld, clock: ManualClock) -> None:
    slack.person("bo@example.org")
    await assign(
        slack.app,
        "bo@example.org,ethics,2026-12-01",
        "bo@example.org,infosec,2026-12-01",  # a second reminder today: the cap of 1 holds it
        "nobody@example.org,ethics,2026-12-01",  # not in Slack: waits
    )
    await slack.link()
    started = clock.now()
    summary = await slack.app.run_job("nudge_sweep")
    assert summary.startswith(
        "2 reminder(s) planned (1 of them waiting until the person can be reached); "
        "1 held back by the daily cap"
    )
    await slack.deliver()
    note = await _delivery_note(slack.app, started, delivered_here=True)  # what run-job appends
    assert note == ("\nmessages: 1 sent; 1 waiting for people to become reachable (see `learnbot reach`)")
    # An hour later Bo is at the cap: his held reminder is still counted, not hidden.
    clock.advance(timedelta(hours=1))
    again = await slack.app.run_job("nudge_sweep")
    assert again.startswith("0 reminder(s) planned; 1 held back by the daily cap")


async def test_the_weekly_summary_says_who_cannot_be_reached_and_the_fix(slack: SlackWorld) -> None:
    manager = slack.person("manager@example.org")
    slack.person("ana@example.org")
    await assign(slack.app, "ana@example.org,ethics,2026-12-20", "dan@example.org,ethics,2026-12-20")
    await slack.link()
    await slack.app.run_job("nudge_summary")
    await slack.deliver()
    summary = await manager.expect_reply("Weekly compliance summary")
    assert "Can't be reached yet (1)" in summary
    assert "dan@example.org: Slack: no Slack user with dan@example.org is linked; check the email" in summary
    assert "ana@example.org" not in summary.split("Can't be reached yet")[1]


async def test_writing_to_the_bot_releases_a_waiting_reminder_at_once(slack: SlackWorld) -> None:
    await assign(slack.app, "dan@example.org,ethics,2026-12-01")
    await slack.app.run_job("nudge_sweep")
    await slack.deliver()
    assert [status for status, _, _ in await rows(slack)] == ["waiting"]
    dan = slack.person("dan@example.org")
    await dan.send("hello")  # no clock change: not the periodic re-check
    await slack.deliver()
    await dan.expect_reply("How can I help")  # the greeting answer, then the released reminder
    await dan.expect_reply("Ethics and integrity")


async def test_reach_shows_slack_people_and_channel_problems_with_the_fix(
    slack: SlackWorld,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    slack.person("ana@example.org")
    await assign(slack.app, "ana@example.org,ethics,2026-12-20", "dan@example.org,ethics,2026-12-20")
    await slack.link()
    slack.fake.fail("chat.postMessage", "not_in_channel")
    async with slack.app.sessions() as session, session.begin():
        await slack.app.plan(
            session, destination=ToChannel("learning"), message=plain("Picks"), key="picks:1"
        )
    await slack.deliver()
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("LEARNBOT_CONFIG", str(FIXTURE_CONFIG))
    assert await asyncio.to_thread(main, ["reach", "--platform", "slack", "--office", "nairobi"]) == 0
    out = capsys.readouterr().out
    assert "Nairobi office (nairobi): 2 people; reachable: Slack 1" in out
    assert "  - dan@example.org\n      Slack: no Slack user with dan@example.org is linked" in out
    assert (
        "channel #learning: Slack: last post failed: the bot is not a member of the channel: invite it" in out
    )
    assert "Bogotá" not in out
    assert await asyncio.to_thread(main, ["reach", "--platform", "discord"]) == 2
    assert "--platform: unknown platform(s) discord" in capsys.readouterr().err
