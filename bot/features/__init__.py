"""Feature modules. Each has ``register(router)`` and is listed here once."""

from bot.features import basics, picks

FEATURES = [basics, picks]
