"""Who Learnbot can reach, per office and platform, and what an admin must do about the rest.

A reminder that never arrives is silent, so this makes it visible: ``learnbot reach`` prints it
and the learning manager's weekly summary lists their office's unreachable people. Everything is
read from the database (accounts, conversation references, the outbox); no platform is called.

On Slack a person is reachable once linked to a Slack account (by email, or when they write to
the bot). On Teams the bot also needs a conversation reference: the person installed the app, or
is a member of a team the app is installed in (the roster sync stores it).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import AppConfig, Channel
from bot.outbox import CONSOLE, EXPIRED, WAITING
from storage.models import ConversationRef, OutboxMessage, OutboxStatus, Person, PlatformAccount

NEEDS_REFERENCE = frozenset({"teams"})
"""Platforms where an account alone is not enough: the bot needs a stored conversation."""
LABELS = {"slack": "Slack", "teams": "Teams", CONSOLE: "console"}


@dataclass(frozen=True, slots=True)
class Unreachable:
    person_id: int
    name: str
    email: str | None
    office_id: str
    reasons: tuple[str, ...]
    """One "<Platform>: why; what to do" per enabled platform."""


@dataclass(slots=True)
class OfficeReach:
    office_id: str
    office_name: str
    people: int = 0
    reachable: Counter[str] = field(default_factory=Counter)
    unreachable: list[Unreachable] = field(default_factory=list)
    channels: list[str] = field(default_factory=list)
    waiting: int = 0
    expired: int = 0


def person_fix(platform: str, email: str | None, has_account: bool) -> str:
    """Why a person is not reachable on ``platform`` and the fix to apply."""
    label = LABELS.get(platform, platform)
    if not email:
        return f"{label}: no email is known for them; add it in the LMS export so they can be linked"
    if platform == "slack":
        return (
            f"{label}: no Slack user with {email} is linked; check the email in the LMS export, or "
            "invite them to the workspace (they are linked by email hourly, at delivery, and by "
            "`learnbot slack-link`)"
        )
    if platform == "teams" and has_account:
        return (
            f"{label}: the app was removed from their team or uninstalled by them; add Learnbot "
            "to a team they are in (or install it for them)"
        )
    if platform == "teams":
        return (
            f"{label}: {email} is in no team Learnbot is installed in; install the app in their "
            "team (or for everyone with a setup policy), or check their email/UPN, then run "
            "`learnbot teams-link`"
        )
    return f"{label}: not linked"


def channel_status(channel: Channel, platform: str, has_reference: bool, last_error: str | None) -> str:
    label = LABELS.get(platform, platform)
    if platform == CONSOLE:
        return f"{label}: ok"
    setting = getattr(channel, platform, None)
    if not setting:
        return f"{label}: no id in app.yaml (set channels[].{platform} for '{channel.key}')"
    if platform in NEEDS_REFERENCE and not has_reference:
        return (
            f"{label}: not reachable; add Learnbot to the team of this channel ({setting}), or check "
            f"channels[].{platform} in app.yaml"
        )
    if last_error:
        return f"{label}: last post failed: {last_error}"
    return f"{label}: ok ({setting})"


async def _linked(session: AsyncSession, platforms: Sequence[str]) -> dict[str, set[int]]:
    """Person ids with an account, and with a conversation reference, per platform."""
    found: dict[str, set[int]] = defaultdict(set)
    accounts = await session.execute(
        select(PlatformAccount.platform, PlatformAccount.person_id).where(
            PlatformAccount.platform.in_(platforms)
        )
    )
    for platform, person_id in accounts:
        found[f"account:{platform}"].add(person_id)
    references = await session.execute(
        select(ConversationRef.platform, ConversationRef.owner_key).where(
            ConversationRef.owner_kind == "person", ConversationRef.platform.in_(platforms)
        )
    )
    for platform, owner_key in references:
        if owner_key.isdigit():
            found[f"ref:{platform}"].add(int(owner_key))
    return found


def reaches(platform: str, person_id: int, linked: dict[str, set[int]]) -> bool:
    if platform == CONSOLE:
        return True
    if person_id not in linked[f"account:{platform}"]:
        return False
    return platform not in NEEDS_REFERENCE or person_id in linked[f"ref:{platform}"]


async def unreachable_people(
    session: AsyncSession, config: AppConfig, platforms: Sequence[str], office_id: str | None = None
) -> list[Unreachable]:
    """People reachable on none of ``platforms`` (optionally in one office), with the fixes."""
    linked = await _linked(session, platforms)
    default_office = config.office(None).id
    query = select(Person).order_by(Person.display_name, Person.email, Person.id)
    found: list[Unreachable] = []
    for person in await session.scalars(query):
        office = person.office_id or default_office
        if office_id is not None and office != office_id:
            continue
        if any(reaches(p, person.id, linked) for p in platforms):
            continue
        reasons = tuple(person_fix(p, person.email, person.id in linked[f"account:{p}"]) for p in platforms)
        found.append(Unreachable(person.id, person.name, person.email, office, reasons))
    return found


async def report(
    session: AsyncSession, config: AppConfig, platforms: Sequence[str], now: datetime
) -> list[OfficeReach]:
    """Per office: people, reachable per platform, the unreachable with fixes, channels, and
    the outbox's waiting and recently expired messages."""
    offices = {o.id: OfficeReach(o.id, o.name) for o in config.offices}
    default_office = config.office(None).id
    linked = await _linked(session, platforms)
    people = await session.execute(select(Person.id, Person.office_id))
    for person_id, office_id in people:
        entry = offices.get(office_id or default_office) or offices[default_office]
        entry.people += 1
        for platform in platforms:
            if reaches(platform, person_id, linked):
                entry.reachable[platform] += 1
    for item in await unreachable_people(session, config, platforms):
        (offices.get(item.office_id) or offices[default_office]).unreachable.append(item)
    await _outbox_counts(session, offices, default_office, now)
    for office in config.offices:
        for channel in office.channels:
            offices[office.id].channels.append(await _channel_line(session, channel, platforms))
    return list(offices.values())


