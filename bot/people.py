"""One person record across platforms: link a platform actor to it by account, then by email."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import AppConfig
from bot.events import Actor
from storage.models import Person, PlatformAccount

logger = logging.getLogger(__name__)


def office_for_email(config: AppConfig, email: str | None) -> str:
    """Learning managers belong to the office that lists them; others to the default office
    until an import or a profile says otherwise."""
    if email:
        for office in config.offices:
            if email.lower() in office.learning_managers:
                return office.id
    return config.office(config.default_office).id


async def person_by_email(session: AsyncSession, email: str) -> Person | None:
    return await session.scalar(select(Person).where(func.lower(Person.email) == email.lower()))


async def get_or_create_by_email(
    session: AsyncSession, config: AppConfig, email: str, now: datetime, display_name: str = ""
) -> Person:
    person = await person_by_email(session, email)
    if person is None:
        person = Person(
            email=email.lower(),
            display_name=display_name,
            office_id=office_for_email(config, email),
            created_at=now,
            updated_at=now,
        )
        session.add(person)
        await session.flush()
    return person


async def resolve_actor(session: AsyncSession, config: AppConfig, actor: Actor, now: datetime) -> Person:
    """The person behind ``actor``, created and linked on first sight.

    Profile fields the platform knows (name, time zone) fill blanks but never overwrite what
    the person or an import set explicitly; the platform's locale is kept up to date."""
    workspace = actor.workspace_id or ""
    account = await session.scalar(
        select(PlatformAccount).where(
            PlatformAccount.platform == actor.platform,
            PlatformAccount.workspace_id == workspace,
            PlatformAccount.external_id == actor.user_id,
        )
    )
    person: Person | None
    if account is not None:
        person = await session.get_one(Person, account.person_id)
        account.last_seen_at = now
    else:
        person = await person_by_email(session, actor.email) if actor.email else None
        if person is None:
            person = Person(
                email=actor.email.lower() if actor.email else None,
                display_name=actor.display_name or "",
                office_id=office_for_email(config, actor.email),
                created_at=now,
                updated_at=now,
            )
            session.add(person)
            await session.flush()
            logger.info("new person %s from %s", person.id, actor.platform)
        session.add(
            PlatformAccount(
                person_id=person.id,
                platform=actor.platform,
                workspace_id=workspace,
                external_id=actor.user_id,
                created_at=now,
                last_seen_at=now,
            )
        )
    _fill_blanks(person, actor, now)
    await session.flush()
    return person


def _fill_blanks(person: Person, actor: Actor, now: datetime) -> None:
    changed = False
    for attribute, value in (
        ("display_name", actor.display_name),
        ("timezone", actor.timezone),
        ("email", actor.email.lower() if actor.email else None),
    ):
        if value and not getattr(person, attribute):
            setattr(person, attribute, value)
            changed = True
    # The locale is the platform's, not the person's choice (that is ``language``), so it
    # follows the platform: someone who switches Teams to French gets French.
    if actor.locale and actor.locale != person.locale:
        person.locale = actor.locale
        changed = True
    if changed:
        person.updated_at = now


def person_timezone(config: AppConfig, person: Person) -> str:
    return person.timezone or config.office(person.office_id).timezone
