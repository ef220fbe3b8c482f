"""Feature modules. Each has ``register(router)`` and is listed here once."""

from bot.features import basics
from bot.features import learning_days as learning_days  # issue 7

FEATURES = [basics, learning_days]
