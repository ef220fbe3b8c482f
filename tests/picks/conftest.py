"""Picks tests fetch real HTTP from a local server on 127.0.0.1 (port 0) serving the TED feed
fixtures; the configuration points the feeds there and allows ``share`` to read local pages."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.picks.feed_server import FeedServer

TALKS_ETAG = '"talks-v1"'
IDEAS_MODIFIED = "Mon, 30 Nov 2026 13:00:07 GMT"


@pytest.fixture
async def feed_server() -> AsyncIterator[FeedServer]:
    server = await FeedServer().start()
    server.serve_fixture("ted-talks.rss", "ted-talks.rss", etag=TALKS_ETAG)
    server.serve_fixture("ted-ideas.rss", "ted-ideas.rss", last_modified=IDEAS_MODIFIED)
    server.serve_fixture("blog/learning-habit", "shared-page.html")
    yield server
    await server.stop()


@pytest.fixture
def config_data(config_data: dict[str, Any], feed_server: FeedServer) -> dict[str, Any]:
    data = dict(config_data)
    data["feeds"] = [
        {"id": "ted-talks", "name": "TED Talks", "url": feed_server.url("ted-talks.rss"), "kind": "talk"},
        {"id": "ted-ideas", "name": "TED Ideas", "url": feed_server.url("ted-ideas.rss"), "kind": "article"},
    ]
    data["picks"] = {
        "mix": {"talk": 2, "article": 2},
        "fetch_timeout_seconds": 2,
        "allow_private_hosts": True,
    }
    return data
