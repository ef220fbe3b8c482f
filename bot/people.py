"""One person record across platforms: link a platform actor to it by account, then by email;
and the one place that decides which office a person is in (:func:`assign_office`)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import AppConfig
from bot.events import Actor
from bot.outbox import recheck_waiting
from storage.models import Person, PlatformAccount

logger = logging.getLogger(__name__)


class OfficeSource(StrEnum):
    """Who placed a person in their office, strongest first.

    * ``import``: the LMS import's office column. The organisation's system of record wins
      over everything, including a manager's move (fix a wrong office in the LMS, or the next
      import moves the person back).
    * ``directory``: a chat profile field (``directory.slack_office_field``); also re-read
      automatically, so it too wins over people's choices.
    * ``manager``: a learning manager (or org admin) moved the person. It corrects a person's
      own choice, but cannot undo what an import or the directory says (that would flip back
      on the next sync); the manager is told where to fix it instead.
    * ``self``: the person chose with ``/learning office``, once, while still unplaced.
    * ``default``: nobody has said yet (``default_office``, or the office that lists a
      learning manager); every other source may overwrite it.
    """

    IMPORT = "import"
    DIRECTORY = "directory"
    MANAGER = "manager"
    SELF = "self"
    DEFAULT = "default"


_RANK = {
    OfficeSource.IMPORT: 1,
    OfficeSource.DIRECTORY: 2,
    OfficeSource.MANAGER: 3,
    OfficeSource.SELF: 4,
    OfficeSource.DEFAULT: 5,
}


@dataclass(frozen=True, slots=True)
class Placement:
    """What :func:`assign_office` did: ``applied`` False means a stronger source had already
    placed the person (``kept_by``) and nothing changed."""

    applied: bool
    moved: bool
    previous_office: str | None
    kept_by: OfficeSource | None = None


def office_source(person: Person) -> OfficeSource:
    try:
        return OfficeSource(person.office_source)
    except ValueError:
        return OfficeSource.DEFAULT


def may_place(person: Person, source: OfficeSource) -> bool:
    """Whether ``source`` may set this person's office now (see :class:`OfficeSource`)."""
    current = office_source(person)
    if source is OfficeSource.SELF:
        return current is OfficeSource.DEFAULT
    return _RANK[source] <= _RANK[current]


def assign_office(
    config: AppConfig, person: Person, office_id: str, source: OfficeSource | str, now: datetime
) -> Placement:
    """Place ``person`` in ``office_id`` on behalf of ``source``, if the precedence allows.

    The single rule for every caller: the LMS import (``source="import"``), the directory
    look-up, ``/learning office`` and a manager's move. ``office_id`` must be an office of
    ``config`` (resolve labels with :meth:`AppConfig.office_for_label` first)."""
    source = OfficeSource(source)
    if office_id not in {office.id for office in config.offices}:
        raise ValueError(f"'{office_id}' is not an office in app.yaml")
    previous = person.office_id
    if not may_place(person, source):
        return Placement(applied=False, moved=False, previous_office=previous, kept_by=office_source(person))
    person.office_id = office_id
    person.office_source = source.value
    person.updated_at = now
    if previous != office_id:
        logger.info("person %s placed in %s by %s (was %s)", person.id, office_id, source, previous)
    return Placement(applied=True, moved=previous != office_id, previous_office=previous)


async def settle_offices(session: AsyncSession, config: AppConfig) -> int:
    """Give the default office to people with no office or an office no longer in app.yaml
    (run at start, after the migrations): everyone keeps working after an upgrade."""
    default = config.office(config.default_office).id
    known = [office.id for office in config.offices]
    result = await session.execute(
        update(Person)
        .where(or_(Person.office_id.is_(None), Person.office_id.not_in(known)))
        .values(office_id=default, office_source=OfficeSource.DEFAULT.value)
    )
    count = int(getattr(result, "rowcount", 0) or 0)
    if count:
        logger.info(
            "%d people had no known office; placed in %s until an import or a command says", count, default
        )
    return count


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
        await recheck_waiting(session, [person.id], now)  # reachable now: release what waits
    _fill_blanks(person, actor, now)
    _place_from_directory(config, person, actor, now)
    await session.flush()
    return person


def _place_from_directory(config: AppConfig, person: Person, actor: Actor, now: datetime) -> None:
    """The chat directory's office field, when the adapter read one (source ``directory``)."""
    if not actor.office_label:
        return
    office = config.office_for_label(actor.office_label)
    if office is None:
        logger.warning(
            "%s profile of person %s says office %r, which matches no office id, name or alias in app.yaml",
            actor.platform,
            person.id,
            actor.office_label,
        )
        return
    assign_office(config, person, office.id, OfficeSource.DIRECTORY, now)


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
