"""After Done / Remind me later / I need help, the reminder is replaced by the answer, so its
buttons can't be pressed again (Slack replace_original through response_url; Teams
updateActivity where the press names the card)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import ManualClock
from bot.config import AppConfig
from tests.nudges.helpers import assign
from tests.slack.world import slack_world


async def test_each_reminder_button_replaces_the_reminder_in_slack(
    config: AppConfig, sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    clock.set(datetime(2026, 11, 30, 9, 0, tzinfo=UTC))
    async with slack_world(config, sessions, clock) as slack:
        people = {
            email: slack.person(email) for email in ("ana@example.org", "bob@example.org", "cy@example.org")
        }
        for person in people.values():
            await person.send("hello")
            await person.expect_reply("How can I help")
        clock.set(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
        await assign(slack.app, *(f"{email},ethics,2026-12-08" for email in people))
        await slack.run_job("nudge_sweep")
        for (email, person), (label, answer) in zip(
            people.items(),
            [
                ("Done", "as done"),
                ("Remind me later", "I'll remind you"),
                ("I need help", "Ethics and integrity"),
            ],
            strict=True,
        ):
            await person.expect_reply("Ethics and integrity")
            await person.press(label)
            await person.expect_reply(answer)
            replaced = [
                call.args
                for call in slack.fake.called("response_url")
                if call.args.get("replace_original") and slack.tokens[call.args["token"]] is person
            ]
            assert len(replaced) == 1, email
            assert answer in replaced[0]["text"]
            assert '"actions"' not in str(replaced[0].get("blocks")).replace("'", '"')  # no buttons left
