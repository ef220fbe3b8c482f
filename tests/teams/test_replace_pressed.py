"""A reply flagged ``replaces_pressed`` takes the place of the message whose button was pressed
(Slack ``replace_original`` via response_url, Teams ``updateActivity``), so the buttons can't
be pressed twice; where that can't be done it is an ordinary reply."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import ManualClock
from bot.config import AppConfig
from bot.features import FEATURES
from bot.messages import Message
from tests.slack.world import slack_world
from tests.teams import demo_feature
from tests.teams.fake_connector import FakeConnector
from tests.teams.world import TeamsWorld


def test_the_flag_survives_the_outbox() -> None:
    message = Message(text="x", replaces_pressed=True)
    assert Message.from_json(message.to_json()).replaces_pressed is True
    assert Message.from_json({"text": "old row"}).replaces_pressed is False


async def test_slack_replaces_the_pressed_message(
    config: AppConfig, sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    async with slack_world(config, sessions, clock, features=[*FEATURES, demo_feature]) as slack:
        ana = slack.person("ana@example.org")
        await ana.send("demo card")
        await ana.expect_reply("Pick a fruit")
        await slack.block_action(ana, next(b for b in ana.buttons if b.label == "Apple"))
        await slack.settle()
        await ana.expect_reply("You picked apple")  # an ordinary reply: the card stays
        assert not [c for c in slack.fake.called("response_url") if c.args.get("replace_original")]

        await ana.send("demo card")
        await ana.expect_reply("Pick a fruit")
        shown = next(b for b in ana.buttons if b.label == "Apple")
        done = replace(shown, action_id="demo.done", value="ethics")
        await slack.block_action(ana, done)
        await slack.settle()
        await ana.expect_reply("Marked ethics done")
        replaced = [c for c in slack.fake.called("response_url") if c.args.get("replace_original")]
        assert len(replaced) == 1 and "Marked ethics done" in replaced[0].args["text"]
        assert "actions" not in str(replaced[0].args.get("blocks"))  # no buttons left to press


async def test_teams_updates_the_pressed_card(teams: TeamsWorld, connector: FakeConnector) -> None:
    ana = teams.person("ana@example.org")
    await ana.send("demo card")
    await ana.expect_reply("Pick a fruit")
    press = ana.activity("message", value={"action_id": "demo.done", "value": "ethics"}, replyToId="act-9")
    await teams.post(press)
    (conversation, activity_id, updated) = connector.updates[-1]
    assert (conversation, activity_id) == (ana.conversation_id, "act-9")
    assert "Marked ethics done" in str(updated)
    assert "Action.Submit" not in str(updated)
    await ana.expect_nothing()  # shown in place of the card, not as a new message

    without_card = ana.activity("message", value={"action_id": "demo.done", "value": "security"})
    await teams.post(without_card)  # no replyToId: nothing to update, so an ordinary reply
    await ana.expect_reply("Marked security done")
    assert len(connector.updates) == 1