async def _outbox_counts(
    session: AsyncSession, offices: dict[str, OfficeReach], default_office: str, now: datetime
) -> None:
    rows = await session.execute(
        select(Person.office_id, OutboxMessage.status, func.count())
        .join(Person, Person.id == OutboxMessage.person_id)
        .where(
            OutboxMessage.status.in_([WAITING, EXPIRED]),
            OutboxMessage.created_at >= now - timedelta(days=30),
        )
        .group_by(Person.office_id, OutboxMessage.status)
    )
    for office_id, status, count in rows:
        entry = offices.get(office_id or default_office) or offices[default_office]
        if status == WAITING:
            entry.waiting += int(count)
        else:
            entry.expired += int(count)


async def _channel_line(session: AsyncSession, channel: Channel, platforms: Sequence[str]) -> str:
    parts: list[str] = []
    for platform in platforms:
        reference = await session.scalar(
            select(ConversationRef.id).where(
                ConversationRef.platform == platform,
                ConversationRef.owner_kind == "channel",
                ConversationRef.owner_key == channel.key,
            )
        )
        last = await session.scalar(
            select(OutboxMessage)
            .where(
                OutboxMessage.destination_kind == "channel",
                OutboxMessage.destination_key == channel.key,
                OutboxMessage.platform == platform,
                OutboxMessage.status.in_([OutboxStatus.SENT, OutboxStatus.FAILED, WAITING, EXPIRED]),
            )
            .order_by(OutboxMessage.id.desc())
            .limit(1)
        )
        error = last.last_error if last is not None and last.status != OutboxStatus.SENT else None
        parts.append(channel_status(channel, platform, reference is not None, error))
    return f"{channel.name or channel.key}: " + " | ".join(parts)


def render(offices: Sequence[OfficeReach], platforms: Sequence[str], shown: int = 50) -> str:
    """Plain text for ``learnbot reach``."""
    names = ", ".join(LABELS.get(p, p) for p in platforms)
    lines = [f"Reach on {names}:"]
    for office in offices:
        per = ", ".join(f"{LABELS.get(p, p)} {office.reachable[p]}" for p in platforms)
        lines.append("")
        lines.append(f"{office.office_name} ({office.office_id}): {office.people} people; reachable: {per}")
        if office.unreachable:
            lines.append(f"  not reachable on any platform: {len(office.unreachable)}")
            for item in office.unreachable[:shown]:
                lines.append(
                    f"  - {item.name}"
                    + (f" <{item.email}>" if item.email and item.email != item.name else "")
                )
                lines.extend(f"      {reason}" for reason in item.reasons)
            if len(office.unreachable) > shown:
                lines.append(f"  ... and {len(office.unreachable) - shown} more")
        if office.waiting or office.expired:
            lines.append(
                f"  outbox: {office.waiting} message(s) waiting for someone to become reachable, "
                f"{office.expired} expired unreached in the last 30 days"
            )
        for channel in office.channels:
            lines.append(f"  channel {channel}")
    return "\n".join(lines)
