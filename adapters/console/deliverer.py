"""Proactive messages in the console: printed as they are delivered by the outbox worker."""

from __future__ import annotations

from collections.abc import Callable

from adapters.console.render import render
from scheduler.delivery import Delivery
from scheduler.ratelimit import Limit


class ConsoleDeliverer:
    """Prints deliveries through ``write`` (the chat's output).

    The terminal keeps no record, so after a crash it cannot tell whether a message was shown:
    :meth:`reconcile` says so, and the worker is configured to show it again (a repeated line
    in a demo terminal is better than a lost one)."""

    platform = "console"

    def __init__(self, write: Callable[[str], None], buttons: list[tuple[str, str]] | None = None) -> None:
        self._write = write
        self._buttons = buttons

    def limits(self, delivery: Delivery) -> list[Limit]:
        return []

    async def send(self, delivery: Delivery) -> str | None:
        if delivery.destination_kind == "channel":
            where = f"#{delivery.destination_key}"
        else:
            where = f"DM to {delivery.person_email or delivery.person_name}"
        self._write(f"\n[{where}]\n{render(delivery.message, self._buttons)}\n")
        return f"console:{delivery.outbox_id}"

    async def reconcile(self, delivery: Delivery) -> bool | None:
        return None
