"""The announcement job: decides which learning-day posts are due and plans them in the outbox.

For each scheduled day it finds the latest announcement offset whose moment has come and plans
one post per office channel with ``learning_days: true``, under the key
``learning-day:<id>:<offset>:<version>:<channel>``. Only the latest due offset is sent, so a day scheduled
three days ahead gets one announcement now rather than a burst of "in 7 days" and "in 3 days".
A changed day (new version) already got a change notice when it changed, so offsets that fell
before the change are not sent again for the new version; later ones are.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import AppConfig
from bot.features.learning_days import store, views
from bot.features.learning_days.rules import Offset, parse_offset
from bot.outbox import ToChannel
from storage.learning_days import LearningDay
from storage.models import OutboxMessage

if TYPE_CHECKING:
    from bot.core import Learnbot

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Summary:
    generated: int = 0
    planned: int = 0

    def describe(self) -> str:
        return f"{self.generated} recurring day(s) generated, {self.planned} announcement(s) planned"


def channels(config: AppConfig, office_id: str) -> list[str]:
    """The office's channels that take learning-day posts ([] for an office no longer in app.yaml,
    rather than :meth:`AppConfig.office`'s fallback to the default office's channels)."""
    for office in config.offices:
        if office.id == office_id:
            return [channel.key for channel in office.channels if channel.learning_days]
    return []


def offsets(config: AppConfig) -> list[Offset]:
    return [parse_offset(text) for text in config.learning_days.announce]


def due_offset(config: AppConfig, day: LearningDay, now: datetime) -> Offset | None:
    """The latest offset whose moment has come (and, for a changed day, came after the change)."""
    zone = ZoneInfo(day.timezone)
    announce_at = config.learning_days.announce_at
    best: tuple[datetime, Offset] | None = None
    for offset in offsets(config):
        moment = offset.moment(day.date, day.start_time, announce_at, zone)
        if moment > now:
            continue
        if day.changed_at is not None and moment <= day.changed_at:
            continue
        if best is None or moment > best[0]:
            best = (moment, offset)
    return best[1] if best else None


def announcement_key(day: LearningDay, offset: Offset, channel: str) -> str:
    """One key per day, offset, version and channel (the outbox is unique per key and platform,
    and an office may have several channels on the same platform)."""
    return f"learning-day:{day.id}:{offset.key}:{day.version}:{channel}"


async def run(app: Learnbot, session: AsyncSession) -> Summary:
    config: AppConfig = app.config
    now = app.clock.now()
    generated = await store.generate_recurring(session, config, now)
    planned = 0
    # Only days whose earliest announcement could have come: the rest wait for a later run.
    horizon = max(offset.days + (offset.hours + 23) // 24 for offset in offsets(config)) + 1
    for day in await store.upcoming(session, None, now, within_days=horizon):
        offset = due_offset(config, day, now)
        if offset is None:
            continue
        keys = channels(config, day.office_id)
        if not keys:
            logger.warning(
                "learning day %s: office %s has no channel with learning_days: true", day.id, day.office_id
            )
            continue
        wanted = {key: announcement_key(day, offset, key) for key in keys}
        done = set(
            await session.scalars(
                select(OutboxMessage.idempotency_key).where(
                    OutboxMessage.idempotency_key.in_(wanted.values())
                )
            )
        )
        if done.issuperset(wanted.values()):
            continue  # the usual case every 15 minutes: already planned, don't build it again
        item = await views.view(session, day)
        # A channel post speaks the office's language.
        office_language = app.i18n.choose(config.office(day.office_id).locale)
        message = views.announcement(office_language, config, item, now)
        for key, idempotency_key in wanted.items():
            results = await app.plan(
                session,
                destination=ToChannel(key),
                message=message,
                key=idempotency_key,
                expires_at=store.ends_at(day),  # an announcement is useless after its day
            )
            planned += sum(1 for result in results if result.created)
    return Summary(generated, planned)
