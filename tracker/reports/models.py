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
    # the audit chain's head when the briefing was made, also in the PDF's keywords: an anchor outside the database
    audit_seq: Mapped[int | None] = mapped_column(Integer)
    audit_mac: Mapped[str | None] = mapped_column(String(64))

    generated_by: Mapped[User | None] = relationship()

    def snapshot(self) -> dict:
        return {
            "meeting_id": self.meeting_id,
            "version": self.version,
            "sha256": self.sha256,
            "size": self.size,
            "reason": self.reason,
            "audit_seq": self.audit_seq,
            "audit_mac": self.audit_mac,
        }
