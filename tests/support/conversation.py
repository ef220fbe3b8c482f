"""A conversation driver that reads like a script::

    chat = ConsoleDriver(app, "ana@example.org")
    await chat.send("/skillshare offer")
    await chat.expect_reply("What would you like to teach?")
    await chat.press("Done")

Every platform's tests implement the same small interface (``send``, ``press``,
``expect_reply``, ``expect_nothing``), so one scenario can run through the console, the Slack
fake and the Teams fake.
"""

from __future__ import annotations

from typing import Protocol

from adapters.console.chat import ConsoleChat
from bot.core import Learnbot


class ChatDriver(Protocol):
    async def send(self, text: str) -> None: ...
    async def press(self, label: str) -> None: ...
    async def expect_reply(self, *fragments: str) -> str: ...
    async def expect_nothing(self) -> None: ...


def take_matching(pending: list[str], fragments: tuple[str, ...], what: str) -> str:
    """Remove and return the first output containing every fragment (case-insensitive),
    dropping the outputs before it; fail with everything that was said instead."""
    for index, output in enumerate(pending):
        lowered = output.lower()
        if all(fragment.lower() in lowered for fragment in fragments):
            del pending[: index + 1]
            return output
    said = "\n---\n".join(pending) or "(nothing)"
    raise AssertionError(f"expected {what} containing {fragments!r}; the bot said:\n{said}")


class ConsoleDriver:
    """Drives :class:`ConsoleChat` exactly as a person at the terminal would."""

    def __init__(self, app: Learnbot, email: str) -> None:
        self.outputs: list[str] = []
        self.chat = ConsoleChat(app, email, self.outputs.append)

    @property
    def app(self) -> Learnbot:
        return self.chat.app

    async def send(self, text: str) -> None:
        await self.chat.line(text)

    async def press(self, label: str) -> None:
        """Press the most recently shown button whose label contains ``label``."""
        shown = [line for output in self.outputs for line in output.splitlines() if "[!" in line]
        for line in reversed(shown):
            for part in line.split("["):
                if part.startswith("!") and label.lower() in part.lower():
                    number = part[1:].split(" ", 1)[0]
                    await self.chat.line(f"!{number}")
                    return
        raise AssertionError(f"no button labelled {label!r} was shown")

    async def expect_reply(self, *fragments: str) -> str:
        return take_matching(self.outputs, fragments, "a reply")

    async def expect_dm(self, email: str, *fragments: str) -> str:
        return take_matching(self.outputs, (f"[DM to {email.lower()}]", *fragments), f"a DM to {email}")

    async def expect_post(self, channel_key: str, *fragments: str) -> str:
        return take_matching(self.outputs, (f"[#{channel_key}]", *fragments), f"a post in #{channel_key}")

    async def expect_nothing(self) -> None:
        assert not self.outputs, f"expected silence; the bot said: {self.outputs}"

    def become(self, email: str) -> None:
        self.chat.email = email.lower()
