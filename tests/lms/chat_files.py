"""Sending a file to the bot in each world, the way each platform delivers it: a signed Slack
``message``/``file_share`` event whose file the bot downloads from the fake Slack with its
token; a Teams personal-chat activity with a ``file.download.info`` attachment served by the
fake connector; on the console, the neutral event itself."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from tests.slack.fake import TEAM


async def share_file(world: Any, driver: Any, name: str, data: bytes, tmp: Path) -> None:
    if world.platform == "slack":
        await world.link()
        ts = f"{time.time():.6f}"
        event = {
            "type": "message",
            "subtype": "file_share",
            "channel_type": "im",
            "channel": driver.dm_channel,
            "user": driver.user_id,
            "text": "",
            "files": [world.fake.share(name, data)],
            "upload": False,
            "ts": ts,
            "event_ts": ts,
            "team": TEAM,
        }
        await world.post(world.event_body(event), "application/json")
    elif world.platform == "teams":
        await driver.install()
        attachment = world.connector.share(name, data)
        await world.post(driver.activity("message", text="", attachments=[attachment]))
        await world.worker.drain()
    else:
        path = tmp / name
        path.write_bytes(data)
        await driver.send(f":file {path}")
