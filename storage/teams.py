"""What Learnbot knows of the Teams teams it is installed in: the team, its members and channels.

Teams lets a bot message a person proactively once it is installed in a team the person belongs
to, and post in any channel of such a team. These tables keep the roster read through the Bot
Framework's Teams APIs (paged members, team channels), so a person imported from the LMS later
can be linked by email or UPN without another roster call, and ``learnbot reach`` can say why
someone is not reachable.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base


class TeamsTeam(Base):
    """A team the app was installed in (``installed`` turns False when it is removed)."""

    __tablename__ = "teams_teams"

    team_id: Mapped[str] = mapped_column(String(256), primary_key=True)
    name: Mapped[str] = mapped_column(String(300), default="")
    tenant_id: Mapped[str] = mapped_column(String(128), default="")
    service_url: Mapped[str] = mapped_column(String(500), default="")
    bot_id: Mapped[str] = mapped_column(String(256), default="")
    bot_name: Mapped[str] = mapped_column(String(200), default="")
    installed: Mapped[bool] = mapped_column(default=True)
    installed_at: Mapped[datetime]
    synced_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


class TeamsMember(Base):
    """One member of an installed team, as the roster gave them; ``person_id`` once linked."""

    __tablename__ = "teams_members"
    __table_args__ = (UniqueConstraint("team_id", "user_id", name="uq_teams_members_team_user"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(ForeignKey("teams_teams.team_id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(String(256))  # "29:…", what a 1:1 conversation is created with
    aad_object_id: Mapped[str] = mapped_column(String(128), default="")
    email: Mapped[str] = mapped_column(String(320), default="", index=True)
    upn: Mapped[str] = mapped_column(String(320), default="", index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"), index=True)
    seen_at: Mapped[datetime]


class TeamsChannel(Base):
    """A channel of an installed team (its id is the ``teams:`` value a channel has in app.yaml)."""

    __tablename__ = "teams_channels"

    channel_id: Mapped[str] = mapped_column(String(256), primary_key=True)
    team_id: Mapped[str] = mapped_column(ForeignKey("teams_teams.team_id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(300), default="")
    seen_at: Mapped[datetime]
