"""Skillshare's ``app.yaml`` section (``skillshare:``), composed into :class:`bot.config.AppConfig`."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from bot.config_base import Strict
from bot.i18n import N_


class SkillshareSettings(Strict):
    """Choices offered in the skillshare conversation, and how peer-assist pairs are made."""

    formats: list[str] = Field(
        default=[N_("talk"), N_("workshop"), N_("one-to-one coaching"), N_("mentoring")], min_length=1
    )
    levels: list[str] = Field(
        default=[N_("beginner"), N_("intermediate"), N_("advanced"), N_("all levels")], min_length=1
    )
    peer_odd_number: Literal["trio", "sit_out"] = "trio"
    peer_followup_days: int = Field(default=7, ge=1, le=90)
