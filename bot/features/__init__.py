"""Feature packages. Each has ``register(router)`` and is listed in :data:`NAMES` once; the
composition root (learnbot/runtime.py, the CLI, test worlds, benches) passes
``bot.features.FEATURES`` to :class:`bot.core.Learnbot`.

``FEATURES`` is built on first use (PEP 562), not at import: :mod:`bot.config` imports each
feature's ``config.py``, which runs this package's ``__init__``; importing every feature's
handlers here would import :mod:`bot.config` again before it is defined.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from bot.router import Feature

NAMES = (
    "basics",
    "language",
    "nudges",
    "skillshare",
    "picks",
    "learning_days",
    "agenda_invites",
    "lms",
    "offices",
)
"""The enabled features, in registration order (the single registry)."""


def __getattr__(name: str) -> list[Feature]:
    if name == "FEATURES":
        return [cast("Feature", import_module(f"{__name__}.{feature}")) for feature in NAMES]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
