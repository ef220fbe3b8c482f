"""Feature packages. Each has ``register(router)`` and is listed here once, in ``FEATURES``.

The list is built on first use (a module ``__getattr__``), not when this package is imported:
``bot/config.py`` composes each feature's config section (``bot/features/<name>/config.py``),
and importing one of those must not load every feature's handlers, which import ``bot.config``.
"""

from __future__ import annotations

import importlib
from types import ModuleType

NAMES = ("basics", "nudges", "skillshare", "picks", "learning_days", "agenda_invites")


def __getattr__(name: str) -> list[ModuleType]:
    if name == "FEATURES":
        return [importlib.import_module(f"{__name__}.{feature}") for feature in NAMES]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
