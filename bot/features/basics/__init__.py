"""What every Learnbot has: help, a person's profile and home, the welcome message, and the
housekeeping jobs (expiring idle dialogs, forgetting old inbound event ids).

Layout (the convention of every feature folder): ``handlers.py`` holds the handlers as
module-level functions and the ``register(router)`` table, ``texts.py`` the user-facing
messages, ``store.py`` the queries."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.router import Router


def register(router: Router) -> None:
    """Register the feature's handlers (``handlers.register``). Imported on call, not at package
    import, because :mod:`bot.config` imports this package's ``config.py``."""
    from .handlers import register as register_handlers

    register_handlers(router)
