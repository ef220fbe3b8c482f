"""Mandatory-course nudges: cadence (``stages``), the sweep that decides who is reminded
(``sweep``), what people can answer (``bot.intents``, ``outcomes``) and the learning
manager's compliance report (``report``). Assignments come in through the LMS feature
(``bot.features.lms``).
The chat wiring (handlers and their registration table) lives in ``handlers``, button ids in
``actions``, the wording in ``texts``, the handlers' queries in ``store``."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.router import Router


def register(router: Router) -> None:
    """Register the feature's handlers (``handlers.register``). Imported on call, not at package
    import, because :mod:`bot.config` imports this package's ``config.py``."""
    from .handlers import register as register_handlers

    register_handlers(router)
