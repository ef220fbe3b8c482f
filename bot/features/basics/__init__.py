"""What every Learnbot has: help, a person's profile and home, the welcome message, and the
housekeeping jobs (expiring idle dialogs, forgetting old inbound event ids).

Layout (the convention of every feature folder): ``handlers.py`` holds the handlers as
module-level functions and the ``register(router)`` table, ``texts.py`` the user-facing
messages, ``store.py`` the queries."""

from .handlers import register

__all__ = ["register"]
