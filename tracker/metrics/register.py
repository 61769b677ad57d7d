"""The figures counted from the publicity-activity register (宣传场次, 覆盖人次): stored by it, never typed."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import clock
from ..audit.service import record
from .models import REGISTER_CODES, SOURCE_REGISTER, Indicator, MetricValue


def set_register_values(session: Session, actor, unit_id: int, month: str, values: dict[str, int]) -> None:
    """Store a town's monthly figures counted from the publicity register (code -> count; 0 removes the figure,
    so a month without activities reads 未录入 like any month without data). Audited when a figure changes."""
    indicators = {i.code: i for i in session.scalars(select(Indicator).where(Indicator.code.in_(list(values))))}
    rows = {
        v.indicator_id: v
        for v in session.scalars(
            select(MetricValue).where(
                MetricValue.unit_id == unit_id,
                MetricValue.month == month,
                MetricValue.indicator_id.in_([i.id for i in indicators.values()]),
            )
        )
    }
    before, after = {}, {}
    now = clock.now()
    for code, count in values.items():
        if code not in REGISTER_CODES:
            raise ValueError(f"{code} is not counted from the register")
        ind = indicators.get(code)
        if ind is None:
            continue
        row = rows.get(ind.id)
        old = row.count if row else None
        new = count or None
        if old == new:
            continue
        before[code], after[code] = old, new
        if new is None:
            session.delete(row)
        elif row is None:
            session.add(
                MetricValue(
                    indicator_id=ind.id,
                    unit_id=unit_id,
                    month=month,
                    count=new,
                    source=SOURCE_REGISTER,
                    updated_at=now,
                    updated_by_id=getattr(actor, "id", None),
                )
            )
        else:
            row.count, row.amount, row.source, row.note = new, None, SOURCE_REGISTER, ""
            row.updated_at, row.updated_by_id = now, getattr(actor, "id", None)
    if after:
        session.flush()
        record(
            session,
            actor,
            "metrics.register",
            object_type="Unit",
            object_id=unit_id,
            before=before,
            after=after,
            summary=f"{month} 宣传台账统计:" + ",".join(f"{c} {before[c]}→{after[c]}" for c in after),
        )
