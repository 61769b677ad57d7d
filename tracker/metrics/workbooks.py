"""The figures template of a month (every town, the active indicators, notes per column) and the export of a span."""

from __future__ import annotations

from sqlalchemy.orm import Session

from ..errors import ValidationError
from ..periods import Period
from .excel import write_workbook
from .indicators import active_indicators
from .models import SCOPE_DISTRICT, Indicator
from .series import figures
from .units import DISTRICT_LABEL, towns


def _notes(indicators: list[Indicator]) -> list[str]:
    lines = [
        "填写说明",
        "1. 每行填写一个单位一个月份的数据;“单位”填镇(街道)名称,按全区填报的指标填在“全区”行。",
        "2. “月份”格式为 YYYY-MM(如 2026-10),请保持为文本,不要改成日期。",
        "3. 留空的单元格不修改已有数据;与已有数据不同的数值将覆盖原值(导入前预览会逐项列出 原值 → 新值)。",
        "4. 不能为负数;计数类指标须为整数;金额以万元为单位(不是元)。",
        "5. 请勿增删或改名表头;导入前系统会逐行逐列检查,有错误时不会写入任何数据。",
        "",
        "指标:",
    ]
    for ind in indicators:
        lines.append(
            f"  {ind.label}:{ind.direction_label},{ind.decimals}位小数,{SCOPE_TEXT[ind.scope]},"
            f"填报单位:{ind.owner_label}"
        )
    return lines


SCOPE_TEXT = {"township": "按镇(街道)填报", "district": "按全区填报"}


def template_file(session: Session, month: Period) -> bytes:
    """The entry template for a month: a row per town (and 全区 when needed), today's figures filled in."""
    indicators = active_indicators(session)
    rows = figures(session, indicators, month, month)
    have = {(r.unit.id if r.unit else None): r.values for r in rows}
    out = [
        (
            u.name,
            month.code,
            [have.get(u.id, {}).get(i.code) if i.scope != SCOPE_DISTRICT else None for i in indicators],
        )
        for u in towns(session)
    ]
    if any(i.scope == SCOPE_DISTRICT for i in indicators):
        out.append(
            (
                DISTRICT_LABEL,
                month.code,
                [have.get(None, {}).get(i.code) if i.scope == SCOPE_DISTRICT else None for i in indicators],
            )
        )
    return write_workbook(indicators, out, _notes(indicators))


def export_file(session: Session, start: Period, end: Period) -> bytes:
    """Every stored figure of the months from start to end, in the template's columns (it can be imported again)."""
    if (start.year, start.first) > (end.year, end.last):
        raise ValidationError("起始月份不能晚于结束月份")
    indicators = active_indicators(session)
    rows = figures(session, indicators, start, end)
    return write_workbook(
        indicators,
        [
            (r.unit.name if r.unit else DISTRICT_LABEL, r.month, [r.values.get(i.code) for i in indicators])
            for r in rows
        ],
        _notes(indicators),
    )
