"""Tables of the mandatory-course nudges: who must take which course by when, and who opted
in to public kudos.

The sweep reads ``course_assignments`` through one indexed column, ``next_nudge_on``: the local date
on which the assignment's next reminder becomes due (NULL once it is done or has no reminder
left). Keeping that date up to date on every write is what lets the sweep decide over a
million assignments in well under a second instead of recomputing every cadence.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base


class Source(StrEnum):
    """Where a completion came from (``completion_source``): the LMS import, the person
    ("done", awaiting the learning manager), the learning manager confirming it, or rejecting
    it (the assignment is open again). The values are the stored column values."""

    LMS = "lms"
    SELF_REPORTED = "self-reported"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"


class Assignment(Base):
    """One person's obligation to complete one course by ``due_on``.

    A recurring course gets a new row (next ``due_on``) when the previous one is completed,
    so the history of completions is kept.
    """

    __tablename__ = "course_assignments"
    __table_args__ = (
        UniqueConstraint("person_id", "course_id", "due_on", name="uq_course_assignments_person_course_due"),
        # The sweep's read: open assignments by next_nudge_on, covering every column it needs,
        # so the 1M-row table itself is never touched while deciding.
        Index(
            "ix_course_assignments_next_nudge",
            "next_nudge_on",
            "person_id",
            "due_on",
            "course_id",
            "snoozed_until",
            "last_stage",
            sqlite_where=text("completed_on IS NULL"),
            postgresql_where=text("completed_on IS NULL"),
        ),
        Index("ix_course_assignments_course_due", "course_id", "due_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    course_id: Mapped[str] = mapped_column(String(64))
    due_on: Mapped[date]
    completed_on: Mapped[date | None]
    completion_source: Mapped[str | None] = mapped_column(String(16))
    reported_at: Mapped[datetime | None]
    """When the person said "done" (self-reported); the manager confirms or rejects it."""
    snoozed_until: Mapped[date | None]
    next_nudge_on: Mapped[date | None]
    last_stage: Mapped[str | None] = mapped_column(String(40))
    last_nudge_at: Mapped[datetime | None]
    paused_reason: Mapped[str | None] = mapped_column(String(16))
    """Why reminders are paused until the learning manager decides (the person said the course
    is not theirs, they are exempt, on leave, or asked to stop); NULL while reminders run."""
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    @property
    def is_open(self) -> bool:
        return self.completed_on is None


class KudosOptIn(Base):
    """People who agreed that their completions may be celebrated in the office channel.
    Absence means no: kudos are never public by default."""

    __tablename__ = "kudos_opt_ins"

    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), primary_key=True)
    opted_in_at: Mapped[datetime]
