"""Scope and routing helpers: who manages what, and who receives a person's requests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import AppConfig, parse_config
from bot.i18n import ENGLISH
from bot.people import get_or_create_by_email
from bot.scope import manages, other_office_refusal, recipients_for
from tests.offices.conftest import COX_MANAGER, DAKAR_DEPUTY, DAKAR_MANAGER, ORG_ADMIN

NOW = datetime(2026, 12, 1, 9, tzinfo=UTC)


async def _recipients(
    sessions: async_sessionmaker[AsyncSession], config: AppConfig, email: str, office: str | None = None
) -> list[str]:
    async with sessions() as session, session.begin():
        person = await get_or_create_by_email(session, config, email, NOW)
        if office:
            person.office_id = office
        found = await recipients_for(session, config, person, NOW)
        return [p.email or "" for p in found.people]


async def test_requests_go_to_the_own_offices_managers_never_back_to_the_sender(
    sessions: async_sessionmaker[AsyncSession], config: AppConfig
) -> None:
    assert await _recipients(sessions, config, "fatou@example.org") == [DAKAR_MANAGER, DAKAR_DEPUTY]
    assert await _recipients(sessions, config, "karim@example.org", "coxs-bazar") == [COX_MANAGER]
    # A manager's own request: the other manager of the office ...
    assert await _recipients(sessions, config, DAKAR_MANAGER) == [DAKAR_DEPUTY]
    # ... or, for a sole manager, the org admin.
    assert await _recipients(sessions, config, COX_MANAGER) == [ORG_ADMIN]


async def test_nobody_to_receive_is_said_honestly(
    sessions: async_sessionmaker[AsyncSession], config_data: dict[str, Any]
) -> None:
    config_data["org_admins"] = []
    config = parse_config(config_data)
    async with sessions() as session, session.begin():
        rahim = await get_or_create_by_email(session, config, COX_MANAGER, NOW)
        found = await recipients_for(session, config, rahim, NOW)
    assert found.people == []
    assert "Cox's Bazar office has no other learning manager" in found.nobody(ENGLISH)
    assert "org_admins" in found.nobody(ENGLISH)


async def test_manages_and_the_refusal_names_no_one_but_the_manager(
    sessions: async_sessionmaker[AsyncSession], config: AppConfig
) -> None:
    async with sessions() as session, session.begin():
        awa = await get_or_create_by_email(session, config, DAKAR_MANAGER, NOW)
        hq = await get_or_create_by_email(session, config, ORG_ADMIN, NOW)
        rahim = await get_or_create_by_email(session, config, COX_MANAGER, NOW)
        rahim.display_name = "Rahim Uddin"
        await session.flush()
        assert manages(config, awa, "dakar") and not manages(config, awa, "coxs-bazar")
        assert manages(config, hq, "dakar") and manages(config, hq, "coxs-bazar")
        refusal = await other_office_refusal(session, config, "coxs-bazar", ENGLISH)
    assert refusal.text == (
        "Sorry, that belongs to Cox's Bazar office, which you don't manage, so I left it as it was. "
        "Its learning manager (Rahim Uddin) can do it."
    )
