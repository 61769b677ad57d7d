"""Publicity activities, the lists their choices come from, a town's 村/社区, and 无诈 creations."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..auth.models import User
from ..db import UTCDateTime, utcnow
from ..declarative import Base
from ..enums import one_of
from ..org.models import Unit
from ..plans.models import Task


class OptionKind(StrEnum):
    TARGET = "target"
    FORM = "form"
    FRAUD = "fraud"


TARGET, FORM, FRAUD = OptionKind.TARGET, OptionKind.FORM, OptionKind.FRAUD
OPTION_KIND_LABELS = {TARGET: "宣传对象", FORM: "宣传形式", FRAUD: "涉及诈骗类型"}


class CreationKind(StrEnum):
    COMMUNITY = "community"
    CAMPUS = "campus"
    ENTERPRISE = "enterprise"
    UNIT = "unit"


CREATION_KIND_LABELS = {
    CreationKind.COMMUNITY: "无诈社区",
    CreationKind.CAMPUS: "无诈校园",
    CreationKind.ENTERPRISE: "无诈企业",
    CreationKind.UNIT: "无诈单位",
}


class CreationStatus(StrEnum):
    DECLARED = "declared"
    INSPECTED = "inspected"
    NAMED = "named"


DECLARED, INSPECTED, NAMED = CreationStatus.DECLARED, CreationStatus.INSPECTED, CreationStatus.NAMED
CREATION_STATUS_LABELS = {DECLARED: "已申报", INSPECTED: "已验收", NAMED: "已命名"}
CREATION_ORDER = [DECLARED, INSPECTED, NAMED]
CREATION_COLOURS = {DECLARED: "submitted", INSPECTED: "not_due", NAMED: "accepted"}


class PublicityOption(Base):
    """One entry of a list the administrator keeps: a target group, a form, or a fraud type. Removing an entry
    from the list switches it off, so past activities keep their words."""

    __tablename__ = "publicity_options"
    __table_args__ = (
        UniqueConstraint("kind", "name"),
        one_of("kind", OptionKind),
        CheckConstraint("length(name) > 0", name="name_not_empty"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(32))
    sort_order: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")

    def __repr__(self) -> str:
        return f"<PublicityOption {self.kind} {self.name}>"


activity_fraud_types = Table(
    "publicity_activity_fraud_types",
    Base.metadata,
    Column("activity_id", ForeignKey("publicity_activities.id", ondelete="CASCADE"), primary_key=True),
    Column("option_id", ForeignKey("publicity_options.id"), primary_key=True, index=True),
)


class Activity(Base):
    """One publicity activity: when, by which unit, in which town/street (and 村/社区), to whom, how, and how many."""

    __tablename__ = "publicity_activities"
    __table_args__ = (
        CheckConstraint("audience >= 0", name="audience_not_negative"),
        CheckConstraint("materials >= 0", name="materials_not_negative"),
        CheckConstraint("apps >= 0", name="apps_not_negative"),
        CheckConstraint("length(place) > 0", name="place_not_empty"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    held_on: Mapped[date] = mapped_column(Date, index=True)
    # the unit that held it and records it
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    # the town or street where it took place (a town's own activities: itself)
    town_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    community: Mapped[str] = mapped_column(String(64), default="", server_default="")
    place: Mapped[str] = mapped_column(String(100))
    target_id: Mapped[int] = mapped_column(ForeignKey("publicity_options.id"), index=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("publicity_options.id"), index=True)
    audience: Mapped[int] = mapped_column(Integer)
    materials: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    apps: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id", ondelete="SET NULL"), index=True)
    notes: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    unit: Mapped[Unit] = relationship(foreign_keys=[unit_id])
    town: Mapped[Unit] = relationship(foreign_keys=[town_id])
    target: Mapped[PublicityOption] = relationship(foreign_keys=[target_id])
    form: Mapped[PublicityOption] = relationship(foreign_keys=[form_id])
    fraud_types: Mapped[list[PublicityOption]] = relationship(
        secondary=activity_fraud_types, order_by=lambda: (PublicityOption.sort_order, PublicityOption.id)
    )
    task: Mapped[Task | None] = relationship()
    created_by: Mapped[User | None] = relationship()

    __mapper_args__ = {"version_id_col": version}

    @property
    def month(self) -> str:
        return f"{self.held_on.year:04d}-{self.held_on.month:02d}"

    @property
    def fraud_label(self) -> str:
        return "、".join(o.name for o in self.fraud_types)

    def snapshot(self) -> dict:
        return {
            "held_on": self.held_on.isoformat(),
            "unit_id": self.unit_id,
            "town_id": self.town_id,
            "community": self.community,
            "place": self.place,
            "target_id": self.target_id,
            "form_id": self.form_id,
            "fraud_type_ids": sorted(o.id for o in self.fraud_types),
            "audience": self.audience,
            "materials": self.materials,
            "apps": self.apps,
            "task_id": self.task_id,
            "notes": self.notes,
        }

    def __repr__(self) -> str:
        return f"<Activity {self.held_on} {self.unit_id} {self.place}>"


class CommunityList(Base):
    """The 村/社区 a town or street lists, one name a line; coverage names those without an activity."""

    __tablename__ = "publicity_community_lists"

    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)
    names: Mapped[str] = mapped_column(Text, default="", server_default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    unit: Mapped[Unit] = relationship()

    __mapper_args__ = {"version_id_col": version}

    def name_list(self) -> list[str]:
        return [n for n in (self.names or "").split("\n") if n]


class Creation(Base):
    """A 无诈 creation (无诈社区/校园/企业/单位): declared (申报), inspected (验收), named (命名), with the dates."""

    __tablename__ = "publicity_creations"
    __table_args__ = (
        UniqueConstraint("kind", "name"),
        one_of("kind", CreationKind),
        one_of("status", CreationStatus),
        CheckConstraint("length(name) > 0", name="name_not_empty"),
        CheckConstraint(
            "(status = 'declared' AND inspected_on IS NULL AND named_on IS NULL)"
            " OR (status = 'inspected' AND inspected_on IS NOT NULL AND named_on IS NULL)"
            " OR (status = 'named' AND inspected_on IS NOT NULL AND named_on IS NOT NULL)",
            name="status_dates",
        ),
        CheckConstraint("inspected_on IS NULL OR inspected_on >= declared_on", name="inspected_after_declared"),
        CheckConstraint("named_on IS NULL OR named_on >= inspected_on", name="named_after_inspected"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16), default=DECLARED, server_default=DECLARED.value)
    declared_on: Mapped[date] = mapped_column(Date)
    inspected_on: Mapped[date | None] = mapped_column(Date)
    named_on: Mapped[date | None] = mapped_column(Date)
    notes: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    unit: Mapped[Unit] = relationship()

    __mapper_args__ = {"version_id_col": version}

    @property
    def kind_label(self) -> str:
        return CREATION_KIND_LABELS[CreationKind(self.kind)]

    @property
    def status_label(self) -> str:
        return CREATION_STATUS_LABELS[CreationStatus(self.status)]

    def snapshot(self) -> dict:
        return {
            "unit_id": self.unit_id,
            "kind": self.kind,
            "name": self.name,
            "status": self.status,
            "declared_on": self.declared_on.isoformat(),
            "inspected_on": self.inspected_on.isoformat() if self.inspected_on else None,
            "named_on": self.named_on.isoformat() if self.named_on else None,
            "notes": self.notes,
        }

    def __repr__(self) -> str:
        return f"<Creation {self.kind} {self.name}>"
