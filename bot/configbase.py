"""The base of every ``app.yaml`` section model, in a module of its own so that a feature's
config section (``bot/features/<name>/config.py``) and ``bot/config.py``, which composes them,
can both import it without importing each other."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Strict(BaseModel):
    """Unknown keys are errors (a misspelt key is named, not ignored); values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)
