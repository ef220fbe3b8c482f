"""Conversation references in the database (``storage.models.ConversationRef``).

Teams lets a bot message someone only through a conversation it already knows, so every time a
person or a channel talks to Learnbot or installs it, where to reach them is stored: in the
database, not in memory (botbuilder's samples keep a dict and lose it on restart), so proactive
messages work after a restart and from any replica.

A person seen only in a team (a new member, an @mention in a channel) has no 1:1 conversation
yet; their reference then carries what is needed to *create* one (service URL, tenant, their
Teams user id) and no conversation id. The first proactive message creates the conversation and
stores its id.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import AppConfig
from storage.models import ConversationRef

PLATFORM = "teams"
PERSON = "person"
CHANNEL = "channel"


@dataclass(frozen=True, slots=True)
class StoredRef:
    """Where to reach a person or channel in Teams.

    ``conversation_id`` is empty for a person who has no 1:1 chat with the bot yet
    (``user_id`` and ``tenant_id`` let the bot create it)."""

    service_url: str
    tenant_id: str
    bot_id: str
    bot_name: str = ""
    conversation_id: str = ""
    conversation_type: str = "personal"
    user_id: str = ""
    user_name: str = ""
    channel_id: str = "msteams"
    source: str = ""
    """"roster" when known only from a team's roster (forgotten when the app leaves the team);
    empty when the person or channel talked to the bot or installed it."""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StoredRef:
        known = {name: data[name] for name in cls.__dataclass_fields__ if name in data}
        return cls(**known)


async def load(session: AsyncSession, owner_kind: str, owner_key: str) -> StoredRef | None:
    row = await _row(session, owner_kind, owner_key)
    return StoredRef.from_json(row.reference) if row else None


async def _row(session: AsyncSession, owner_kind: str, owner_key: str) -> ConversationRef | None:
    return await session.scalar(
        select(ConversationRef).where(
            ConversationRef.platform == PLATFORM,
            ConversationRef.owner_kind == owner_kind,
            ConversationRef.owner_key == owner_key,
        )
    )


async def save(
    session: AsyncSession,
    owner_kind: str,
    owner_key: str,
    ref: StoredRef,
    now: datetime,
    *,
    keep_existing_conversation: bool = False,
) -> StoredRef:
    """Insert or update the reference; returns what is stored.

    With ``keep_existing_conversation`` a reference that already has a conversation is not
    replaced by one without (an @mention in a channel must not forget a person's 1:1 chat)."""
    for _attempt in range(2):
        row = await _row(session, owner_kind, owner_key)
        if row is not None:
            current = StoredRef.from_json(row.reference)
            if keep_existing_conversation and current.conversation_id and not ref.conversation_id:
                return current
            if current != ref:
                row.reference, row.updated_at = ref.to_json(), now
            await session.flush()
            return ref
        try:
            async with session.begin_nested():
                session.add(
                    ConversationRef(
                        platform=PLATFORM,
                        owner_kind=owner_kind,
                        owner_key=owner_key,
                        reference=ref.to_json(),
                        updated_at=now,
                    )
                )
            return ref
        except IntegrityError:
            continue  # another replica stored it at the same moment: update theirs
    raise RuntimeError(f"could not store the Teams reference for {owner_kind} {owner_key}")


async def forget(session: AsyncSession, owner_kind: str, owner_key: str) -> None:
    """The app was uninstalled there: sends would only get 403s, so report "not reachable"."""
    row = await _row(session, owner_kind, owner_key)
    if row is not None:
        await session.delete(row)
        await session.flush()


def channel_key(config: AppConfig, teams_channel_id: str) -> str | None:
    """The ``app.yaml`` key of the channel with this Teams id (``19:…@thread.tacv2``)."""
    wanted = teams_channel_id.split(";", 1)[0]
    for office in config.offices:
        for channel in office.channels:
            if channel.teams and channel.teams == wanted:
                return channel.key
    return None


def teams_channel_id(config: AppConfig, key: str) -> str | None:
    for office in config.offices:
        for channel in office.channels:
            if channel.key == key:
                return channel.teams
    return None
