"""Weekly picks: fetching feeds (``fetch``), reading them (``feeds``) and shared pages
(``opengraph``), one key per web page (``links``), cleaning outside text (``text``), keeping
what was found (``store``), choosing a digest (``choose``) and writing it (``digest``).
The chat-facing handlers live in :mod:`bot.features.picks`."""
