"""Joint meetings (联席会议), their decisions (议定事项) followed up as supervised items (督办事项), and the trail."""

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


class MeetingStatus(StrEnum):
    SCHEDULED = "scheduled"
    HELD = "held"


class DecisionStatus(StrEnum):
    """A decision's status as stored; OVERDUE is derived (not closed and past the deadline), never stored."""

    OPEN = "open"
    ANSWERED = "answered"
    RETURNED = "returned"
    CLOSED = "closed"


SCHEDULED, HELD = MeetingStatus.SCHEDULED, MeetingStatus.HELD
MEETING_LABELS = {SCHEDULED: "待召开", HELD: "已召开"}

# OVERDUE is derived (not closed and past the deadline), never stored
OPEN, ANSWERED, RETURNED, CLOSED = (
    DecisionStatus.OPEN,
    DecisionStatus.ANSWERED,
    DecisionStatus.RETURNED,
    DecisionStatus.CLOSED,
)
OVERDUE = "overdue"
DECISION_LABELS = {OPEN: "未反馈", ANSWERED: "已反馈", RETURNED: "已退回", CLOSED: "已销号", OVERDUE: "逾期"}
DECISION_ORDER = [OPEN, ANSWERED, RETURNED, CLOSED, OVERDUE]
# each state in the product's one colour language (the progress-report state classes)
DECISION_COLOURS = {
    OPEN: "not_due",
    ANSWERED: "submitted",
    RETURNED: "returned",
    CLOSED: "accepted",
    OVERDUE: "overdue",
}

meeting_units = Table(
    "meeting_units",
    Base.metadata,
    Column("meeting_id", ForeignKey("meetings.id", ondelete="CASCADE"), primary_key=True),
    Column("unit_id", ForeignKey("units.id"), primary_key=True),
)

decision_supporting_units = Table(
    "decision_supporting_units",
    Base.metadata,
    Column("decision_id", ForeignKey("decisions.id", ondelete="CASCADE"), primary_key=True),
    Column("unit_id", ForeignKey("units.id"), primary_key=True),
)


class Meeting(Base):
    """A joint meeting: when, who convenes and attends, which period it reviews; once held it is read-only."""

    __tablename__ = "meetings"
    __table_args__ = (
        UniqueConstraint("date", "title"),
        one_of("status", MeetingStatus),
        CheckConstraint(
            "(status = 'held' AND held_at IS NOT NULL) OR (status = 'scheduled' AND held_at IS NULL)", name="held_at"
        ),
        CheckConstraint("length(period) = 7", name="period_format"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    date: Mapped[date] = mapped_column(Date, index=True)
    period: Mapped[str] = mapped_column(String(7), index=True)  # 2026-Q3 or 2026-10
    convener: Mapped[str] = mapped_column(String(64))
    location: Mapped[str] = mapped_column(String(200), default="", server_default="")
    notes: Mapped[str] = mapped_column(Text, default="", server_default="")
    status: Mapped[str] = mapped_column(String(16), default=SCHEDULED, server_default=SCHEDULED.value)
    held_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    held_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    units: Mapped[list[Unit]] = relationship(secondary=meeting_units, order_by=[Unit.kind, Unit.sort_order, Unit.id])
    decisions: Mapped[list[Decision]] = relationship(back_populates="meeting", order_by="Decision.number")
    held_by: Mapped[User | None] = relationship(foreign_keys=[held_by_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])

    __mapper_args__ = {"version_id_col": version}

    @property
    def is_held(self) -> bool:
        return self.status == HELD

    @property
    def status_label(self) -> str:
        return MEETING_LABELS[self.status]

    def snapshot(self) -> dict:
        return {
            "title": self.title,
            "date": self.date.isoformat(),
            "period": self.period,
            "convener": self.convener,
            "location": self.location,
            "notes": self.notes,
            "status": self.status,
            "unit_ids": sorted(u.id for u in self.units),
        }


class Decision(Base):
    """A decision of a meeting (议定事项), followed up as a supervised item (督办事项) of its lead unit."""

    __tablename__ = "decisions"
    __table_args__ = (
        UniqueConstraint("meeting_id", "number"),
        one_of("status", DecisionStatus),
        CheckConstraint("(status = 'closed') = (closed_at IS NOT NULL)", name="closed_at"),
        CheckConstraint("(status = 'closed') = (closed_on_time IS NOT NULL)", name="closed_on_time"),
        CheckConstraint("number >= 1", name="number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)  # 1, 2, … within the meeting
    text: Mapped[str] = mapped_column(Text)
    lead_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    deadline: Mapped[date] = mapped_column(Date, index=True)
    status: Mapped[str] = mapped_column(String(16), default=OPEN, server_default=OPEN)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the latest feedback
    review_comment: Mapped[str] = mapped_column(Text, default="", server_default="")  # the latest review
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # 按期销号: the China-time date of closing was on or before the deadline. Frozen at closing time.
    closed_on_time: Mapped[bool | None] = mapped_column(Boolean)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    meeting: Mapped[Meeting] = relationship(back_populates="decisions")
    lead_unit: Mapped[Unit] = relationship()
    supporting_units: Mapped[list[Unit]] = relationship(
        secondary=decision_supporting_units, order_by=[Unit.kind, Unit.sort_order, Unit.id]
    )
    events: Mapped[list[DecisionEvent]] = relationship(
        back_populates="decision", order_by="DecisionEvent.id", cascade="all, delete-orphan"
    )
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    closed_by: Mapped[User | None] = relationship(foreign_keys=[closed_by_id])

    __mapper_args__ = {"version_id_col": version}

    @property
    def is_closed(self) -> bool:
        return self.status == CLOSED

    @property
    def label(self) -> str:
        return f"{self.meeting.title} 第{self.number}项"

    @property
    def feedback_rounds(self) -> int:
        return sum(1 for e in self.events if e.action == "answer")

    def snapshot(self) -> dict:
        return {
            "meeting_id": self.meeting_id,
            "number": self.number,
            "text": self.text,
            "lead_unit_id": self.lead_unit_id,
            "supporting_unit_ids": sorted(u.id for u in self.supporting_units),
            "deadline": self.deadline.isoformat(),
            "status": self.status,
            "closed_on_time": self.closed_on_time,
        }


class DecisionEvent(Base):
    """One step of a supervised item: recorded, a unit's feedback (反馈), a return with comment, or closing (销号)."""

    __tablename__ = "decision_events"
    __table_args__ = (CheckConstraint("action IN ('create', 'answer', 'return', 'close')", name="action"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("decisions.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))  # the answering unit
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    body: Mapped[str] = mapped_column(Text, default="", server_default="")

    decision: Mapped[Decision] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()
    unit: Mapped[Unit | None] = relationship()

    @property
    def action_label(self) -> str:
        return {"create": "录入议定事项", "answer": "反馈", "return": "退回", "close": "销号"}[self.action]
