"""Archived briefings: the exact PDF a joint meeting reviewed, with its checksum."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..auth.models import User
from ..db import Base, UTCDateTime, utcnow


class BriefingArchive(Base):
    """One archived version of a meeting's briefing PDF; the highest version is the one served."""

    __tablename__ = "briefing_archives"
    __table_args__ = (UniqueConstraint("meeting_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    generated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    generated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(String(500), default="", server_default="")

    generated_by: Mapped[User | None] = relationship()

    def snapshot(self) -> dict:
        return {
            "meeting_id": self.meeting_id,
            "version": self.version,
            "sha256": self.sha256,
            "size": self.size,
            "reason": self.reason,
        }
