"""Weekly picks' ``app.yaml`` sections (``picks:`` and the ``feeds:`` list), composed into
:class:`bot.config.AppConfig`."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from bot.config_base import Strict
from bot.i18n import N_


class Feed(Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    url: str = Field(pattern=r"^https?://")
    kind: Literal["talk", "article"] = "article"
    name: str = ""


class PicksPolicy(Strict):
    """Weekly picks: how many items of each kind a digest holds and how feeds are fetched."""

    mix: dict[Literal["talk", "article"], int] = {"talk": 2, "article": 2}
    fetch_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    page_timeout_seconds: float = Field(default=5.0, gt=0, le=30)
    """How long ``/learning share`` waits for the shared page (the person is waiting too)."""
    max_concurrent_fetches: int = Field(default=50, ge=1, le=200)
    max_age_days: int = Field(default=60, ge=1, le=3650)
    auto_approve_suggestions: bool = False
    allow_private_hosts: bool = False
    """Let ``/learning share`` read pages on private or loopback addresses (tests, intranets)."""
    title: str = N_("This week's picks")

    @field_validator("mix")
    @classmethod
    def _mix(cls, value: dict[str, int]) -> dict[str, int]:
        for kind, count in value.items():
            if not 0 <= count <= 10:
                raise ValueError(f"mix.{kind} must be between 0 and 10, got {count}")
        if not any(value.values()):
            raise ValueError("mix must ask for at least one item, e.g. {talk: 2, article: 2}")
        return value
