"""Imports every model module so ``Base.metadata`` holds the whole schema.

Add a line here when a feature adds a ``storage/<feature>.py`` module with tables.
"""

from storage import learning_days, lms, models, nudges, picks, skillshare
from storage.models import Base

__all__ = ["Base", "learning_days", "lms", "metadata", "models", "nudges", "picks", "skillshare"]

metadata = Base.metadata
