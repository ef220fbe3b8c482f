"""Feature modules. Each has ``register(router)`` and is listed here once."""

from bot.features import agenda_invites, basics, language, learning_days, nudges, picks, skillshare

FEATURES = [basics, language, nudges, skillshare, picks, learning_days, agenda_invites]
