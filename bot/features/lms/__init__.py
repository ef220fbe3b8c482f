"""Importing LMS exports: presets, encodings, .xlsx, statuses, names and offices (issue 14).

``read`` streams rows out of a file, ``parse`` checks them (pure), ``plan`` decides what would
change (pure), ``store`` reads and writes in bulk and ``apply`` runs the three in one
transaction. The CLI (``learnbot import``), the upload in chat and the ``lms_sync`` job all use
:func:`bot.features.lms.apply.import_stream`.
"""

from bot.features.lms.feature import register

__all__ = ["register"]
