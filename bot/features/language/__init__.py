"""The language a person is spoken to in: ``/learning language fr`` (their own choice wins over
their platform's and their office's locale; ``/learning language auto`` gives it back to them)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.router import Router


def register(router: Router) -> None:
    from .handlers import register as register_handlers

    register_handlers(router)
