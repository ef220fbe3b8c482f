"""Slack's locale (``users.info`` with ``include_locale``) picks the language, after the
person's own choice and before the office's."""

from __future__ import annotations

from tests.slack.world import SlackWorld


async def test_slack_locale_beats_the_office(slack: SlackWorld) -> None:
    gestora = slack.person("gestora@example.org", name="Gestora")  # Slack says en-US
    await gestora.send("blablabla")
    await gestora.expect_reply("Sorry, I didn't understand that")
    ana = slack.person("ana@example.org", name="Ana")
    next(u for u in slack.fake.users.values() if u.email == "ana@example.org").locale = "fr-FR"
    await ana.send("blablabla")
    await ana.expect_reply("Désolé, je n'ai pas compris")
    await ana.send("/learning language es")
    await ana.expect_reply("te hablaré en español")
