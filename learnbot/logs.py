"""Logging set-up for every ``learnbot`` command.

``LOG_LEVEL`` (default INFO) is Learnbot's own level; ``LOG_FORMAT=json`` writes one JSON
object per line (python-json-logger) for log collectors. Libraries (aiosqlite, asyncio,
botbuilder, slack_sdk, urllib3, ...) stay at ``LOG_LIBRARIES`` (default WARNING) whatever
``LOG_LEVEL`` says: at DEBUG aiosqlite alone writes a line per SQL call, which buries
Learnbot's own lines.
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO

from pythonjsonlogger.json import JsonFormatter

OWN_LOGGERS = ("bot", "adapters", "scheduler", "storage", "learnbot", "__main__")
LIBRARY_LOGGERS = (
    "aiosqlite",
    "aiohttp",
    "alembic",
    "apscheduler",
    "asyncio",
    "asyncpg",
    "botbuilder",
    "botframework",
    "msal",
    "msrest",
    "httpx",
    "httpcore",
    "slack_bolt",
    "slack_sdk",
    "sqlalchemy",
    "urllib3",
    "charset_normalizer",
)
HANDLER_NAME = "learnbot"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(message)s"


class _CurrentStderr(logging.StreamHandler[TextIO]):
    """Writes to whatever ``sys.stderr`` is at the time of each record (as ``logging``'s own
    last-resort handler does), so a redirected or replaced stderr never gets a closed stream."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass


def configure(
    level: str = "INFO", fmt: str = "text", libraries: str = "WARNING", stream: TextIO | None = None
) -> None:
    """Install (or replace) Learnbot's root handler writing ``fmt`` lines to ``stream``
    (stderr); handlers others installed (pytest's) are left alone."""
    handler: logging.StreamHandler[TextIO] = (
        logging.StreamHandler(stream) if stream is not None else _CurrentStderr()
    )
    handler.set_name(HANDLER_NAME)
    if fmt == "json":
        handler.setFormatter(
            JsonFormatter(JSON_FIELDS, rename_fields={"levelname": "level", "name": "logger"})
        )
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == HANDLER_NAME]:
        root.removeHandler(old)
    root.addHandler(handler)
    own = logging.getLevelName(level.upper())
    quiet = logging.getLevelName(libraries.upper())
    # Records from Learnbot's loggers reach the root handler whatever the root's level; any
    # library not named below inherits the root's (quiet) level.
    root.setLevel(quiet)
    for name in OWN_LOGGERS:
        logging.getLogger(name).setLevel(own)
    for name in LIBRARY_LOGGERS:
        logging.getLogger(name).setLevel(quiet)
    logging.getLogger("aiohttp.access").setLevel(max(quiet, logging.WARNING))
