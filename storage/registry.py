"""Imports every model module so ``Base.metadata`` holds the whole schema.

Add a line here when a feature adds a ``storage/<feature>.py`` module with tables.
"""

from storage import learning_days as learning_days  # learning days (issue 7)
from storage import models
from storage.models import Base

__all__ = ["Base", "metadata", "models"]

metadata = Base.metadata
