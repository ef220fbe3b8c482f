"""Agenda invites' queries."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from storage.skillshare import SkillOffer


async def offer(session: AsyncSession, offer_id: int) -> SkillOffer | None:
    return await session.get(SkillOffer, offer_id)
