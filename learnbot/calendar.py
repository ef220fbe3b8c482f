"""``GET /calendar/learning-day-<id>.ics``: the "Add to calendar" link on learning-day posts.

Slack and Teams buttons can open a URL but cannot carry a file, so the announcement's button
points here; the file is built fresh on each request, so it always has the latest SEQUENCE.
"""

from __future__ import annotations

import logging
import re

from aiohttp import web

from bot.features.learning_days import calendar, store
from storage.learning_days import LearningDay

logger = logging.getLogger(__name__)

ROUTE = "/calendar/{name}"
_NAME = re.compile(r"^learning-day-([1-9][0-9]{0,9})\.ics$")
MAX_ID = 2**31 - 1
"""Ids are 32-bit integers on PostgreSQL: a larger one is no learning day (and would make
the query itself fail, a 500, rather than find nothing)."""


async def learning_day_ics(request: web.Request) -> web.Response:
    from learnbot.server import RUNTIME

    match = _NAME.match(request.match_info["name"])
    if not match or int(match.group(1)) > MAX_ID:
        raise web.HTTPNotFound(text="No such calendar file.")
    runtime = request.app[RUNTIME]
    async with runtime.app.sessions() as session:
        day = await session.get(LearningDay, int(match.group(1)))
        if day is None:
            raise web.HTTPNotFound(text="No such learning day.")
        body = calendar.ics(day, await store.agenda(session, day.id), runtime.app.clock.now())
    return web.Response(
        body=body.encode("utf-8"),
        content_type="text/calendar",
        charset="utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{calendar.filename(day.id)}"',
            "Cache-Control": "no-cache",
        },
    )


def add_routes(web_app: web.Application) -> None:
    web_app.router.add_get(ROUTE, learning_day_ics)
