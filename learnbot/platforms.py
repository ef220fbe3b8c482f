"""The chat platforms ``learnbot serve`` can run, as plugins.

A platform module exposes ``NAME``, ``configured(settings) -> bool`` and
``async attach(web_app, runtime) -> adapters.plugin.Attached``: it adds its HTTP routes to the aiohttp
application and returns the outbox deliverer plus anything to start and stop with the server
(a Socket Mode client, say). Modules are imported only when configured, so a deployment
without Teams never imports botbuilder.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from learnbot.settings import Settings

PLATFORM_MODULES: tuple[str, ...] = ("adapters.slack.plugin", "adapters.teams.plugin")
"""Dotted names of the platform plugin modules, e.g. ``adapters.slack.plugin``."""


def configured_platforms(settings: Settings) -> list[ModuleType]:
    modules = [importlib.import_module(name) for name in PLATFORM_MODULES]
    return [module for module in modules if module.configured(settings)]
