"""Units: departments of the district and its towns and streets."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..db import UTCDateTime, utcnow
from ..declarative import Base

KIND_DEPARTMENT = "department"
KIND_TOWNSHIP = "township"
KIND_LABELS = {KIND_DEPARTMENT: "部门", KIND_TOWNSHIP: "镇(街道)"}


class Unit(Base):
    """A responsible unit: a department (公安分局, 财政局 …) or a town/street."""

    __tablename__ = "units"
    __table_args__ = (CheckConstraint("kind IN ('department', 'township')", name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    # Other names the unit goes by in documents, separated by "、" (e.g. 区公安分局).
    aliases: Mapped[str] = mapped_column(Text, default="", server_default="")
    sort_order: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}

    @property
    def is_township(self) -> bool:
        return self.kind == KIND_TOWNSHIP

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]

    def alias_list(self) -> list[str]:
        return [a for a in (self.aliases or "").split("、") if a]

    def snapshot(self) -> dict:
        return {
            "name": self.name,
            "kind": self.kind,
            "aliases": self.aliases,
            "is_active": self.is_active,
            "sort_order": self.sort_order,
        }

    def __repr__(self) -> str:
        return f"<Unit {self.name}>"
