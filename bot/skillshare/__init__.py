"""Skillshare: offers to teach collected in conversation, requests matched to offers, and
peer-assist pairs. The chat commands are wired in :mod:`bot.features.skillshare`."""
