"""Skillshare tables: offers to teach, requests to learn, the matches between them, and
peer-assist profiles with the rounds of pairs proposed from them.

Text columns hold what the person typed (after :mod:`bot.features.skillshare.text` cleaned it);
``search_text`` holds the same words unaccented and lower-cased, computed in Python, so a
plain ``LIKE`` finds "programación" from "PROGRAMACION" identically on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base


class OfferStatus(StrEnum):
    """``SkillOffer.status`` (the stored values)."""

    ACTIVE = "active"
    WITHDRAWN = "withdrawn"


class RequestStatus(StrEnum):
    """``SkillRequest.status`` (the stored values)."""

    OPEN = "open"
    CLOSED = "closed"


class SkillOffer(Base):
    """Someone offers to teach or coach a skill. ``status`` is ``active`` or ``withdrawn``
    (withdrawn offers are kept so past matches and agenda sessions still make sense)."""

    __tablename__ = "skill_offers"
    __table_args__ = (Index("ix_skill_offers_status_office", "status", "office_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    office_id: Mapped[str] = mapped_column(String(64))
    skill: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(600), default="")
    format: Mapped[str] = mapped_column(String(64))
    level: Mapped[str] = mapped_column(String(64))
    availability: Mapped[str] = mapped_column(String(300), default="")
    search_text: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default=OfferStatus.ACTIVE.value)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    withdrawn_at: Mapped[datetime | None]


class SkillRequest(Base):
    """Someone would like to learn a skill. Open requests are matched to offers made later."""

    __tablename__ = "skill_requests"
    __table_args__ = (Index("ix_skill_requests_status", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    office_id: Mapped[str] = mapped_column(String(64))
    skill: Mapped[str] = mapped_column(String(200))
    search_text: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default=RequestStatus.OPEN.value)
    created_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]


class SkillMatch(Base):
    """A request and an offer introduced to each other (once: unique on the pair)."""

    __tablename__ = "skill_matches"
    __table_args__ = (UniqueConstraint("request_id", "offer_id", name="uq_skill_matches_pair"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("skill_requests.id", ondelete="CASCADE"))
    offer_id: Mapped[int] = mapped_column(ForeignKey("skill_offers.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime]


class PeerProfile(Base):
    """What a person would like help with and can help others with, for peer-assist pairs."""

    __tablename__ = "peer_profiles"

    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), primary_key=True)
    office_id: Mapped[str] = mapped_column(String(64), index=True)
    needs: Mapped[str] = mapped_column(String(600), default="")
    strengths: Mapped[str] = mapped_column(String(600), default="")
    paused: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class PeerRound(Base):
    """One run of the pairing job for an office; unique per period so a rerun (or a second
    replica) proposes nothing new."""

    __tablename__ = "peer_rounds"
    __table_args__ = (UniqueConstraint("office_id", "period", name="uq_peer_rounds_office_period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]


class PeerPairing(Base):
    """A group proposed in a round: a pair, a trio, or (``kind="sit_out"``) the one person
    left over, recorded so the sit-out rotates."""

    __tablename__ = "peer_pairings"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("peer_rounds.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # "pair", "trio" or "sit_out"
    created_at: Mapped[datetime]


class PeerPairMember(Base):
    """A person in a pairing, and their answer to "did you meet?" (``None`` until answered)."""

    __tablename__ = "peer_pair_members"
    __table_args__ = (UniqueConstraint("pairing_id", "person_id", name="uq_peer_pair_members_person"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pairing_id: Mapped[int] = mapped_column(ForeignKey("peer_pairings.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    met: Mapped[bool | None]
    answered_at: Mapped[datetime | None]
