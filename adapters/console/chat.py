"""The console chat: type as a person, see replies and proactive posts as they are delivered.

Lines are commands (``/skillshare offer``), free text (``done``), button presses (``!2``) or
console directives:

``:as EMAIL``        speak as someone else      ``:join [EMAIL]``   simulate a new member
``:run-job NAME``    run a scheduled job now    ``:clock WHEN``     move the demo clock
``:wait``            deliver what is queued     ``:help``           this list
``:file PATH``       send the bot a file (an LMS export)
``:quit``
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shlex
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

import dateparser

from adapters.console.deliverer import ConsoleDeliverer, where
from adapters.console.render import render
from bot.clock import ManualClock
from bot.core import Learnbot
from bot.events import (
    Actor,
    ButtonPressed,
    CommandInvoked,
    Conversation,
    Event,
    FileShared,
    FileTooLarge,
    MemberJoined,
    MessageReceived,
)
from scheduler.delivery import Delivery, DeliveryWorker, WorkerSettings
from scheduler.jobs import UnknownJob, build_scheduler, find_schedule

logger = logging.getLogger(__name__)

DIRECTIVES = __doc__.split("Lines are", 1)[1] if __doc__ else ""


class ConsoleChat:
    def __init__(
        self,
        app: Learnbot,
        email: str,
        write: Callable[[str], None],
        worker: DeliveryWorker | None = None,
    ) -> None:
        """``worker`` delivers the outbox after each line; by default one that shows every
        delivery in this chat. Tests with several people pass a shared worker instead."""
        self.app = app
        self.email = email.lower()
        self.write = write
        self.buttons: list[tuple[str, str]] = []
        self._delivering = asyncio.Lock()
        self.worker = worker or DeliveryWorker(
            app.sessions,
            {"console": ConsoleDeliverer(self.show_delivery)},
            app.clock,
            WorkerSettings.from_policy(app.config.outbox, resend_when_in_doubt=True),
            name="console",
        )

    def show_delivery(self, delivery: Delivery) -> None:
        self.write(f"\n[{where(delivery)}]\n{render(delivery.message, self.buttons)}\n")

    def actor(self, email: str | None = None) -> Actor:
        email = (email or self.email).lower()
        return Actor(
            platform="console",
            user_id=email,
            email=email,
            display_name=email.split("@")[0].replace(".", " ").title(),
        )

    def _conversation(self) -> Conversation:
        return Conversation(id=f"dm:{self.email}", is_direct=True)

    async def line(self, text: str) -> bool:
        """Handle one typed line; False means the person asked to quit."""
        text = text.strip()
        if not text or text.startswith("#"):
            return True
        if text.startswith(":"):
            return await self._directive(text)
        event: Event
        if text.startswith("!") and text[1:].isdigit():
            index = int(text[1:]) - 1
            if not 0 <= index < len(self.buttons):
                self.write(f"(there is no button !{index + 1})")
                return True
            action_id, value = self.buttons[index]
            event = ButtonPressed(
                actor=self.actor(), conversation=self._conversation(), action_id=action_id, value=value
            )
        elif text.startswith("/"):
            name, _, rest = text[1:].partition(" ")
            event = CommandInvoked(
                actor=self.actor(), conversation=self._conversation(), name=name, text=rest
            )
        else:
            event = MessageReceived(actor=self.actor(), conversation=self._conversation(), text=text)
        for reply in await self.app.handle(event):
            self.write(render(reply, self.buttons))
        await self.deliver()
        return True

    async def _directive(self, text: str) -> bool:
        try:
            words = shlex.split(text[1:])
        except ValueError as exc:
            self.write(f"(could not read that directive: {exc})")
            return True
        name, args = (words[0].lower(), words[1:]) if words else ("help", [])
        if name in {"quit", "exit", "q"}:
            return False
        if name == "as" and args:
            self.email = args[0].lower()
            self.write(f"(you are now {self.email})")
        elif name == "join":
            email = args[0] if args else self.email
            event = MemberJoined(actor=self.actor(email), conversation=self._conversation())
            for reply in await self.app.handle(event):
                self.write(render(reply, self.buttons))
        elif name in {"run-job", "run"} and args:
            try:
                job, job_args = find_schedule(self.app, args[0])
                self.write(f"(job {args[0]}: {await self.app.run_job(job, job_args)})")
            except UnknownJob as exc:
                self.write(f"({exc})")
        elif name == "clock" and args:
            self._set_clock(" ".join(args))
        elif name == "wait":
            self.write(f"(delivered {await self.deliver()} message(s))")
        elif name == "file" and args:
            await self.send_file(Path(args[0]))
        else:
            self.write(f"Console directives:{DIRECTIVES}")
            return True
        await self.deliver()
        return True

    async def send_file(self, path: Path) -> None:
        """Send the bot a local file, as a Slack file share or a Teams file would."""
        try:
            data = await asyncio.to_thread(path.read_bytes)
        except OSError as exc:
            self.write(f"(could not read {path}: {exc.strerror})")
            return

        async def fetch(max_bytes: int) -> bytes:
            if len(data) > max_bytes:
                raise FileTooLarge(f"{path} is over {max_bytes} bytes")
            return data

        event = FileShared(
            actor=self.actor(), conversation=self._conversation(), name=path.name, size=len(data), fetch=fetch
        )
        for reply in await self.app.handle(event):
            self.write(render(reply, self.buttons))

    def _set_clock(self, when: str) -> None:
        clock = self.app.clock
        if not isinstance(clock, ManualClock):
            self.write("(the clock can only be moved in --script mode or with --clock)")
            return
        moment = dateparser.parse(
            when,
            settings={
                "RETURN_AS_TIMEZONE_AWARE": True,
                "TIMEZONE": "UTC",
                "RELATIVE_BASE": clock.now().replace(tzinfo=None),
            },
        )
        if moment is None:
            self.write(f"(could not read '{when}' as a time; try 2026-12-01 09:00)")
            return
        clock.set(moment)
        self.write(f"(clock set to {clock.now():%Y-%m-%d %H:%M} UTC)")

    async def run_script(self, lines: Iterable[str]) -> None:
        for raw in lines:
            text = raw.rstrip("\n")
            if not text.strip():
                continue
            self.write(f"> {text}")
            if not await self.line(text):
                break

    async def run_interactive(self) -> None:
        """Read lines from the terminal while the outbox worker prints what it delivers."""
        config = self.app.config
        t = self.app.i18n.choose(config.office(config.default_office).locale)
        self.write(
            t._(
                "Learnbot console — you are {email}. Type `help`, or :help for console directives, "
                ":quit to leave.",
                email=self.email,
            )
        )
        background = asyncio.create_task(self._deliver_in_background())
        scheduler = build_scheduler(self.app)  # scheduled jobs fire here too, on real time
        scheduler.start()
        loop = asyncio.get_running_loop()
        try:
            while True:
                try:
                    text = await loop.run_in_executor(None, _prompt)
                except EOFError:
                    break
                if not await self.line(text):
                    break
        finally:
            scheduler.shutdown(wait=False)
            async with self._delivering:  # let a delivery under way finish before leaving
                background.cancel()

    async def _deliver_in_background(self) -> None:
        """Show what scheduled jobs plan while the person is typing (or not)."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.app.outbox_ready.wait(), timeout=1.0)
            self.app.outbox_ready.clear()
            await self.deliver()

    async def deliver(self) -> int:
        async with self._delivering:
            return await self.worker.drain()


def _prompt() -> str:
    sys.stdout.write("> ")
    sys.stdout.flush()
    line = sys.stdin.readline()
    if not line:
        raise EOFError
    return line
