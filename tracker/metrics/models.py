"""Indicators and their monthly values per town/street (or for the district as a whole)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from ..auth.models import User
from ..db import UTCDateTime, utcnow
from ..declarative import Base
from ..org.models import Unit

DOWN, UP = "down", "up"
DIRECTION_LABELS = {DOWN: "越低越好", UP: "越高越好"}
SCOPE_TOWNSHIP, SCOPE_DISTRICT = "township", "district"
SCOPE_LABELS = {SCOPE_TOWNSHIP: "按镇(街道)填报", SCOPE_DISTRICT: "按全区填报"}
AGG_SUM, AGG_MEAN = "sum", "mean"
AGGREGATE_LABELS = {AGG_SUM: "求和", AGG_MEAN: "取平均(比率类)"}
SOURCE_ENTRY, SOURCE_IMPORT, SOURCE_CORRECTION = "entry", "import", "correction"
# a figure counted from the publicity-activity register (宣传场次, 覆盖人次), never typed
SOURCE_REGISTER = "register"
# Indicators counted from the publicity-activity register (tracker/publicity): a town's month is the number of
# activities held in it that month (events) and their audience (reach). Nobody types them.
REGISTER_CODES = ("events", "reach")
SOURCE_LABELS = {
    SOURCE_ENTRY: "填报",
    SOURCE_IMPORT: "导入",
    SOURCE_CORRECTION: "审核更正",
    SOURCE_REGISTER: "宣传台账",
}
MAX_DECIMALS = 4


class ExactDecimal(TypeDecorator):
    """A decimal stored exactly: NUMERIC(18, 4) on PostgreSQL, decimal text on SQLite.

    SQLite has no decimal type; a NUMERIC column there keeps a binary float. Text keeps every digit, and
    nothing in SQL does arithmetic on these values (sums are taken in Python with Decimal).
    """

    impl = Numeric(18, MAX_DECIMALS)
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(32))
        return dialect.type_descriptor(Numeric(18, MAX_DECIMALS, asdecimal=True))

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if not isinstance(value, Decimal):
            raise TypeError(f"ExactDecimal takes Decimal, got {type(value).__name__}")
        return format(value, "f") if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value if isinstance(value, Decimal) else Decimal(str(value))


class Indicator(Base):
    """A figure the district tracks monthly (发案数, 损失金额 …): its unit, better direction and who enters it."""

    __tablename__ = "indicators"
    __table_args__ = (
        CheckConstraint("direction IN ('down', 'up')", name="direction"),
        CheckConstraint("scope IN ('township', 'district')", name="scope"),
        CheckConstraint("aggregate IN ('sum', 'mean')", name="aggregate"),
        CheckConstraint(f"decimals BETWEEN 0 AND {MAX_DECIMALS}", name="decimals"),
        CheckConstraint("small_base >= 0", name="small_base"),
        # A district-level figure is entered by one named unit; a town figure may be entered by each town itself.
        CheckConstraint("scope = 'township' OR owner_unit_id IS NOT NULL", name="district_owner"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    unit_label: Mapped[str] = mapped_column(String(16))
    direction: Mapped[str] = mapped_column(String(8))
    decimals: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    scope: Mapped[str] = mapped_column(String(16), default=SCOPE_TOWNSHIP, server_default=SCOPE_TOWNSHIP)
    aggregate: Mapped[str] = mapped_column(String(8), default=AGG_SUM, server_default=AGG_SUM)
    # None: every town/street enters its own figure.
    owner_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    # Below this last-year figure a change is shown and judged as a difference, not a percentage.
    small_base: Mapped[int] = mapped_column(Integer, default=10, server_default="10")
    sort_order: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    note: Mapped[str] = mapped_column(String(500), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    owner: Mapped[Unit | None] = relationship()
    values: Mapped[list[MetricValue]] = relationship(back_populates="indicator", passive_deletes=True)

    __mapper_args__ = {"version_id_col": version}

    @property
    def label(self) -> str:
        """The column header: 发案数(起)."""
        return f"{self.name}({self.unit_label})"

    @property
    def is_count(self) -> bool:
        return self.decimals == 0

    @property
    def direction_label(self) -> str:
        return DIRECTION_LABELS[self.direction]

    @property
    def owner_label(self) -> str:
        return self.owner.name if self.owner else "各镇(街道)自行填报"

    def snapshot(self) -> dict:
        return {
            "code": self.code,
            "name": self.name,
            "unit_label": self.unit_label,
            "direction": self.direction,
            "decimals": self.decimals,
            "is_active": self.is_active,
            "scope": self.scope,
            "aggregate": self.aggregate,
            "owner_unit_id": self.owner_unit_id,
            "small_base": self.small_base,
            "sort_order": self.sort_order,
        }

    def __repr__(self) -> str:
        return f"<Indicator {self.code}>"


class MetricValue(Base):
    """One indicator's figure for one town/street (or the district, unit_id NULL) in one month.

    Counts live in `count` (an integer), amounts and rates in `amount` (exact decimal); exactly one is set.
    """

    __tablename__ = "metric_values"
    __table_args__ = (
        # one figure per indicator, month and town; in this column order it is also the index every read takes
        # (some indicators in some months, or the latest month of each: the overview, trends, the summary, the
        # entry grid, the import), so the table has no other index to keep up on every write
        UniqueConstraint("indicator_id", "month", "unit_id"),
        # NULL unit_id is the district: unique constraints treat NULLs as distinct, so a partial index guards it.
        Index(
            "uq_metric_values_district_month",
            "indicator_id",
            "month",
            unique=True,
            sqlite_where=text("unit_id IS NULL"),
            postgresql_where=text("unit_id IS NULL"),
        ),
        CheckConstraint(
            "length(month) = 7 AND substr(month, 5, 1) = '-' AND substr(month, 6, 2) BETWEEN '01' AND '12'",
            name="month",
        ),
        CheckConstraint("count >= 0", name="count_not_negative"),
        CheckConstraint("CAST(amount AS NUMERIC) >= 0", name="amount_not_negative"),
        CheckConstraint("(count IS NULL) <> (amount IS NULL)", name="one_value"),
        CheckConstraint("source IN ('entry', 'import', 'correction', 'register')", name="source"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # indexed as the first column of the unique constraint; units are never deleted (only deactivated), so the
    # unit's foreign key needs no index of its own
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicators.id", ondelete="CASCADE"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    month: Mapped[str] = mapped_column(String(7))
    count: Mapped[int | None] = mapped_column(BigInteger)
    amount: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    source: Mapped[str] = mapped_column(String(16), default=SOURCE_ENTRY, server_default=SOURCE_ENTRY)
    # The reason a reviewer gave for the last correction.
    note: Mapped[str] = mapped_column(String(500), default="", server_default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    indicator: Mapped[Indicator] = relationship(back_populates="values")
    unit: Mapped[Unit | None] = relationship()
    updated_by: Mapped[User | None] = relationship()

    __mapper_args__ = {"version_id_col": version}

    @property
    def value(self) -> int | Decimal:
        return self.count if self.count is not None else self.amount

    def __repr__(self) -> str:
        return f"<MetricValue {self.indicator_id} {self.unit_id} {self.month} {self.value}>"
