"""The base of every app.yaml section model, shared by :mod:`bot.config` and the features'
``config.py`` modules (which must not import :mod:`bot.config`: it imports them)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Strict(BaseModel):
    """Unknown keys are errors (a typo is reported with its path) and values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)
