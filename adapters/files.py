"""Downloading a file someone sent the bot, for every platform adapter.

The core asks for the bytes only once it wants them (see :class:`bot.events.FileShared`), with a
size limit: the download is streamed and stops as soon as it goes past the limit, so a huge file
never fills memory.
"""

from __future__ import annotations

import httpx

from bot.events import FileTooLarge

TIMEOUT_SECONDS = 60.0


async def download(url: str, max_bytes: int, headers: dict[str, str] | None = None) -> bytes:
    """GET ``url`` (following redirects), at most ``max_bytes``; raises for a non-2xx answer."""
    chunks: list[bytes] = []
    received = 0
    async with (
        httpx.AsyncClient(timeout=TIMEOUT_SECONDS, follow_redirects=True) as client,
        client.stream("GET", url, headers=headers or {}) as response,
    ):
        response.raise_for_status()
        async for chunk in response.aiter_bytes():
            received += len(chunk)
            if received > max_bytes:
                raise FileTooLarge(f"{url} is over {max_bytes} bytes")
            chunks.append(chunk)
    return b"".join(chunks)
