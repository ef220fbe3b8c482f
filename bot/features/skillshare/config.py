"""Skillshare's ``app.yaml`` section (``skillshare:``), composed into :class:`bot.config.AppConfig`."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from bot.config_base import Strict


class SkillshareSettings(Strict):
    """Choices offered in the skillshare conversation, and how peer-assist pairs are made."""

    formats: list[str] = Field(default=["talk", "workshop", "one-to-one coaching", "mentoring"], min_length=1)
    levels: list[str] = Field(default=["beginner", "intermediate", "advanced", "all levels"], min_length=1)
    peer_odd_number: Literal["trio", "sit_out"] = "trio"
    peer_followup_days: int = Field(default=7, ge=1, le=90)
