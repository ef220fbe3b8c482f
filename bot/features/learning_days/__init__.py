"""Learning days: scheduling (once, in a conversation, or by a recurring rule), announcements at
offsets, agenda, RSVPs and calendar files. Handlers and their registration table:
:mod:`.handlers`; button ids: :mod:`.actions`; queries: :mod:`.store`; the scheduling dialog:
:mod:`.scheduling`; date/time/place parsing: :mod:`.parsing`; recurrence and offsets:
:mod:`.rules`; announcements: :mod:`.announce`; messages: :mod:`.views`; .ics files:
:mod:`.calendar`.

Other features put sessions onto a day with ``store.add_agenda_session`` and list days with
``store.upcoming``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.router import Router


def register(router: Router) -> None:
    """Register the handlers (imported here, on use, so that ``bot.config`` can import this
    feature's config section and rules without loading the handlers, which import ``bot.config``)."""
    from .handlers import register as register_handlers

    register_handlers(router)
