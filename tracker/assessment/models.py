"""Scheme items, adjustments, publications, card rules, recommendations, cards and rectification."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..auth.models import User
from ..db import UTCDateTime, utcnow
from ..declarative import Base
from ..enums import one_of
from ..org.models import Unit


class CardStatus(StrEnum):
    ACTIVE = "active"
    LIFTED = "lifted"  # 摘牌
    ESCALATED = "escalated"  # a yellow card replaced by a red one


class RecommendationStatus(StrEnum):
    PENDING = "pending"
    ISSUED = "issued"
    DISMISSED = "dismissed"


class RectificationStatus(StrEnum):
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    RETURNED = "returned"


class PublicationStatus(StrEnum):
    PUBLISHED = "published"
    REOPENED = "reopened"


FORMULAS = {
    "metric_yoy": "两降两升指标同比(降者为好/升者为好)",
    "target": "指标达到目标值的比例",
    "report_share": "按时报送且审核通过的报告占比",
    "decision_share": "督办事项按期销号占比",
    "rectification": "本单位红黄牌按期整改",
    "rank": "按指标排名计分",
}
# Each formula's parameters (the keys its params object may hold): key -> label on the scheme page.
FORMULA_PARAMS = {
    "metric_yoy": {"indicators": "指标代码列表"},
    "target": {"indicator": "指标代码", "target": "目标值"},
    "report_share": {"role": "牵头(lead)或配合(member)"},
    "decision_share": {},
    "rectification": {},
    "rank": {},
}
EVENTS = {
    "late_report": "迟报一份",
    "overdue_report": "逾期未报一份",
    "overdue_decision": "督办事项逾期一项",
    "returned_report": "报告被退回一次",
    "zero_cases": "本季度零发案",
}
RULE_KINDS = {
    "rank_bottom": "季度考评排名末位",
    "cases_up_while_district_down": "全区下降而本地发案同比上升",
    "cases_up_consecutive_months": "发案数连续多月同比上升",
    "overdue_count": "逾期报告和督办事项较多",
    "yellow_not_lifted": "黄牌逾期未整改(整改不力)",
    "second_yellow": "半年内再次被黄牌警告",
    "cases_surge": "发案数同比大幅上升(案件高发)",
}
# Each rule kind's parameters: key, label on the settings page, default when the stored rule lacks it.
RULE_PARAMS = {
    "rank_bottom": (("n", "后几位", 3),),
    "cases_up_while_district_down": (
        ("pct", "同比上升(%)", 20),
        ("small_base", "小基数(去年同期少于几起)", 10),
        ("abs", "小基数时增加(起)", 3),
    ),
    "cases_up_consecutive_months": (("months", "连续月数", 2),),
    "overdue_count": (("n", "逾期项数", 2),),
    "yellow_not_lifted": (),
    "second_yellow": (("months", "月数", 6),),
    "cases_surge": (
        ("pct", "同比上升(%)", 50),
        ("small_base", "小基数(去年同期少于几起)", 10),
        ("abs", "小基数时增加(起)", 5),
    ),
}
COLOUR_LABELS = {"yellow": "黄牌", "red": "红牌"}


NOT_APPLICABLE_POLICIES = {
    "rescale": "不计分,按适用项目权重折算为百分制",
    "full": "按满分计",
    "zero": "按零分计",
}


class SchemeSettings(Base):
    """Settings of the whole scheme (one row): how an item with nothing due for a unit is scored."""

    __tablename__ = "scheme_settings"
    __table_args__ = (
        CheckConstraint("id = 1", name="single_row"),
        CheckConstraint("not_applicable IN ('rescale', 'full', 'zero')", name="not_applicable"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, default=1)
    not_applicable: Mapped[str] = mapped_column(String(16), default="rescale", server_default="rescale")
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}

    def snapshot(self) -> dict:
        return {"not_applicable": self.not_applicable}


class SchemeItem(Base):
    """An item of the assessment scheme: a formula and its weight for each kind of unit."""

    __tablename__ = "scheme_items"
    __table_args__ = (
        CheckConstraint(
            "formula IN ('metric_yoy', 'target', 'report_share', 'decision_share', 'rectification', 'rank')",
            name="formula",
        ),
        CheckConstraint("weight_township >= 0 AND weight_department >= 0", name="weights"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    formula: Mapped[str] = mapped_column(String(32))
    weight_township: Mapped[Decimal] = mapped_column(Numeric(6, 2), default=Decimal(0))
    weight_department: Mapped[Decimal] = mapped_column(Numeric(6, 2), default=Decimal(0))
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}

    def weight_for(self, kind: str) -> Decimal:
        return self.weight_township if kind == "township" else self.weight_department

    def snapshot(self) -> dict:
        return {
            "code": self.code,
            "name": self.name,
            "formula": self.formula,
            "weight_township": str(self.weight_township),
            "weight_department": str(self.weight_department),
            "params": self.params,
            "is_active": self.is_active,
        }


class Adjustment(Base):
    """A deduction or bonus per event, with a cap per period."""

    __tablename__ = "scheme_adjustments"
    __table_args__ = (
        CheckConstraint("kind IN ('deduction', 'bonus')", name="kind"),
        CheckConstraint(
            "event IN ('late_report', 'overdue_report', 'overdue_decision', 'returned_report', 'zero_cases')",
            name="event",
        ),
        CheckConstraint("points >= 0 AND cap >= 0", name="points"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))
    event: Mapped[str] = mapped_column(String(32))
    points: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    cap: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    applies_township: Mapped[bool] = mapped_column(Boolean, default=True)
    applies_department: Mapped[bool] = mapped_column(Boolean, default=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}

    def applies_to(self, kind: str) -> bool:
        return self.applies_township if kind == "township" else self.applies_department

    def snapshot(self) -> dict:
        return {
            "code": self.code,
            "name": self.name,
            "kind": self.kind,
            "event": self.event,
            "points": str(self.points),
            "cap": str(self.cap),
            "is_active": self.is_active,
        }


class Publication(Base):
    """A published (frozen) quarter of scores, or its re-opening. The newest row of a period is current."""

    __tablename__ = "assessment_publications"
    __table_args__ = (one_of("status", PublicationStatus),)

    id: Mapped[int] = mapped_column(primary_key=True)
    period: Mapped[str] = mapped_column(String(16), index=True)
    status: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # None: the system actor (the command line)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    snapshot: Mapped[dict | None] = mapped_column(JSON)

    actor: Mapped[User | None] = relationship()

    @property
    def actor_label(self) -> str:
        return self.actor.display_name if self.actor is not None else "系统(命令行)"


class CardColour(Base):
    """What a card of a colour demands: the plan's due time and the rectification deadline."""

    __tablename__ = "card_colours"
    __table_args__ = (CheckConstraint("colour IN ('yellow', 'red')", name="colour"),)

    colour: Mapped[str] = mapped_column(String(8), primary_key=True)
    plan_working_days: Mapped[int] = mapped_column(Integer)
    rectify_days: Mapped[int] = mapped_column(Integer)
    report_every_months: Mapped[int] = mapped_column(Integer, default=0)
    min_listed_months: Mapped[int] = mapped_column(Integer, default=0)
    decline_months_to_lift: Mapped[int] = mapped_column(Integer, default=0)


