"""The ``nudges:`` section of app.yaml (composed into :class:`bot.config.AppConfig`); the
``lms_import:`` section is the LMS feature's (:mod:`bot.features.lms.config`)."""

from __future__ import annotations

from pydantic import Field

from bot.config_base import Strict


class NudgePolicy(Strict):
    first_reminder_days_before: int = Field(default=7, ge=0, le=365)
    remind_on_due_day: bool = True
    overdue_every_days: int = Field(default=7, ge=1, le=365)
    max_overdue_reminders: int = Field(default=4, ge=0, le=100)
    max_messages_per_person_per_day: int = Field(default=1, ge=1, le=20)
    remind_later_days: int = Field(default=3, ge=1, le=60)
    """"Remind me later" without a date: this many days, moved to the next working day."""
    thank_imported_within_days: int = Field(default=30, ge=0, le=3650)
    """An LMS completion older than this is recorded without a thank-you DM (an initial
    import of old completions must not message everyone)."""
    kudos_channel: str | None = None
    """Channel key for public kudos (opted-in people only); default: the office's first channel."""
