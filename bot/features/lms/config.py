"""The ``lms_import:`` section of app.yaml (composed into :class:`bot.config.AppConfig`).

Imports only pydantic and :mod:`bot.config_base` (``bot.config`` imports this module)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from bot.config_base import Strict

LmsPreset = Literal["generic", "moodle", "cornerstone", "docebo", "talentlms", "sap_successfactors"]


class LmsStatuses(Strict):
    """Extra status words (beyond the presets' own) meaning completed or not completed."""

    completed: list[str] = []
    not_completed: list[str] = []


class LmsSource(Strict):
    """Where the ``lms_sync`` job pulls an office's export from (secrets come from the environment).

    ``kind: https`` downloads ``url`` (CSV or .xlsx) with header ``header: <token_prefix><$token_env>``;
    ``kind: moodle`` calls Moodle's web services at ``url`` (the site's base URL) with the token
    in ``$token_env`` for each course in ``moodle_courses`` (Moodle course id -> our course id)."""

    office: str
    kind: Literal["https", "moodle"] = "https"
    url: str = Field(pattern=r"^https?://\S+$")
    token_env: str = Field(default="", pattern=r"^([A-Z_][A-Z0-9_]*)?$")
    header: str = "Authorization"
    token_prefix: str = "Bearer "
    moodle_courses: dict[int, str] = {}
    timeout_seconds: float = Field(default=60.0, gt=0, le=600)


class ImportColumns(Strict):
    """How an LMS export's columns map to Learnbot's fields.

    ``preset`` names the export (its usual column names, statuses and date style); any column
    named here overrides the preset's. ``date_formats`` (strptime codes) are only needed for an
    unusual export: otherwise dates are read in ``language`` and ``date_order``, which default to
    the office's locale (e.g. ``fr`` -> French month names, day first)."""

    preset: LmsPreset = "generic"
    email: str | None = None
    course: str | None = None
    course_title: str | None = None
    due: str | None = None
    completed: str | None = None
    status: str | None = None
    name: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    office: str | None = None
    date_formats: list[str] = []
    date_order: Literal["DMY", "MDY", "YMD"] | None = None
    language: str | None = Field(default=None, pattern=r"^[a-z]{2,3}([_-][A-Za-z]{2})?$")
    statuses: LmsStatuses = LmsStatuses()
    max_upload_mb: int = Field(default=50, ge=1, le=500)
    sources: list[LmsSource] = []
