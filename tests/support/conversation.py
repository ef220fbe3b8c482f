"""Conversations that read like a script, on any platform::

    ana = world.person("ana@example.org")
    await ana.send("/skillshare offer")
    await ana.expect_reply("What would you like to teach?")
    await ana.press("Done")
    await world.run_job("weekly_picks")
    await world.expect_post("learning", "This week's picks")

A *world* is one platform with the bot in it: the console (here), the Slack fake or the Teams
fake (their test packages register a factory in ``WORLDS``). A *driver* is one person in that
world: it sees the replies to what they do and the direct messages sent to them.
Every world implements the same small interface, so a scenario runs unchanged on each.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.console.chat import ConsoleChat
from adapters.console.deliverer import ConsoleDeliverer, where
from adapters.console.render import render
from bot.clock import ManualClock
from bot.config import AppConfig
from bot.core import Learnbot
from bot.features import FEATURES
from scheduler.delivery import Delivery, DeliveryWorker, WorkerSettings


class ChatDriver(Protocol):
    email: str
    outputs: list[str]
    """What the bot said to this person that no expectation has taken yet."""

    async def send(self, text: str) -> None: ...
    async def press(self, label: str) -> None: ...
    async def expect_reply(self, *fragments: str) -> str: ...
    async def expect_eventually(self, *fragments: str) -> str: ...
    async def expect_no_reply(self) -> None: ...
    async def expect_nothing(self) -> None: ...


class ChatWorld(Protocol):
    platform: str
    app: Learnbot
    posts: dict[str, list[str]]
    """Channel posts not yet matched by ``expect_post``, by channel."""

    def person(self, email: str, *, name: str | None = None, timezone: str | None = None) -> ChatDriver: ...
    async def deliver(self) -> int: ...
    async def run_job(self, name: str, **args: Any) -> str: ...
    async def expect_post(self, channel_key: str, *fragments: str) -> str: ...
    async def expect_post_eventually(self, channel_key: str, *fragments: str) -> str: ...
    async def expect_no_post(self, channel_key: str) -> None: ...


WorldFactory = Callable[
    [AppConfig, async_sessionmaker[AsyncSession], ManualClock], AbstractAsyncContextManager[ChatWorld]
]


def _describe(pending: list[str]) -> str:
    return "\n---\n".join(pending) or "(nothing)"


def _matches(output: str, fragments: tuple[str, ...]) -> bool:
    lowered = output.lower()
    return all(fragment.lower() in lowered for fragment in fragments)


def take_next(pending: list[str], fragments: tuple[str, ...], what: str) -> str:
    """Remove and return the next output, which must contain every fragment (case-insensitive).

    Strict like botbuilder's ``TestFlow.assert_reply``: anything the bot said before the
    expected message is a failure, never skipped, so a stray or duplicated message shows up.
    """
    if not pending:
        raise AssertionError(f"expected {what} containing {fragments!r}; the bot said nothing")
    if not _matches(pending[0], fragments):
        raise AssertionError(
            f"expected {what} containing {fragments!r} next; the bot said, in order:\n{_describe(pending)}"
        )
    return pending.pop(0)


def take_eventually(pending: list[str], fragments: tuple[str, ...], what: str) -> str:
    """Remove and return the first output containing every fragment, wherever it is, leaving
    the others in place: only for the rare case where the order truly varies (for example two
    direct messages delivered by one outbox batch)."""
    for index, output in enumerate(pending):
        if _matches(output, fragments):
            return pending.pop(index)
    raise AssertionError(f"expected {what} containing {fragments!r}; the bot said:\n{_describe(pending)}")


def take_nothing(pending: list[str], what: str) -> None:
    if pending:
        raise AssertionError(f"expected no {what}; the bot said:\n{_describe(pending)}")


def assert_nothing_unexpected(world: ChatWorld | ConsoleWorld) -> None:
    """At the end of a scenario, nothing the bot said may be left unchecked: a stray message
    after the last expectation, to a person or in a channel, fails the scenario too."""
    people: dict[str, ChatDriver] = getattr(world, "people", {})
    left = {f"to {email}": list(driver.outputs) for email, driver in people.items() if driver.outputs}
    left.update({f"in {channel}": list(posts) for channel, posts in world.posts.items() if posts})
    if left:
        said = "\n".join(f"{where}:\n{_describe(outputs)}" for where, outputs in left.items())
        raise AssertionError(f"the scenario ended with messages nobody expected:\n{said}")


async def converse(driver: ChatDriver, script: list[tuple[str, str]]) -> None:
    """Send each line and expect the bot's next message to contain its fragment: the short
    form of a conversation whose every step is checked."""
    for line, expected in script:
        await driver.send(line)
        await driver.expect_reply(expected)


class ConsoleDriver:
    """One person at the console, driving :class:`ConsoleChat` as they would at the terminal."""

    def __init__(self, app: Learnbot, email: str, worker: DeliveryWorker | None = None) -> None:
        self.email = email.lower()
        self.outputs: list[str] = []  # not yet matched by expect_reply
        self.history: list[str] = []  # everything shown, for finding buttons
        self.chat = ConsoleChat(app, email, self._write, worker)

    def _write(self, text: str) -> None:
        self.outputs.append(text)
        self.history.append(text)

    @property
    def app(self) -> Learnbot:
        return self.chat.app

    async def send(self, text: str) -> None:
        await self.chat.line(text)

    async def press(self, label: str) -> None:
        """Press the most recently shown button whose label contains ``label``."""
        shown = [line for output in self.history for line in output.splitlines() if "[!" in line]
        for line in reversed(shown):
            for part in line.split("["):
                if part.startswith("!") and label.lower() in part.lower():
                    number = part[1:].split(" ", 1)[0]
                    await self.chat.line(f"!{number}")
                    return
        raise AssertionError(f"no button labelled {label!r} was shown to {self.email}")

    async def expect_reply(self, *fragments: str) -> str:
        return take_next(self.outputs, fragments, f"a message to {self.email}")

    async def expect_eventually(self, *fragments: str) -> str:
        return take_eventually(self.outputs, fragments, f"a message to {self.email}")

    async def expect_no_reply(self) -> None:
        take_nothing(self.outputs, f"message to {self.email}")

    expect_nothing = expect_no_reply


class ConsoleWorld:
    """Several people at the console sharing one bot and one outbox worker."""

    platform = "console"

    def __init__(self, app: Learnbot) -> None:
        self.app = app
        self.people: dict[str, ConsoleDriver] = {}
        self.posts: dict[str, list[str]] = {}
        self.worker = DeliveryWorker(
            app.sessions,
            {"console": ConsoleDeliverer(self._show)},
            app.clock,
            WorkerSettings(resend_when_in_doubt=True),
            name="console-world",
        )

    def person(self, email: str, *, name: str | None = None, timezone: str | None = None) -> ConsoleDriver:
        key = email.lower()
        if key not in self.people:
            self.people[key] = ConsoleDriver(self.app, key, self.worker)
        return self.people[key]

    def _show(self, delivery: Delivery) -> None:
        if delivery.destination_kind == "channel":
            self.posts.setdefault(delivery.destination_key, []).append(render(delivery.message))
            return
        self.person(delivery.person_email or delivery.person_name).chat.show_delivery(delivery)

    async def deliver(self) -> int:
        return await self.worker.drain()

    async def run_job(self, name: str, **args: Any) -> str:
        summary = await self.app.run_job(name, args)
        await self.deliver()
        return summary

    async def expect_post(self, channel_key: str, *fragments: str) -> str:
        return take_next(self.posts.setdefault(channel_key, []), fragments, f"a post in {channel_key}")

    async def expect_post_eventually(self, channel_key: str, *fragments: str) -> str:
        return take_eventually(self.posts.setdefault(channel_key, []), fragments, f"a post in {channel_key}")

    async def expect_no_post(self, channel_key: str) -> None:
        take_nothing(self.posts.setdefault(channel_key, []), f"post in {channel_key}")


@asynccontextmanager
async def console_world(
    config: AppConfig, sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> AsyncIterator[ChatWorld]:
    yield ConsoleWorld(Learnbot(config, sessions, clock=clock, platforms=("console",), features=FEATURES))


WORLDS: dict[str, WorldFactory] = {"console": console_world}
"""Platform name -> world factory. Slack and Teams test support add theirs on import."""

__all__ = [
    "WORLDS",
    "ChatDriver",
    "ChatWorld",
    "ConsoleDriver",
    "ConsoleWorld",
    "take_eventually",
    "take_next",
    "take_nothing",
    "where",
]
