"""Office membership in chat: ``/learning office`` (see your office, or choose it once) and
``/learning move`` (a learning manager places a colleague). The rules (precedence, scope,
routing) live in the core, :mod:`bot.people` and :mod:`bot.scope`, because the LMS import and
the chat directory place people too; ``handlers`` holds the chat wiring."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.router import Router


def register(router: Router) -> None:
    """Register the feature's handlers (``handlers.register``), imported on call like every
    feature (``bot.config`` imports feature packages' ``config.py``)."""
    from .handlers import register as register_handlers

    register_handlers(router)
