"""What the basics feature says: the profile, the home greeting and the welcome message."""

from __future__ import annotations

from bot.messages import Fields, Header, Message, Note, Text


def profile(name: str, email: str | None, office: str, role: str, timezone: str, accounts: str) -> Message:
    return Message(
        text=f"{name} ({email or 'no email'}), {office}",
        blocks=[
            Header("Your profile"),
            Fields(
                [
                    ("Name", name),
                    ("Email", email or "unknown"),
                    ("Office", office),
                    ("Role", role),
                    ("Time zone", timezone),
                    ("Platforms", accounts or "none"),
                ]
            ),
            Note("Wrong time zone? `/learning timezone Africa/Nairobi`"),
        ],
    )


def home_greeting(name: str) -> Message:
    return Message(
        text=f"Hi {name}", blocks=[Header(f"Hi {name}"), Text("Here's your learning at a glance.")]
    )


def welcome(name: str, bot_name: str) -> Message:
    return Message(
        text=f"Welcome, {name}! I'm {bot_name}.",
        blocks=[
            Header(f"Welcome, {name}!"),
            Text(
                f"I'm {bot_name}. Each week I share a few talks and articles, "
                "I'll remind you (privately) when a mandatory course is due, and I help "
                "colleagues teach each other through skillshare."
            ),
            Note("Type `help` any time to see what I can do."),
        ],
    )
