"""Progress reports per (task, unit, month), their history, and urges (催办)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
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
from ..plans.models import Measure, Task


class ReportStatus(StrEnum):
    """A progress report's status as stored (not due, overdue and late are derived, never stored)."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    RETURNED = "returned"
    ACCEPTED = "accepted"


DRAFT, SUBMITTED, RETURNED, ACCEPTED = (
    ReportStatus.DRAFT,
    ReportStatus.SUBMITTED,
    ReportStatus.RETURNED,
    ReportStatus.ACCEPTED,
)
# States of a (task, unit, month) as every page shows them (progress.service.report_state); the three extra ones
# are derived, never stored: nothing saved before the due day, nothing submitted by it (a draft included), and a
# month outside the plan's period, which owes nothing.
NOT_DUE, OVERDUE, OUT_OF_PLAN = "not_due", "overdue", "out_of_plan"
STATE_LABELS = {
    NOT_DUE: "未报",
    DRAFT: "草稿",
    SUBMITTED: "已报送",
    RETURNED: "已退回",
    ACCEPTED: "已通过",
    OVERDUE: "逾期未报",
    OUT_OF_PLAN: "不在方案期内",
}
# the states counted on a month's grid (a month outside the plan has no cells)
STATE_ORDER = [NOT_DUE, DRAFT, SUBMITTED, RETURNED, ACCEPTED, OVERDUE]

report_measures = Table(
    "report_measures",
    Base.metadata,
    Column("report_id", ForeignKey("progress_reports.id", ondelete="CASCADE"), primary_key=True),
    Column("measure_id", ForeignKey("measures.id", ondelete="CASCADE"), primary_key=True),
)

CONTENT_FIELDS = ("progress", "completion", "problems", "next_steps")
CONTENT_LABELS = {"progress": "工作进展", "completion": "完成情况", "problems": "存在问题", "next_steps": "下步计划"}


class ProgressReport(Base):
    """A unit's monthly report on one task it leads or joins."""

    __tablename__ = "progress_reports"
    __table_args__ = (
        UniqueConstraint("task_id", "unit_id", "period"),
        # the reports of a plan's tasks in some months (the briefing, the grid): the unique constraint's index
        # leads with the unit, so without this one every month of a task would be read
        Index("ix_progress_reports_task_id_period", "task_id", "period"),
        one_of("status", ReportStatus),
        CheckConstraint("length(period) = 7", name="period_format"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    period: Mapped[str] = mapped_column(String(7), index=True)  # YYYY-MM
    status: Mapped[str] = mapped_column(String(16), default=DRAFT)
    progress: Mapped[str] = mapped_column(Text, default="")
    completion: Mapped[str] = mapped_column(Text, default="")
    problems: Mapped[str] = mapped_column(Text, default="")
    next_steps: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    first_submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # 迟报: first submitted after the due date. Frozen at submission so later changes of the due day
    # do not rewrite history.
    is_late: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    review_comment: Mapped[str] = mapped_column(Text, default="", server_default="")
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    task: Mapped[Task] = relationship()
    unit: Mapped[Unit] = relationship()
    reviewer: Mapped[User | None] = relationship()
    measures: Mapped[list[Measure]] = relationship(secondary=report_measures, order_by=Measure.number)
    events: Mapped[list[ReportEvent]] = relationship(
        back_populates="report", order_by="ReportEvent.id", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def status_label(self) -> str:
        return STATE_LABELS[self.status]

    def content(self) -> dict:
        return {f: getattr(self, f) for f in CONTENT_FIELDS} | {"measure_ids": [m.id for m in self.measures]}

    def snapshot(self) -> dict:
        return {"status": self.status, **self.content()}


class ReportEvent(Base):
    """One step in a report's history: a saved version, a submission, a return or an acceptance."""

    __tablename__ = "report_events"
    __table_args__ = (CheckConstraint("action IN ('save', 'submit', 'return', 'accept')", name="action"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("progress_reports.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    comment: Mapped[str] = mapped_column(Text, default="", server_default="")
    content: Mapped[dict] = mapped_column(JSON, default=dict)

    report: Mapped[ProgressReport] = relationship(back_populates="events")
    actor: Mapped[User] = relationship()

    @property
    def action_label(self) -> str:
        return {"save": "保存草稿", "submit": "报送", "return": "退回", "accept": "审核通过"}[self.action]


class Urge(Base):
    """A reminder (催办) sent by a reviewer to a unit whose report is missing or late."""

    __tablename__ = "urges"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    period: Mapped[str] = mapped_column(String(7), index=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    message: Mapped[str] = mapped_column(Text, default="")
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    task: Mapped[Task] = relationship()
    unit: Mapped[Unit] = relationship()
    actor: Mapped[User] = relationship()
