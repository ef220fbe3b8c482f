"""Queries of the basics feature."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import SeenEvent


async def forget_seen_events(session: AsyncSession, before: datetime) -> int:
    """Delete inbound event ids seen before ``before``; returns how many were deleted."""
    result = await session.execute(delete(SeenEvent).where(SeenEvent.seen_at < before))
    return int(result.rowcount)  # type: ignore[attr-defined]
