"""Who a manager acts for, and who receives what a person sends to "their learning manager".

Every manager-only command and button asks :func:`manages` before touching another person's
data or an office's learning days; org admins (``org_admins`` in app.yaml) manage every office.
Help requests, self-reported completions and suggestions go to :func:`recipients_for`: the
person's own office's learning managers, never the sender themselves.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import AppConfig
from bot.i18n import Translator
from bot.messages import Message, plain
from bot.people import get_or_create_by_email
from storage.models import Person

logger = logging.getLogger(__name__)


def manages(config: AppConfig, person: Person, office_id: str | None) -> bool:
    """Whether ``person`` may act as a manager on ``office_id``'s people and learning days."""
    return config.office(office_id).id in config.managed_office_ids(person.email)


def is_manager(config: AppConfig, person: Person) -> bool:
    """A learning manager of some office, or an org admin."""
    return bool(config.managed_office_ids(person.email))


async def names_for(session: AsyncSession, emails: Iterable[str]) -> list[str]:
    """The names replies show for these emails: a known person's name, else the email."""
    wanted = [email.lower() for email in emails]
    if not wanted:
        return []
    people = await session.scalars(select(Person).where(func.lower(Person.email).in_(wanted)))
    known = {(p.email or "").lower(): p.name for p in people}
    return [known.get(email, email) for email in wanted]


async def other_office_refusal(
    session: AsyncSession, config: AppConfig, office_id: str | None, t: Translator
) -> Message:
    """The one polite refusal for a manager acting on an office they don't manage. It names
    the office and who can help, and says nothing about the people or days in it."""
    office = config.office(office_id)
    names = await names_for(session, office.learning_managers)
    if names:
        return plain(
            t._(
                "Sorry, that belongs to {office}, which you don't manage, so I left it as it was. "
                "Its learning manager ({names}) can do it.",
                office=office.name,
                names=", ".join(names),
            )
        )
    return plain(
        t._(
            "Sorry, that belongs to {office}, which you don't manage, so I left it as it was.",
            office=office.name,
        )
    )


@dataclass(frozen=True, slots=True)
class Recipients:
    """Who receives something a person sends to their learning manager. ``people`` is empty
    when nobody can (then ``nobody`` is the honest message to show the sender)."""

    people: list[Person]
    office_name: str

    def nobody(self, t: Translator) -> str:
        return t._(
            "I couldn't pass this on: {office} has no other learning manager and no organisation "
            "admin is set up, so nobody would receive it. Please tell whoever runs Learnbot "
            "(`learning_managers` or `org_admins` in app.yaml).",
            office=self.office_name,
        )


async def recipients_for(
    session: AsyncSession, config: AppConfig, person: Person, now: datetime
) -> Recipients:
    """The learning managers who should receive a help request, a self-report or a suggestion
    from ``person``: their own office's managers except themselves; when that leaves nobody
    (a sole manager's own request, an office without one), the org admins except themselves."""
    office = config.office(person.office_id)
    me = (person.email or "").lower()
    emails = [email for email in office.learning_managers if email != me]
    if not emails:
        emails = [email for email in config.org_admins if email != me]
    people = [await get_or_create_by_email(session, config, email, now) for email in emails]
    if not people:
        logger.warning("nobody can receive messages from person %s (office %s)", person.id, office.id)
    return Recipients(people=people, office_name=office.name)
