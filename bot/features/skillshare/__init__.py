"""Skillshare: offers to teach collected in conversation, requests matched to offers, and
peer-assist pairs. Handlers and their registration table: :mod:`.handlers`; button ids:
:mod:`.actions`; queries: :mod:`.store`; the offer conversation: :mod:`.offers`; search:
:mod:`.search`; peer assist: :mod:`.peer` and :mod:`.pairing`; rendering: :mod:`.views`; input
rules: :mod:`.text`."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.router import Router


def register(router: Router) -> None:
    """Register the handlers (imported here, on use, so that ``bot.config`` can import this
    feature's config section without loading the handlers, which import ``bot.config``)."""
    from .handlers import register as register_handlers

    register_handlers(router)
