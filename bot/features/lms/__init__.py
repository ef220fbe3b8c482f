"""Importing LMS exports: presets, encodings, .xlsx, statuses, names and offices (issue 14).

``read`` streams rows out of a file, ``parse`` checks them (pure), ``plan`` decides what would
change (pure), ``store`` reads and writes in bulk and ``apply`` runs the three in one
transaction. The CLI (``learnbot import``), the upload in chat and the ``lms_sync`` job all use
:func:`bot.features.lms.apply.import_stream`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.router import Router


def register(router: Router) -> None:
    """Imported on call, not at package import: :mod:`bot.config` imports ``config.py`` here."""
    from bot.features.lms.feature import register as register_handlers

    register_handlers(router)
