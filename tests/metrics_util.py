"""Helpers for the 两降两升 tests: write figures through the service, as the users do."""

from __future__ import annotations

import io

from openpyxl import Workbook
from sqlalchemy import select

from tracker.metrics import service
from tracker.metrics.models import MetricValue

from .conftest import get_user

NOW = (2026, 11, 28, 10)


def put(session, month: str, values: dict, actor=None, reason: str = ""):
    """Save figures of one month: values map (town name, or None for the district; indicator code) to a value."""
    actor = actor or get_user(session, "police")
    inds = {i.code: i for i in service.all_indicators(session)}
    units = {u.name: u for u in service.towns(session, include_inactive=True)}
    versions = {
        (v.indicator_id, v.unit_id): v.version
        for v in session.scalars(select(MetricValue).where(MetricValue.month == month))
    }
    entries = {}
    for (town, code), v in values.items():
        key = (inds[code].id, units[town].id if town else None)
        entries[key] = ("" if v is None else str(v), versions.get(key, 0))
    result = service.save_grid(session, actor, month, entries, reason)
    session.flush()
    return result


def series(session, town: str, code: str, start: str, figures: list, actor=None) -> None:
    """Consecutive monthly figures of one town from `start` (YYYY-MM); None skips a month."""
    from tracker.periods import Period

    p = Period.parse(start)
    for v in figures:
        if v is not None:
            put(session, p.code, {(town, code): v}, actor)
        p = p.next()


def xlsx(rows: list[list], headers: list[str] | None = None) -> bytes:
    """A workbook with the template's header and the given rows."""
    wb = Workbook()
    ws = wb.active
    ws.title = "数据"
    ws.append(headers or ["单位", "月份", "发案数(起)", "损失金额(万元)", "抓获数(人)", "破案数(起)"])
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