class CardRule(Base):
    """A rule that recommends a card when the facts meet it."""

    __tablename__ = "card_rules"
    __table_args__ = (
        CheckConstraint("colour IN ('yellow', 'red')", name="colour"),
        CheckConstraint(
            "kind IN ('rank_bottom', 'cases_up_while_district_down', 'cases_up_consecutive_months', "
            "'overdue_count', 'yellow_not_lifted', 'second_yellow', 'cases_surge')",
            name="kind",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    colour: Mapped[str] = mapped_column(String(8))
    kind: Mapped[str] = mapped_column(String(40))
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}

    def snapshot(self) -> dict:
        return {
            "code": self.code,
            "name": self.name,
            "colour": self.colour,
            "kind": self.kind,
            "params": self.params,
            "is_active": self.is_active,
        }


class Holiday(Base):
    """A day off on a weekday (is_workday False) or a working weekend day (is_workday True, 调休)."""

    __tablename__ = "holidays"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    is_workday: Mapped[bool] = mapped_column(Boolean, default=False)
    name: Mapped[str] = mapped_column(String(32), default="")


class HolidayYear(Base):
    """A year whose official holiday schedule (the State Council's notice) is entered in full.

    Deadlines falling in a year without this row are computed with weekends (and any days entered so far) only
    and flagged 节假日安排未录入."""

    __tablename__ = "holiday_years"
    __table_args__ = (CheckConstraint("year BETWEEN 2000 AND 2100", name="year"),)

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    source: Mapped[str] = mapped_column(Text, default="", server_default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    updated_by: Mapped[User | None] = relationship()

    def snapshot(self) -> dict:
        return {"year": self.year, "source": self.source}


class Card(Base):
    """A yellow (warning) or red (listed rectification) card issued to a unit."""

    __tablename__ = "cards"
    __table_args__ = (
        CheckConstraint("colour IN ('yellow', 'red')", name="colour"),
        one_of("status", CardStatus),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    colour: Mapped[str] = mapped_column(String(8))
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("card_rules.id"))
    period: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    figures: Mapped[dict] = mapped_column(JSON, default=dict)
    issued_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id"))
    plan_due: Mapped[date] = mapped_column(Date)
    deadline: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default=CardStatus.ACTIVE)
    escalated_from_id: Mapped[int | None] = mapped_column(ForeignKey("cards.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    close_note: Mapped[str] = mapped_column(Text, default="", server_default="")
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    unit: Mapped[Unit] = relationship()
    rule: Mapped[CardRule | None] = relationship()
    issued_by: Mapped[User] = relationship(foreign_keys=[issued_by_id])
    closed_by: Mapped[User | None] = relationship(foreign_keys=[closed_by_id])
    escalated_from: Mapped[Card | None] = relationship(remote_side=[id])
    rectifications: Mapped[list[Rectification]] = relationship(
        back_populates="card", order_by="Rectification.id", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def colour_label(self) -> str:
        return COLOUR_LABELS[self.colour]

    def snapshot(self) -> dict:
        return {
            "unit_id": self.unit_id,
            "colour": self.colour,
            "rule_id": self.rule_id,
            "period": self.period,
            "reason": self.reason,
            "figures": self.figures,
            "plan_due": str(self.plan_due),
            "deadline": str(self.deadline),
            "status": self.status,
            "meeting_id": self.meeting_id,
            "escalated_from_id": self.escalated_from_id,
            "close_note": self.close_note,
        }


class Recommendation(Base):
    """What a rule recommends for a unit in a period, until a reviewer issues or dismisses it."""

    __tablename__ = "card_recommendations"
    __table_args__ = (
        UniqueConstraint("period", "unit_id", "rule_id"),
        one_of("status", RecommendationStatus),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    period: Mapped[str] = mapped_column(String(16), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("card_rules.id"))
    colour: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str] = mapped_column(Text)
    figures: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default=RecommendationStatus.PENDING)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dismiss_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    card_id: Mapped[int | None] = mapped_column(ForeignKey("cards.id"))
    escalates_card_id: Mapped[int | None] = mapped_column(ForeignKey("cards.id"))
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    unit: Mapped[Unit] = relationship()
    rule: Mapped[CardRule] = relationship()
    card: Mapped[Card | None] = relationship(foreign_keys=[card_id])
    escalates: Mapped[Card | None] = relationship(foreign_keys=[escalates_card_id])
    decided_by: Mapped[User | None] = relationship()

    __mapper_args__ = {"version_id_col": version}

    def snapshot(self) -> dict:
        return {
            "period": self.period,
            "unit_id": self.unit_id,
            "rule_id": self.rule_id,
            "colour": self.colour,
            "reason": self.reason,
            "status": self.status,
            "dismiss_reason": self.dismiss_reason,
            "card_id": self.card_id,
        }


class Rectification(Base):
    """A carded unit's rectification plan (整改方案) or periodic report (整改报告), and its review."""

    __tablename__ = "rectifications"
    __table_args__ = (
        CheckConstraint("kind IN ('plan', 'report')", name="kind"),
        one_of("status", RectificationStatus),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    text: Mapped[str] = mapped_column(Text)
    submitted_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[str] = mapped_column(String(16), default=RectificationStatus.SUBMITTED)
    review_comment: Mapped[str] = mapped_column(Text, default="", server_default="")
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    card: Mapped[Card] = relationship(back_populates="rectifications")
    submitted_by: Mapped[User] = relationship(foreign_keys=[submitted_by_id])
    reviewed_by: Mapped[User | None] = relationship(foreign_keys=[reviewed_by_id])

    __mapper_args__ = {"version_id_col": version}

    @property
    def kind_label(self) -> str:
        return "整改方案" if self.kind == "plan" else "整改报告"

    @property
    def status_label(self) -> str:
        return {"submitted": "待审核", "accepted": "已认可", "returned": "已退回"}[self.status]

    def snapshot(self) -> dict:
        return {
            "card_id": self.card_id,
            "kind": self.kind,
            "text": self.text,
            "status": self.status,
            "review_comment": self.review_comment,
        }
