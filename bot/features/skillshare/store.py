"""Skillshare's queries, kept out of the handlers so they read as rules and replies."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Person
from storage.skillshare import OfferStatus, RequestStatus, SkillOffer, SkillRequest


async def people(session: AsyncSession, person_ids: set[int]) -> dict[int, Person]:
    """The people with these ids, by id (the owners of a list of offers or requests)."""
    if not person_ids:
        return {}
    found = await session.scalars(select(Person).where(Person.id.in_(person_ids)))
    return {p.id: p for p in found}


async def active_offers_of(session: AsyncSession, person_id: int) -> list[SkillOffer]:
    return list(
        await session.scalars(
            select(SkillOffer)
            .where(SkillOffer.person_id == person_id, SkillOffer.status == OfferStatus.ACTIVE)
            .order_by(SkillOffer.id)
        )
    )


async def count_active_offers(session: AsyncSession) -> int:
    active = SkillOffer.status == OfferStatus.ACTIVE
    return await session.scalar(select(func.count()).select_from(SkillOffer).where(active)) or 0


async def newest_active_offers(session: AsyncSession, limit: int) -> list[SkillOffer]:
    return list(
        await session.scalars(
            select(SkillOffer)
            .where(SkillOffer.status == OfferStatus.ACTIVE)
            .order_by(SkillOffer.updated_at.desc(), SkillOffer.id.desc())
            .limit(limit)
        )
    )


async def all_active_offers(session: AsyncSession) -> list[SkillOffer]:
    """Every active offer, by office: the learning manager's planning list."""
    return list(
        await session.scalars(
            select(SkillOffer)
            .where(SkillOffer.status == OfferStatus.ACTIVE)
            .order_by(SkillOffer.office_id, SkillOffer.id)
        )
    )


async def open_requests_of(session: AsyncSession, person_id: int) -> list[SkillRequest]:
    return list(
        await session.scalars(
            select(SkillRequest)
            .where(SkillRequest.person_id == person_id, SkillRequest.status == RequestStatus.OPEN)
            .order_by(SkillRequest.id)
        )
    )


async def all_open_requests(session: AsyncSession) -> list[SkillRequest]:
    return list(
        await session.scalars(
            select(SkillRequest).where(SkillRequest.status == RequestStatus.OPEN).order_by(SkillRequest.id)
        )
    )


async def open_request_like(session: AsyncSession, person_id: int, search_text: str) -> SkillRequest | None:
    """The person's open request for the same skill (normalised), if they already asked."""
    return await session.scalar(
        select(SkillRequest).where(
            SkillRequest.person_id == person_id,
            SkillRequest.status == RequestStatus.OPEN,
            SkillRequest.search_text == search_text,
        )
    )
