"""Plans, their goals, tasks, measures and the units responsible for each task."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import UTCDateTime, utcnow
from ..declarative import Base
from ..org.models import Unit
from .numerals import cn_number

ROLE_LEAD = "lead"
ROLE_MEMBER = "member"


class Plan(Base):
    """An implementation plan (实施方案) of the district, normally one per year."""

    __tablename__ = "plans"
    __table_args__ = (
        CheckConstraint("due_day BETWEEN 1 AND 28", name="due_day"),
        CheckConstraint("period_kind IN ('month')", name="period_kind"),
        CheckConstraint("start_month <= end_month", name="plan_period"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    year: Mapped[int] = mapped_column(Integer)
    district: Mapped[str] = mapped_column(String(64), default="", server_default="")
    preamble: Mapped[str] = mapped_column(Text, default="", server_default="")
    guiding_ideology: Mapped[str] = mapped_column(Text, default="", server_default="")
    period_kind: Mapped[str] = mapped_column(String(16), default="month", server_default="month")
    due_day: Mapped[int] = mapped_column(Integer, default=25, server_default="25")
    # the plan's period, months "YYYY-MM" inclusive: duties, 逾期, 迟报, 催办, scores and card rules count only these
    start_month: Mapped[str] = mapped_column(String(7))
    end_month: Mapped[str] = mapped_column(String(7))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    goals: Mapped[list[Goal]] = relationship(
        back_populates="plan", order_by="Goal.number", cascade="all, delete-orphan"
    )
    tasks: Mapped[list[Task]] = relationship(
        back_populates="plan", order_by="Task.number", cascade="all, delete-orphan"
    )
    requirement_items: Mapped[list[Requirement]] = relationship(
        back_populates="plan", order_by="Requirement.number", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}

    def snapshot(self) -> dict:
        return {
            "title": self.title,
            "year": self.year,
            "due_day": self.due_day,
            "period_kind": self.period_kind,
            "start_month": self.start_month,
            "end_month": self.end_month,
            "is_active": self.is_active,
        }


class Goal(Base):
    """A work goal (工作目标), e.g. 二是提升打防质效 (两降两升)."""

    __tablename__ = "goals"
    __table_args__ = (UniqueConstraint("plan_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")

    plan: Mapped[Plan] = relationship(back_populates="goals")


class Requirement(Base):
    """A work requirement (工作要求) of the plan."""

    __tablename__ = "requirements"
    __table_args__ = (UniqueConstraint("plan_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")

    plan: Mapped[Plan] = relationship(back_populates="requirement_items")


class Task(Base):
    """A major task (主要任务) with its full text and the responsibility line as written."""

    __tablename__ = "tasks"
    __table_args__ = (UniqueConstraint("plan_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    responsibility_text: Mapped[str] = mapped_column(Text, default="")
    # "各镇(街道)": every township unit is a member, including towns added later.
    includes_townships: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")

    plan: Mapped[Plan] = relationship(back_populates="tasks")
    measures: Mapped[list[Measure]] = relationship(
        back_populates="task", order_by="Measure.number", cascade="all, delete-orphan"
    )
    assignments: Mapped[list[Assignment]] = relationship(
        back_populates="task", cascade="all, delete-orphan", order_by="Assignment.id"
    )

    @property
    def label(self) -> str:
        return f"({cn_number(self.number)}){self.title}"

    @property
    def short_label(self) -> str:
        return f"任务{cn_number(self.number)}"

    def units_with_role(self, role: str) -> list[Unit]:
        return [a.unit for a in self.assignments if a.role == role]


class Measure(Base):
    """A concrete measure (具体措施) of a task, taken from the task text."""

    __tablename__ = "measures"
    __table_args__ = (UniqueConstraint("task_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)

    task: Mapped[Task] = relationship(back_populates="measures")


class Assignment(Base):
    """A unit's part in a task: lead (责任单位) or member (成员单位). One row per unit and task."""

    __tablename__ = "assignments"
    __table_args__ = (
        UniqueConstraint("task_id", "unit_id"),
        CheckConstraint("role IN ('lead', 'member')", name="role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))

    task: Mapped[Task] = relationship(back_populates="assignments")
    unit: Mapped[Unit] = relationship()

    @property
    def role_label(self) -> str:
        return "牵头" if self.role == ROLE_LEAD else "成员"
