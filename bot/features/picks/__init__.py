"""Weekly picks: fetching feeds (``fetch``), reading them (``feeds``) and shared pages
(``opengraph``), one key per web page (``links``), cleaning outside text (``text``), keeping
what was found (``store``), choosing a digest (``choose``) and writing it (``digest``).
Handlers and their registration table: :mod:`.handlers`; button ids: :mod:`.actions`."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.router import Router


def register(router: Router) -> None:
    """Register the handlers (imported here, on use, so that ``bot.config`` can import this
    feature's config section without loading the handlers, which import ``bot.config``)."""
    from .handlers import register as register_handlers

    register_handlers(router)
