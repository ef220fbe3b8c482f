"""Teams rosters: who is in the teams Learnbot is installed in, and which channels they have.

Teams lets a bot write to a person who shares a team with it (creating the 1:1 chat on first
use) and post in any channel of that team, without anyone installing the app personally. So
when the app is installed in a team, on a schedule and with ``learnbot teams-link``, this reads
the team's members (``GET /v3/conversations/{team}/pagedmembers``, what botbuilder's
``TeamsInfo.get_paged_members`` calls) and channels (``GET /v3/teams/{team}/conversations``,
``TeamsInfo.get_team_channels``), and stores:

* every member (``teams_members``), linked to a person by email or UPN when Learnbot knows them,
  with the reference needed to open a 1:1 chat (``conversation_refs``, no conversation id yet);
* every channel (``teams_channels``), and a reference for each channel configured in app.yaml.

Change events keep it current (members added and removed, channels created, renamed and
deleted, the app removed), and a person imported later is linked from the stored roster when
their first message is delivered (:meth:`TeamsRoster.link_person`), with no roster call.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from botbuilder.schema.teams import ChannelInfo, TeamsChannelAccount
from botframework.connector.teams import TeamsConnectorClient
from msrest.exceptions import ClientRequestError, HttpOperationError
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.teams import refs
from adapters.teams.refs import StoredRef
from adapters.teams.sender import RETRYABLE, TeamsSender, http_status
from bot.config import AppConfig
from bot.outbox import WAITING, recheck_waiting
from storage.models import ConversationRef, OutboxMessage, Person, PlatformAccount
from storage.teams import TeamsChannel, TeamsMember, TeamsTeam

logger = logging.getLogger(__name__)

PLATFORM = "teams"
PAGE_SIZE = 500  # the largest page Teams serves
MAX_PAGES = 400
SYNC_EVERY_SECONDS = 6 * 3600.0
ROSTER = "roster"
"""``StoredRef.source`` of a reference known from a team roster (forgotten with the team)."""


@dataclass(frozen=True, slots=True)
class TeamInfo:
    """Where a team lives, from the activity that installed the app in it."""

    team_id: str
    name: str
    tenant_id: str
    service_url: str
    bot_id: str
    bot_name: str = ""


@dataclass(slots=True)
class SyncReport:
    team: str
    members: int = 0
    linked: int = 0
    unmatched: list[str] = field(default_factory=list)
    channels: int = 0
    configured_channels: list[str] = field(default_factory=list)
    error: str | None = None
    retryable: bool = False
    """The read failed for a reason that passes (429, 5xx, the network): try again soon."""

    def __str__(self) -> str:
        if self.error:
            return f"team {self.team}: could not read the roster ({self.error})"
        text = (
            f"team {self.team}: {self.members} member(s), {self.linked} linked to people Learnbot knows; "
            f"{self.channels} channel(s)"
        )
        if self.configured_channels:
            text += f", reachable from app.yaml: {', '.join(self.configured_channels)}"
        return text


class TeamsRoster:
    def __init__(
        self,
        sender: TeamsSender,
        sessions: async_sessionmaker[AsyncSession],
        config: AppConfig,
        now: Callable[[], datetime],
        page_size: int = PAGE_SIZE,
    ) -> None:
        self.sender = sender
        self.sessions = sessions
        self.config = config
        self.now = now
        self.page_size = page_size

    # -- installing and syncing ---------------------------------------------------------------
    async def install(self, team: TeamInfo) -> SyncReport:
        """The app was added to a team: remember the team, then read its roster."""
        now = self.now()
        async with self.sessions() as session, session.begin():
            row = await session.get(TeamsTeam, team.team_id)
            if row is None:
                row = TeamsTeam(team_id=team.team_id, installed_at=now)
                session.add(row)
            row.name = team.name or row.name or ""
            row.tenant_id, row.service_url = team.tenant_id, team.service_url
            row.bot_id, row.bot_name, row.installed = team.bot_id, team.bot_name, True
        return await self.sync_team(team.team_id)

    async def sync_all(self) -> list[SyncReport]:
        async with self.sessions() as session:
            ids = list(await session.scalars(select(TeamsTeam.team_id).where(TeamsTeam.installed)))
        return [await self.sync_team(team_id) for team_id in ids]

    async def sync_team(self, team_id: str) -> SyncReport:
        """Read the team's members (paged) and channels, and store them. Roster calls are made
        outside any database transaction; a failure is recorded on the team and reported."""
        async with self.sessions() as session:
            team = await session.get(TeamsTeam, team_id)
            if team is None or not team.installed:
                return SyncReport(team=team_id, error="Learnbot is not installed in this team")
            info = _info(team)
        report = SyncReport(team=info.name or team_id)
        try:
            members = await self._members(info)
            channels = await self._channels(info)
        except (HttpOperationError, ClientRequestError, OSError, TimeoutError) as exc:
            report.error = _describe(exc)
            status = http_status(exc)[0] if isinstance(exc, HttpOperationError) else None
            report.retryable = status is None or status in RETRYABLE
            async with self.sessions() as session, session.begin():
                stored = await session.get_one(TeamsTeam, team_id)
                stored.last_error = report.error
            logger.warning("Teams roster of %s: %s", team_id, report.error)
            return report
        async with self.sessions() as session, session.begin():
            await self._store_members(session, info, members, report)
            await self._store_channels(session, info, channels, report)
            stored = await session.get_one(TeamsTeam, team_id)
            stored.synced_at, stored.last_error = self.now(), None
        logger.info("Teams roster: %s", report)
        return report

    async def _members(self, team: TeamInfo) -> list[TeamsChannelAccount]:
        client = await self.sender.connector(team.service_url)
        members: list[TeamsChannelAccount] = []
        token: str | None = None
        for _ in range(MAX_PAGES):
            page = await client.conversations.get_teams_conversation_paged_members(
                team.team_id, self.page_size, token
            )
            members.extend(page.members or [])
            token = page.continuation_token or None
            if not token:
                break
        return members

    async def _channels(self, team: TeamInfo) -> list[ChannelInfo]:
        """``TeamsInfo.get_team_channels``'s call. botbuilder only has a blocking client for
        it, so it runs in a thread rather than stalling the event loop."""
        client = await self.sender.connector(team.service_url)
        teams_client = TeamsConnectorClient(client.config.credentials, team.service_url)

        def read() -> list[ChannelInfo]:
            return list(teams_client.teams.get_teams_channels(team.team_id).conversations or [])

        return await asyncio.to_thread(read)

    async def _store_members(
        self,
        session: AsyncSession,
        team: TeamInfo,
        members: Sequence[TeamsChannelAccount],
        report: SyncReport,
    ) -> None:
        now = self.now()
        existing = {
            m.user_id: m
            for m in await session.scalars(select(TeamsMember).where(TeamsMember.team_id == team.team_id))
        }
        current: set[str] = set()
        for account in members:
            if not account.id or account.id in current:
                continue
            current.add(account.id)
            member = existing.get(account.id)
            if member is None:
                member = existing[account.id] = TeamsMember(team_id=team.team_id, user_id=account.id)
                session.add(member)
            _fill(member, account, now)
        for user_id in [u for u in existing if u not in current]:
            await self._forget_member(session, existing.pop(user_id))
        await session.flush()
        linked = await link_members(session, {team.team_id: team}, list(existing.values()), now)
        report.members, report.linked = len(current), len(linked)
        report.unmatched = [m.email or m.upn or m.name for m in existing.values() if m.person_id is None]
        await recheck_waiting(session, linked, now)

    async def _store_channels(
        self, session: AsyncSession, team: TeamInfo, channels: Sequence[ChannelInfo], report: SyncReport
    ) -> None:
        now = self.now()
        seen: set[str] = set()
        for channel in channels:
            if not channel.id:
                continue
            seen.add(channel.id)
            await self.channel_changed(session, team, channel.id, channel.name or "", now)
            key = refs.channel_key(self.config, channel.id)
            if key:
                report.configured_channels.append(key)
        stale = await session.scalars(
            select(TeamsChannel).where(
                TeamsChannel.team_id == team.team_id, TeamsChannel.channel_id.not_in(seen)
            )
        )
        for channel_row in list(stale):
            await self._forget_channel(session, channel_row.channel_id)
        report.channels = len(seen)

    # -- one change at a time (conversationUpdate events) ----------------------------------
    async def channel_changed(
        self, session: AsyncSession, team: TeamInfo, channel_id: str, name: str, now: datetime
    ) -> None:
        """A channel created or renamed (or seen in a sync): stored, and reachable when app.yaml
        names it. Its id never changes on a rename, so app.yaml stays right."""
        row = await session.get(TeamsChannel, channel_id)
        if row is None:
            row = TeamsChannel(channel_id=channel_id, team_id=team.team_id, seen_at=now)
            session.add(row)
        row.name = name or row.name or ("General" if channel_id == team.team_id else "")
        row.team_id, row.seen_at = team.team_id, now
        key = refs.channel_key(self.config, channel_id)
        if key is not None:
            await refs.save(session, refs.CHANNEL, key, _channel_ref(team, channel_id), now)
            await _wake_channel(session, key, now)

    async def channel_deleted(self, session: AsyncSession, channel_id: str) -> None:
        await self._forget_channel(session, channel_id)

    async def member_added(self, session: AsyncSession, team: TeamInfo, account: TeamsChannelAccount) -> None:
        now = self.now()
        member = await session.scalar(
            select(TeamsMember).where(TeamsMember.team_id == team.team_id, TeamsMember.user_id == account.id)
        )
        if member is None:
            member = TeamsMember(team_id=team.team_id, user_id=account.id)
            session.add(member)
        _fill(member, account, now)
        await session.flush()
        linked = await link_members(session, {team.team_id: team}, [member], now)
        await recheck_waiting(session, linked, now)

    async def member_removed(self, session: AsyncSession, team_id: str, user_id: str) -> None:
        member = await session.scalar(
            select(TeamsMember).where(TeamsMember.team_id == team_id, TeamsMember.user_id == user_id)
        )
        if member is not None:
            await self._forget_member(session, member)

    async def team_removed(self, session: AsyncSession, team_id: str) -> None:
        """The app was removed from the team (or the team deleted): its members and channels are
        no longer reachable through it."""
        team = await session.get(TeamsTeam, team_id)
        if team is None:
            return
        team.installed = False
        for member in list(await session.scalars(select(TeamsMember).where(TeamsMember.team_id == team_id))):
            await self._forget_member(session, member)
        for channel in list(
            await session.scalars(select(TeamsChannel).where(TeamsChannel.team_id == team_id))
        ):
            await self._forget_channel(session, channel.channel_id)
        logger.info("Teams: Learnbot was removed from team %s", team_id)

    async def team_renamed(self, session: AsyncSession, team: TeamInfo) -> None:
        """Renamed, restored or unarchived: keep the name; a restored team is synced again on
        the next scheduled sync (``learnbot teams-link`` does it now)."""
        row = await session.get(TeamsTeam, team.team_id)
        if row is not None:
            row.name = team.name or row.name
            row.installed = True

    # -- linking a person later (at delivery) ----------------------------------------------
    async def link_person(self, person_id: int, email: str | None) -> bool:
        """A person not reachable yet: link them from a stored roster by email or UPN."""
        if not email:
            return False
        async with self.sessions() as session, session.begin():
            member = await session.scalar(
                select(TeamsMember)
                .join(TeamsTeam, TeamsTeam.team_id == TeamsMember.team_id)
                .where(
                    TeamsTeam.installed,
                    or_(
                        func.lower(TeamsMember.email) == email.lower(),
                        func.lower(TeamsMember.upn) == email.lower(),
                    ),
                )
                .limit(1)
            )
            if member is None:
                return False
            team = await session.get_one(TeamsTeam, member.team_id)
            return bool(await link_members(session, {team.team_id: _info(team)}, [member], self.now()))

    async def link_channel(self, key: str) -> bool:
        """A configured channel with no reference yet: reachable if a synced team has it."""
        channel_id = refs.teams_channel_id(self.config, key)
        if not channel_id:
            return False
        async with self.sessions() as session, session.begin():
            row = await session.get(TeamsChannel, channel_id.split(";", 1)[0])
            team = await session.get(TeamsTeam, row.team_id) if row else None
            if row is None or team is None or not team.installed:
                return False
            await refs.save(session, refs.CHANNEL, key, _channel_ref(_info(team), row.channel_id), self.now())
        return True

    # -- helpers ---------------------------------------------------------------------------
    async def _forget_member(self, session: AsyncSession, member: TeamsMember) -> None:
        await _forget_member(session, member)

    async def _forget_channel(self, session: AsyncSession, channel_id: str) -> None:
        await session.execute(delete(TeamsChannel).where(TeamsChannel.channel_id == channel_id))
        key = refs.channel_key(self.config, channel_id)
        if key is not None:
            await refs.forget(session, refs.CHANNEL, key)


CHUNK = 500  # values per IN (...): far below every database's bound-parameter limit


def _chunks(values: Sequence[str]) -> list[Sequence[str]]:
    return [values[start : start + CHUNK] for start in range(0, len(values), CHUNK)]


async def link_members(
    session: AsyncSession, teams: dict[str, TeamInfo], members: Sequence[TeamsMember], now: datetime
) -> list[int]:
    """Link roster members to the people with their email or UPN, in a few set-based queries
    (a 5,000-member team is linked in one go): a Teams account for each, and the reference to
    open a 1:1 chat. Returns the ids of the people linked."""
    people = await _people_by_address(session, [a for m in members for a in (m.email, m.upn) if a])
    pairs = [(m, p) for m in members if (p := people.get(m.email) or people.get(m.upn)) is not None]
    if not pairs:
        return []
    owners = await _account_owners(session, pairs, teams)
    refs_by_person = await _person_refs(session, [str(p.id) for _, p in pairs])
    linked: list[int] = []
    for member, person in pairs:
        team = teams[member.team_id]
        external = member.aad_object_id or member.user_id
        owner = owners.get((team.tenant_id, external))
        if owner is not None and owner != person.id:
            continue  # this Teams user already belongs to someone else: their own login decides
        if owner is None:
            owners[(team.tenant_id, external)] = person.id
            session.add(
                PlatformAccount(
                    person_id=person.id,
                    platform=PLATFORM,
                    workspace_id=team.tenant_id,
                    external_id=external,
                    created_at=now,
                    last_seen_at=person.created_at,  # never seen: an active platform stays preferred
                )
            )
        member.person_id = person.id
        _remember(session, refs_by_person, person.id, _member_ref(team, member), now)
        if not person.display_name and member.name:
            person.display_name = member.name
        linked.append(person.id)
    await session.flush()
    return linked


async def _people_by_address(session: AsyncSession, addresses: Sequence[str]) -> dict[str, Person]:
    found: dict[str, Person] = {}
    for chunk in _chunks(sorted({a.lower() for a in addresses})):
        for person in await session.scalars(select(Person).where(func.lower(Person.email).in_(chunk))):
            found.setdefault((person.email or "").lower(), person)
    return found


async def _account_owners(
    session: AsyncSession, pairs: Sequence[tuple[TeamsMember, Person]], teams: dict[str, TeamInfo]
) -> dict[tuple[str, str], int]:
    externals = sorted({m.aad_object_id or m.user_id for m, _ in pairs})
    owners: dict[tuple[str, str], int] = {}
    for chunk in _chunks(externals):
        rows = await session.execute(
            select(
                PlatformAccount.workspace_id, PlatformAccount.external_id, PlatformAccount.person_id
            ).where(PlatformAccount.platform == PLATFORM, PlatformAccount.external_id.in_(chunk))
        )
        owners.update({(tenant, external): person_id for tenant, external, person_id in rows})
    return owners


async def _person_refs(session: AsyncSession, owner_keys: Sequence[str]) -> dict[str, ConversationRef]:
    found: dict[str, ConversationRef] = {}
    for chunk in _chunks(sorted(set(owner_keys))):
        rows = await session.scalars(
            select(ConversationRef).where(
                ConversationRef.platform == PLATFORM,
                ConversationRef.owner_kind == refs.PERSON,
                ConversationRef.owner_key.in_(chunk),
            )
        )
        found.update({row.owner_key: row for row in rows})
    return found


def _member_ref(team: TeamInfo, member: TeamsMember) -> StoredRef:
    return StoredRef(
        service_url=team.service_url,
        tenant_id=team.tenant_id,
        bot_id=team.bot_id,
        bot_name=team.bot_name,
        user_id=member.user_id,
        user_name=member.name,
        source=ROSTER,
    )


def _remember(
    session: AsyncSession, known: dict[str, ConversationRef], person_id: int, ref: StoredRef, now: datetime
) -> None:
    """Store the roster reference, never replacing one that has a 1:1 conversation already."""
    row = known.get(str(person_id))
    if row is None:
        row = ConversationRef(
            platform=PLATFORM,
            owner_kind=refs.PERSON,
            owner_key=str(person_id),
            reference=ref.to_json(),
            updated_at=now,
        )
        session.add(row)
        known[str(person_id)] = row
    elif not StoredRef.from_json(row.reference).conversation_id and row.reference != ref.to_json():
        row.reference, row.updated_at = ref.to_json(), now


async def _forget_member(session: AsyncSession, member: TeamsMember) -> None:
    """Left the team: a person known only from rosters is reachable no longer, unless another
    installed team still has them (someone who installed the app personally keeps their chat)."""
    person_id = member.person_id
    await session.delete(member)
    await session.flush()
    if person_id is None:
        return
    elsewhere = await session.scalar(
        select(TeamsMember.id)
        .join(TeamsTeam, TeamsTeam.team_id == TeamsMember.team_id)
        .where(TeamsMember.person_id == person_id, TeamsTeam.installed)
        .limit(1)
    )
    ref = await refs.load(session, refs.PERSON, str(person_id))
    if elsewhere is None and ref is not None and ref.source == ROSTER:
        await refs.forget(session, refs.PERSON, str(person_id))


def _info(team: TeamsTeam) -> TeamInfo:
    return TeamInfo(team.team_id, team.name, team.tenant_id, team.service_url, team.bot_id, team.bot_name)


def _fill(member: TeamsMember, account: TeamsChannelAccount, now: datetime) -> None:
    member.aad_object_id = account.aad_object_id or member.aad_object_id or ""
    member.email = (account.email or "").strip().lower() or member.email or ""
    member.upn = (account.user_principal_name or "").strip().lower() or member.upn or ""
    member.name = account.name or member.name or ""
    member.seen_at = now


def _channel_ref(team: TeamInfo, channel_id: str) -> StoredRef:
    return StoredRef(
        service_url=team.service_url,
        tenant_id=team.tenant_id,
        bot_id=team.bot_id,
        bot_name=team.bot_name,
        conversation_id=channel_id,
        conversation_type="channel",
        source=ROSTER,
    )


async def _wake_channel(session: AsyncSession, key: str, now: datetime) -> None:
    """Posts waiting for this channel are checked again at once."""
    await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.status == WAITING,
            OutboxMessage.destination_kind == "channel",
            OutboxMessage.destination_key == key,
        )
        .values(next_attempt_at=now)
        .execution_options(synchronize_session=False)
    )


def _describe(exc: Exception) -> str:
    if isinstance(exc, HttpOperationError):
        status, _ = http_status(exc)
        if status in (401, 403):
            return f"HTTP {status}: Learnbot may not read this team (was it removed?)"
        if status == 404:
            return "HTTP 404: Teams does not know this team any more"
        return f"HTTP {status}"
    return f"{type(exc).__name__}: {exc}"


async def link_stored_rosters(
    sessions: async_sessionmaker[AsyncSession], now: Callable[[], datetime]
) -> tuple[int, int]:
    """Link stored roster members nobody was matched to yet (people imported since the last
    sync); returns (newly linked, still unmatched). No Teams call is made."""
    async with sessions() as session, session.begin():
        unlinked = list(
            await session.scalars(
                select(TeamsMember)
                .join(TeamsTeam, TeamsTeam.team_id == TeamsMember.team_id)
                .where(TeamsMember.person_id.is_(None), TeamsTeam.installed)
            )
        )
        teams = {t.team_id: _info(t) for t in await session.scalars(select(TeamsTeam))}
        linked = await link_members(session, teams, unlinked, now())
        await recheck_waiting(session, linked, now())
    return len(linked), len(unlinked) - len(linked)
