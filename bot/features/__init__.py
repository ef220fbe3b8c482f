"""Feature modules. Each has ``register(router)`` and is listed here once."""

from bot.features import agenda_invites, basics, learning_days, nudges, offices, picks, skillshare

FEATURES = [basics, nudges, skillshare, picks, learning_days, agenda_invites, offices]
