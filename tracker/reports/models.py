"""Archived briefings: the exact PDF a joint meeting reviewed, with its checksum."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..auth.models import User
from ..db import UTCDateTime, utcnow
from ..declarative import Base


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


class DocumentNumbering(Base):
    """How the briefing's document number (发文字号) is made (one row): the administrator's prefix, the year the
    next sequence number belongs to, that number, and the 抄送 line of the 版记."""

    __tablename__ = "document_numbering"
    __table_args__ = (
        CheckConstraint("id = 1", name="single_row"),
        CheckConstraint("next_seq >= 1", name="next_seq_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, default=1)
    prefix: Mapped[str] = mapped_column(String(40), default="反诈联办", server_default="反诈联办")
    year: Mapped[int] = mapped_column(Integer)
    next_seq: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    copy_to: Mapped[str] = mapped_column(String(300), default="", server_default="")
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}

    def snapshot(self) -> dict:
        return {"prefix": self.prefix, "year": self.year, "next_seq": self.next_seq, "copy_to": self.copy_to}


class DocumentNumber(Base):
    """A document number taken by a meeting's briefing when it was first archived: never given to another."""

    __tablename__ = "document_numbers"
    __table_args__ = (
        UniqueConstraint("year", "seq"),
        UniqueConstraint("meeting_id"),
        CheckConstraint("seq >= 1", name="seq_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(String(80))
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"))
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def snapshot(self) -> dict:
        return {"year": self.year, "seq": self.seq, "text": self.text, "meeting_id": self.meeting_id}
