"""What the basics feature says, in the reader's language: the profile, the home greeting and
the welcome message."""

from __future__ import annotations

from bot.i18n import LANGUAGE_NAMES, Translator
from bot.messages import Fields, Header, Message, Note, Text


def profile(
    t: Translator, name: str, email: str | None, office: str, manager: bool, timezone: str, accounts: str
) -> Message:
    role = t._("learning manager") if manager else t._("colleague")
    return Message(
        text=f"{name} ({email or t._('no email')}), {office}",
        blocks=[
            Header(t._("Your profile")),
            Fields(
                [
                    (t._("Name"), name),
                    (t._("Email"), email or t._("unknown")),
                    (t._("Office"), office),
                    (t._("Role"), role),
                    (t._("Time zone"), timezone),
                    (t._("Language"), LANGUAGE_NAMES.get(t.language, t.language)),
                    (t._("Platforms"), accounts or t._("none")),
                ]
            ),
            Note(
                t._(
                    "Wrong time zone? `/learning timezone Africa/Nairobi`. Language: `/learning language fr`."
                )
            ),
        ],
    )


def home_greeting(t: Translator, name: str) -> Message:
    hello = t._("Hi {name}", name=name) if name else t._("Hi there")
    return Message(text=hello, blocks=[Header(hello), Text(t._("Here's your learning at a glance."))])


def welcome(t: Translator, name: str, bot_name: str) -> Message:
    header = t._("Welcome, {name}!", name=name) if name else t._("Welcome!")
    return Message(
        text=t._("Welcome, {name}! I'm {bot}.", name=name, bot=bot_name)
        if name
        else t._("Welcome! I'm {bot}.", bot=bot_name),
        blocks=[
            Header(header),
            Text(
                t._(
                    "I'm {bot}. Each week I share a few talks and articles, I'll remind you (privately) "
                    "when a mandatory course is due, and I help colleagues teach each other through "
                    "skillshare.",
                    bot=bot_name,
                )
            ),
            Note(t._("Type `help` any time to see what I can do.")),
        ],
    )
