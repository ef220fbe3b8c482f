"""Weekly picks: fetching feeds (``fetch``), reading them (``feeds``) and shared pages
(``opengraph``), keeping what was found (``store``), choosing a digest (``choose``) and
writing it (``digest``). The chat-facing handlers live in :mod:`bot.features.picks`."""
