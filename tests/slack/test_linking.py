"""People known before they ever write to the bot are linked to Slack by email."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from adapters.slack.linking import link_people
from bot.messages import plain
from bot.outbox import ToPerson
from bot.people import get_or_create_by_email
from learnbot.cli import main
from storage.models import PlatformAccount
from tests.slack.fake import TEAM
from tests.slack.world import SlackWorld


async def test_imported_people_are_linked_and_reachable(slack: SlackWorld) -> None:
    ana = slack.person("Ana@Example.org")
    gone = slack.fake.add_user("gone@example.org", "Gone")
    gone.deleted = True
    ids = {}
    async with slack.app.sessions() as session, session.begin():
        for email in ("ana@example.org", "gone@example.org", "nobody@example.org"):
            person = await get_or_create_by_email(session, slack.app.config, email, slack.app.clock.now())
            ids[email] = person.id
    client = await slack.parts.deliverer.clients.for_team(None)
    report = await link_people(slack.app.sessions, client, slack.app.clock)
    assert (report.linked, report.already_linked) == (1, 0)
    again = await link_people(slack.app.sessions, client, slack.app.clock)
    assert (again.linked, again.already_linked) == (0, 1)
    async with slack.app.sessions() as session:
        accounts = list(await session.scalars(select(PlatformAccount)))
    assert [(a.person_id, a.workspace_id, a.external_id) for a in accounts] == [
        (ids["ana@example.org"], TEAM, ana.user_id)
    ]

    async with slack.app.sessions() as session, session.begin():
        await slack.app.plan(
            session, destination=ToPerson(ids["ana@example.org"]), message=plain("Ethics is due"), key="n:1"
        )
    await slack.deliver()
    await ana.expect_reply("Ethics is due")


def test_slack_link_needs_a_bot_token(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    assert main(["slack-link"]) == 2
    assert "set SLACK_BOT_TOKEN" in capsys.readouterr().err
