"""Learning days: the days themselves, their agenda sessions and who is coming.

Dates and times are the office's local wall-clock values (a learning day is "Thursday 7 January,
09:00–16:00 in Nairobi"), not UTC instants: that is what people agree on, and it stays right
when a time zone's rules change. Each day keeps the office's time zone it was planned in, so
"is it over?" needs no configuration. Code converts to UTC only to decide when to announce.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, String, Time, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base


class DayStatus(StrEnum):
    """``LearningDay.status`` (the stored values)."""

    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


SCHEDULED = DayStatus.SCHEDULED
CANCELLED = DayStatus.CANCELLED

RSVP_ANSWERS = ("going", "maybe", "no")


class LearningDay(Base):
    """One learning day in one office.

    ``version`` starts at 1 and goes up on every change, so announcements keyed by version are
    sent again for the changed day while the old ones are never repeated. A day generated from a
    recurring rule keeps the occurrence it came from in (``rule_id``, ``rule_date``), so running
    the generator again (or rescheduling the day) never creates a duplicate.
    """

    __tablename__ = "learning_days"
    __table_args__ = (UniqueConstraint("office_id", "rule_id", "rule_date", name="uq_learning_days_rule"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[str] = mapped_column(String(64), index=True)
    timezone: Mapped[str] = mapped_column(String(64))
    date: Mapped[dt.date] = mapped_column(Date, index=True)
    start_time: Mapped[dt.time] = mapped_column(Time)
    end_time: Mapped[dt.time] = mapped_column(Time)
    title: Mapped[str] = mapped_column(String(200))
    theme: Mapped[str] = mapped_column(String(500), default="")
    place: Mapped[str] = mapped_column(String(300), default="")
    online_url: Mapped[str] = mapped_column(String(1000), default="")
    status: Mapped[str] = mapped_column(String(16), default=SCHEDULED)
    rule_id: Mapped[str | None] = mapped_column(String(64))
    rule_date: Mapped[dt.date | None] = mapped_column(Date)
    version: Mapped[int] = mapped_column(default=1)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime]
    changed_at: Mapped[dt.datetime | None]
    cancelled_at: Mapped[dt.datetime | None]


class AgendaSession(Base):
    """A session on a learning day's agenda (a talk, a workshop, a skillshare offer invited on)."""

    __tablename__ = "learning_day_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    day_id: Mapped[int] = mapped_column(ForeignKey("learning_days.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    presenter_person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    source: Mapped[str] = mapped_column(String(32), default="manager")
    created_at: Mapped[dt.datetime]


class Rsvp(Base):
    """One person's answer for one day (changeable; the latest answer counts)."""

    __tablename__ = "learning_day_rsvps"

    day_id: Mapped[int] = mapped_column(ForeignKey("learning_days.id", ondelete="CASCADE"), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), primary_key=True)
    answer: Mapped[str] = mapped_column(String(16))
    updated_at: Mapped[dt.datetime]
