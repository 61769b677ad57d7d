"""An attachment (佐证材料): one file on one owner object; the bytes live in the blob store under their SHA-256."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..auth.models import User
from ..db import UTCDateTime, utcnow
from ..declarative import Base
from ..enums import one_of


class OwnerKind(StrEnum):
    """The kinds of object an attachment can belong to (owner_id is that object's id)."""

    REPORT = "report"  # progress_reports.id
    RECTIFICATION = "rectification"  # rectifications.id (a card's plan or periodic report)
    FEEDBACK = "feedback"  # decision_events.id (a supervised item's feedback)
    ACTIVITY = "activity"  # a publicity activity


OWNER_LABELS = {
    OwnerKind.REPORT: "进展报告",
    OwnerKind.RECTIFICATION: "整改材料",
    OwnerKind.FEEDBACK: "督办反馈",
    OwnerKind.ACTIVITY: "宣传活动",
}


class FileKind(StrEnum):
    """What the content is, decided from its bytes (HEIC photos are stored converted to JPEG)."""

    JPEG = "jpeg"
    PNG = "png"
    PDF = "pdf"
    DOCX = "docx"
    XLSX = "xlsx"


IMAGE_KINDS = (FileKind.JPEG, FileKind.PNG)
KIND_LABELS = {
    FileKind.JPEG: "图片",
    FileKind.PNG: "图片",
    FileKind.PDF: "PDF",
    FileKind.DOCX: "Word",
    FileKind.XLSX: "Excel",
}
CONTENT_TYPES = {
    FileKind.JPEG: "image/jpeg",
    FileKind.PNG: "image/png",
    FileKind.PDF: "application/pdf",
    FileKind.DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    FileKind.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
EXTENSIONS = {
    FileKind.JPEG: ".jpg",
    FileKind.PNG: ".png",
    FileKind.PDF: ".pdf",
    FileKind.DOCX: ".docx",
    FileKind.XLSX: ".xlsx",
}


class Attachment(Base):
    """One file attached to one object. The same bytes on two objects are two rows and one stored file."""

    __tablename__ = "attachments"
    __table_args__ = (
        one_of("owner_kind", OwnerKind),
        one_of("kind", FileKind),
        UniqueConstraint("owner_kind", "owner_id", "sha256"),
        Index("ix_attachments_owner", "owner_kind", "owner_id"),
        CheckConstraint("size > 0", name="size_positive"),
        CheckConstraint("length(sha256) = 64", name="sha256_length"),
        CheckConstraint(
            "(kind IN ('jpeg', 'png')) = (width IS NOT NULL AND height IS NOT NULL AND thumb_sha256 IS NOT NULL)",
            name="image_fields",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_kind: Mapped[str] = mapped_column(String(16))
    owner_id: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), index=True)  # of the stored bytes (an image as re-encoded)
    name: Mapped[str] = mapped_column(String(200))  # the uploaded file's name, cleaned
    size: Mapped[int] = mapped_column(Integer)  # stored bytes
    kind: Mapped[str] = mapped_column(String(8))
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    thumb_sha256: Mapped[str | None] = mapped_column(String(64))
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    uploaded_by: Mapped[User] = relationship()

    @property
    def is_image(self) -> bool:
        return self.kind in IMAGE_KINDS

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[FileKind(self.kind)]

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[FileKind(self.kind)]

    @property
    def download_name(self) -> str:
        """The name a download gets: the uploaded name with the extension of what the content really is."""
        ext = EXTENSIONS[FileKind(self.kind)]
        stem = self.name.rsplit(".", 1)[0] if "." in self.name else self.name
        return (stem or "佐证材料") + ext

    def snapshot(self) -> dict:
        return {
            "owner_kind": self.owner_kind,
            "owner_id": self.owner_id,
            "name": self.name,
            "kind": self.kind,
            "size": self.size,
            "sha256": self.sha256,
            "width": self.width,
            "height": self.height,
        }
