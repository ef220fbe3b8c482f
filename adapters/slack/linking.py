"""Link people Learnbot already knows (from an LMS import, Teams, a manager's command) to their
Slack accounts by email, before they ever talk to the bot.

The outbox plans a direct message on a platform where the person has a linked account; a
colleague imported from the LMS has none until they write to the bot. This walks ``users.list``
(``users:read`` + ``users:read.email``) and adds the missing ``PlatformAccount`` rows, so their
course reminders reach them in Slack. It runs when the server starts, every
``LINK_EVERY_SECONDS`` after that, and on demand with ``learnbot slack-link``.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.slack.directory import PLATFORM, NotInstalled, SlackClients, actor_from_user
from bot.clock import Clock
from bot.outbox import recheck_waiting
from storage.models import Person, PlatformAccount

logger = logging.getLogger(__name__)

LINK_EVERY_SECONDS = 3600.0
PAGE_SIZE = 200
MAX_PAGES = 500


@dataclass(frozen=True, slots=True)
class LinkReport:
    slack_users: int
    linked: int
    already_linked: int

    def __str__(self) -> str:
        return (
            f"{self.linked} person(s) newly linked to Slack, {self.already_linked} already linked, "
            f"{self.slack_users} Slack user(s) with an email"
        )


async def slack_emails(
    client: AsyncWebClient, names: dict[str, str] | None = None
) -> dict[str, tuple[str, str]]:
    """email -> (team id, user id) of every active human in the workspace; with ``names``,
    also email -> full name (for people imported without one)."""
    found: dict[str, tuple[str, str]] = {}
    cursor: str | None = None
    for _ in range(MAX_PAGES):
        response = await client.users_list(limit=PAGE_SIZE, cursor=cursor)
        for user in response.get("members") or []:
            if user.get("deleted") or user.get("is_bot") or user.get("id") == "USLACKBOT":
                continue
            email = str((user.get("profile") or {}).get("email") or "").strip().lower()
            if email:
                found[email] = (str(user.get("team_id") or ""), str(user["id"]))
                if names is not None:
                    names[email] = actor_from_user(user, None).display_name or ""
        cursor = ((response.get("response_metadata") or {}).get("next_cursor")) or None
        if not cursor:
            break
    return found


async def link_people(
    sessions: async_sessionmaker[AsyncSession], client: AsyncWebClient, clock: Clock
) -> LinkReport:
    names: dict[str, str] = {}
    users = await slack_emails(client, names)
    linked = already = 0
    newly: list[int] = []
    now = clock.now()
    async with sessions() as session, session.begin():
        people = await session.scalars(select(Person).where(func.lower(Person.email).in_(list(users))))
        for person in people:
            team, user_id = users[(person.email or "").lower()]
            if not person.display_name and names.get((person.email or "").lower()):
                # imported without a name: replies say "Amina Diallo", not amina@example.org
                person.display_name = names[(person.email or "").lower()]
                person.updated_at = now
            if await _owner(session, team, user_id) is not None:
                already += 1
                continue
            _add_account(session, person, team, user_id, now)
            linked += 1
            newly.append(person.id)
        await session.flush()
        await recheck_waiting(session, newly, now)  # their waiting reminders go out now
    report = LinkReport(slack_users=len(users), linked=linked, already_linked=already)
    logger.info("Slack linking: %s", report)
    return report


async def link_by_email(
    sessions: async_sessionmaker[AsyncSession],
    client: AsyncWebClient,
    clock: Clock,
    person_id: int,
    email: str,
) -> bool:
    """Link one person with ``users.lookupByEmail`` (at delivery, for someone not linked yet).
    False when Slack has no active user with that email, or cannot say right now."""
    try:
        response = await client.users_lookupByEmail(email=email)
    except SlackApiError as exc:
        error = exc.response.get("error")
        if error != "users_not_found":
            logger.warning("users.lookupByEmail for person %s failed: %s", person_id, error)
        return False
    user = response.get("user") or {}
    if not user.get("id") or user.get("deleted") or user.get("is_bot"):
        return False
    team, user_id = str(user.get("team_id") or ""), str(user["id"])
    async with sessions() as session, session.begin():
        existing = await _owner(session, team, user_id)
        if existing is not None:
            return existing == person_id
        _add_account(session, await session.get_one(Person, person_id), team, user_id, clock.now())
    logger.info("linked person %s to Slack user %s by email", person_id, user_id)
    return True


async def _owner(session: AsyncSession, team: str, user_id: str) -> int | None:
    """The person this Slack user is linked to, if any."""
    return await session.scalar(
        select(PlatformAccount.person_id).where(
            PlatformAccount.platform == PLATFORM,
            PlatformAccount.workspace_id == team,
            PlatformAccount.external_id == user_id,
        )
    )


def _add_account(session: AsyncSession, person: Person, team: str, user_id: str, now: datetime) -> None:
    session.add(
        PlatformAccount(
            person_id=person.id,
            platform=PLATFORM,
            workspace_id=team,
            external_id=user_id,
            created_at=now,
            # never "seen": a platform where the person was active stays preferred
            last_seen_at=person.created_at,
        )
    )


async def keep_linking(
    sessions: async_sessionmaker[AsyncSession], clients: SlackClients, clock: Clock
) -> None:
    """Link now and then every ``LINK_EVERY_SECONDS``; errors are logged and retried later."""
    while True:
        try:
            await link_people(sessions, await clients.for_team(None), clock)
        except NotInstalled as exc:
            logger.info("not linking Slack users yet: %s", exc)
        except SlackApiError as exc:
            logger.warning(
                "could not link Slack users by email (%s); is users:read.email granted?",
                exc.response.get("error"),
            )
        except Exception:
            logger.exception("linking Slack users failed; will try again")
        await asyncio.sleep(LINK_EVERY_SECONDS)
