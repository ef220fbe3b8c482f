"""Scripted steps shared by the skillshare scenarios."""

from __future__ import annotations

from tests.support.conversation import ChatDriver, converse


async def make_offer(
    person: ChatDriver, skill: str, description: str = "Hands-on", format: str = "talk"
) -> None:
    """Offer ``skill`` through the whole conversation, checking every question on the way."""
    await converse(
        person,
        [
            (f"/skillshare offer {skill}", "In one line"),
            (description, "Which format"),
            (format, "What level"),
            ("beginner", "When are you available?"),
            ("Fridays", "Here's your offer"),
        ],
    )
    await person.send("confirm")
    await person.expect_reply("Thank you", skill)
