"""Feature modules. Each has ``register(router)`` and is listed here once."""

from bot.features import basics, nudges, picks, skillshare

FEATURES = [basics, nudges, skillshare, picks]
