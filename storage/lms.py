"""LMS files sent to Learnbot in chat, kept between the dry run and Apply / Cancel.

A row lives minutes: it is deleted when the manager applies or cancels, and any row past
``expires_at`` is deleted by the next upload and by the ``lms_sync`` job. Keeping the bytes in
the database (not a local temp file) lets another replica handle the Apply press.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base


class LmsUpload(Base):
    __tablename__ = "lms_uploads"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(16))
    office_id: Mapped[str | None] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
