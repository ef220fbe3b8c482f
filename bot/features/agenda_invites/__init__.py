"""Agenda invites: a learning manager puts a skillshare offer onto a learning day's agenda.

It joins two features (skillshare owns offers, learning days own the agenda), so it is a small
feature of its own instead of making either import the other. Handlers and registration:
:mod:`.handlers`; button ids: :mod:`.actions`; queries: :mod:`.store`."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.router import Router


def register(router: Router) -> None:
    """Register the handlers (imported here, on use, so that ``bot.config`` can import this
    feature's config section without loading the handlers, which import ``bot.config``)."""
    from .handlers import register as register_handlers

    register_handlers(router)
