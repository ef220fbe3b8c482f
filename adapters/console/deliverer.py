"""Proactive messages in the console: shown as they are delivered by the outbox worker."""

from __future__ import annotations

from collections.abc import Callable

from scheduler.delivery import Delivery
from scheduler.ratelimit import Limit


def where(delivery: Delivery) -> str:
    """``#learning`` for a channel post, ``DM to ana@example.org`` for a direct message."""
    if delivery.destination_kind == "channel":
        return f"#{delivery.destination_key}"
    return f"DM to {delivery.person_email or delivery.person_name}"


class ConsoleDeliverer:
    """Hands each delivery to ``show`` (the chat prints it, a test records it).

    The terminal keeps no record, so after a crash it cannot tell whether a message was shown:
    :meth:`reconcile` says so, and the console's worker shows it again (a repeated line in a
    demo terminal is better than a lost one)."""

    platform = "console"

    def __init__(self, show: Callable[[Delivery], None]) -> None:
        self._show = show

    def limits(self, delivery: Delivery) -> list[Limit]:
        return []

    async def send(self, delivery: Delivery) -> str | None:
        self._show(delivery)
        return f"console:{delivery.outbox_id}"

    async def reconcile(self, delivery: Delivery) -> bool | None:
        return None
