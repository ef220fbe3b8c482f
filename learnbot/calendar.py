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
_NAME = re.compile(r"^learning-day-(\d{1,12})\.ics$")


async def learning_day_ics(request: web.Request) -> web.Response:
    from learnbot.server import RUNTIME

    match = _NAME.match(request.match_info["name"])
    if not match:
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
