"""What a platform plugin hands ``learnbot serve``: its outbox deliverer and the hooks to start
and stop with the server (a Socket Mode client, say).

It lives here, at the adapters' layer, so every plugin and the composition root share one
definition without adapters importing the composition root.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from scheduler.delivery import Deliverer


@dataclass(slots=True)
class Attached:
    deliverer: Deliverer
    on_start: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    on_stop: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    ready: dict[str, Callable[[], Awaitable[bool]]] = field(default_factory=dict)
    """Named readiness checks for ``/readyz`` (e.g. ``slack_socket_mode``: is it connected?)."""
