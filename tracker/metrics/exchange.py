"""The figures import's preview: every problem per row and column of an uploaded sheet (the write is in importing.py,
the template and export files in workbooks.py).

Errors block the import (unknown unit, bad or future month, a value that is not a non-negative number with the
indicator's decimals, a duplicate row, a column nobody knows, a figure the user may not write). Warnings are shown
and must be acknowledged (a loss that looks like 元 instead of 万元, a jump far above the unit's last two years,
a figure that would overwrite an existing one, shown old → new). An empty cell changes nothing.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import ValidationError
from ..org.models import KIND_DEPARTMENT, Unit
from ..periods import MAX_YEAR, MIN_YEAR, Period
from .excel import MONTH_HEADER, UNIT_HEADER, RawSheet, month_text
from .import_history import History
from .import_preview import (
    EMPTY,
    ERROR,
    FAILED,
    NEW,
    PENDING,
    SAME,
    UPDATE,
    WARNING,
    Preview,
    PreviewCell,
    PreviewRow,
    Problem,
    SheetRow,
    Write,
)
from .indicators import all_indicators
from .models import SCOPE_DISTRICT, SOURCE_CORRECTION, Indicator, MetricValue
from .units import DISTRICT_LABEL, resolve_units
from .values import HISTORY_MONTHS, Value, fmt, is_future, parse_value, shift_month, stored
from .writers import EntryTarget, write_source

__all__ = ["Preview", "PreviewCell", "PreviewRow", "Problem", "Write", "build_preview", "parse_month"]

UNIT_HEADERS = {UNIT_HEADER, "单位名称", "镇街", "镇(街道)", "镇街道"}
MONTH_HEADERS = {MONTH_HEADER, "月", "统计月份", "年月"}


def _norm(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text or ""))


def _split_header(text: str) -> tuple[str, str | None]:
    m = re.fullmatch(r"(.+?)\((.*)\)", text)
    return (m[1], m[2]) if m else (text, None)


def parse_month(cell) -> str:
    """A month cell as YYYY-MM; raises ValidationError."""
    text = _norm(month_text(cell))
    m = re.fullmatch(r"(\d{4})[-/.年](\d{1,2})月?", text) or re.fullmatch(r"(\d{4})(\d{2})", text)
    if not m:
        raise ValidationError(f"月份“{text[:20]}”无法识别,应为 YYYY-MM(如 2026-10)" if text else "缺少月份")
    if not MIN_YEAR <= int(m[1]) <= MAX_YEAR:
        raise ValidationError(f"月份“{text}”超出范围,年份须在{MIN_YEAR}至{MAX_YEAR}年之间")
    try:
        return Period.month(int(m[1]), int(m[2])).code
    except ValidationError:
        raise ValidationError(f"月份“{text}”无效,应为 YYYY-MM(如 2026-10)") from None


def header_columns(headers: list[str], indicators: list[Indicator], problems: list[Problem]):
    by_name = {}
    for ind in indicators:
        by_name[_norm(ind.name)] = ind
        by_name.setdefault(ind.code.lower(), ind)
    unit_col = month_col = None
    cols: list[tuple[int, Indicator]] = []
    seen: dict[int, str] = {}
    for i, raw in enumerate(headers):
        h = _norm(raw)
        if not h:
            continue
        if h in UNIT_HEADERS:
            unit_col = i
            continue
        if h in MONTH_HEADERS:
            month_col = i
            continue
        name, unit = _split_header(h)
        ind = by_name.get(name) or by_name.get(name.lower())
        if ind is None:
            problems.append(Problem(0, raw, "无法识别的列(不是在用的指标),请使用下载的模板"))
            continue
        if not ind.is_active:
            problems.append(Problem(0, raw, f"指标“{ind.name}”已停用,不能导入"))
            continue
        if unit is not None and _norm(unit) != _norm(ind.unit_label):
            problems.append(Problem(0, raw, f"表头单位“{unit}”与指标的计量单位“{ind.unit_label}”不一致"))
            continue
        if ind.id in seen:
            problems.append(Problem(0, raw, f"与列“{seen[ind.id]}”重复"))
            continue
        seen[ind.id] = raw
        cols.append((i, ind))
    if unit_col is None:
        problems.append(Problem(0, UNIT_HEADER, "缺少“单位”列"))
    if month_col is None:
        problems.append(Problem(0, MONTH_HEADER, "缺少“月份”列"))
    if not cols and not problems:
        problems.append(Problem(0, "", "没有任何指标列"))
    return unit_col, month_col, cols


@dataclass(frozen=True)
class _Column:
    """An indicator column of the sheet, with what the row loop reads of it (ORM attributes are slow to read)."""

    at: int  # index in the sheet's row
    ind: Indicator
    id: int
    district: bool
    decimals: int
    label: str


def build_preview(session: Session, actor, sheet: RawSheet) -> Preview:
    """Check every row and cell of the sheet against the units, indicators, rules and stored figures.

    Reads the database in a fixed number of queries; writes nothing. The steps: the header's columns, each row's
    unit and month, the stored figures of those months and the two years before, each cell's value and whether the
    user may write it, then what would be written with its warnings (implausible, overwriting).
    """
    problems: list[Problem] = []
    unit_col, month_col, cols = header_columns(sheet.headers, all_indicators(session), problems)
    columns = [ind for _, ind in cols]
    if unit_col is None or month_col is None or not cols:
        return Preview(columns, [], problems)
    read = RowReader(session, unit_col, month_col)
    rows = [read(line, cells) for line, cells in sheet.rows]
    existing, history = stored_figures(session, columns, {r.month for r in rows if r.month})
    checked = checked_columns(cols)
    check = CellChecker(actor, checked, history)
    plan = Planner(checked, existing)
    for r in rows:
        check(r)
        plan(r)
    return finish_preview(columns, checked, rows, problems, history, check.sources)


def checked_columns(cols: list[tuple[int, Indicator]]) -> list[_Column]:
    return [_Column(i, ind, ind.id, ind.scope == SCOPE_DISTRICT, ind.decimals, ind.label) for i, ind in cols]


def finish_preview(columns, checked, rows, problems, history, sources) -> Preview:
    """The preview of rows checked and planned: each figure's warnings, the counts, every problem."""
    counts = _plan_writes(rows, checked, history, sources)
    for r in rows:
        if r.problems:
            problems.extend(r.problems)
    if not counts[0] + counts[1] and not any(p.level == ERROR for p in problems):
        problems.append(
            Problem(0, "", "文件中没有需要写入的新数据(空单元格不修改,与已有数据相同的不重复写入)", WARNING)
        )
    return Preview(columns, rows, problems, sources, counts, [c.at for c in checked])


class RowReader:
    """Each row's unit and month, checked; a unit or month text seen before is not checked again."""

    def __init__(self, session: Session, unit_col: int, month_col: int):
        self.names = {_norm(k): v for k, v in resolve_units(session).items()}
        self.departments = {_norm(n) for n in session.scalars(select(Unit.name).where(Unit.kind == KIND_DEPARTMENT))}
        self.unit_col, self.month_col = unit_col, month_col
        self.units: dict = {}
        self.months: dict = {}

    def __call__(self, line: int, cells: tuple) -> SheetRow:
        units, months, names, departments = self.units, self.months, self.names, self.departments
        unit_raw, month_raw = cells[self.unit_col], cells[self.month_col]
        unit_key = (type(unit_raw), unit_raw)
        known_unit = units.get(unit_key)
        if known_unit is None:
            text = "" if unit_raw is None else str(unit_raw).strip()
            known_unit = units[unit_key] = (text, *_unit_of(text, names, departments))
        unit_text, unit, ok_unit, unit_problem = known_unit
        key = (type(month_raw), month_raw)  # 1 and 1.0 read differently ("1", "1.0")
        known_month = months.get(key)
        if known_month is None:
            known_month = months[key] = (month_text(month_raw), *_month_of(month_raw))
        text, month, month_problem = known_month
        row = SheetRow(line, unit_text, text, cells, unit, ok_unit, month)
        if unit_problem:
            row.problem(UNIT_HEADER, unit_problem)
        if month_problem:
            row.problem(MONTH_HEADER, month_problem)
        return row


def _unit_of(text: str, names: dict[str, Unit | None], departments: set[str]) -> tuple[Unit | None, bool, str]:
    """(unit, whether it may take figures, the problem): None is the district; a department, an unknown or a
    deactivated unit is a problem."""
    key = _norm(text)
    if not key:
        return None, False, "缺少单位"
    if key not in names:
        if key in departments:
            return None, False, f"“{text}”是部门,不是镇(街道);全区数据请填“{DISTRICT_LABEL}”"
        return None, False, f"未知单位“{text}”(应为镇(街道)名称或“{DISTRICT_LABEL}”)"
    unit = names[key]
    if unit is not None and not unit.is_active:
        return None, False, f"{unit.name}已停用"
    return unit, True, ""


def _month_of(raw) -> tuple[str | None, str]:
    """(YYYY-MM, "") of a month cell, or (None, the problem): unreadable, or still to come."""
    try:
        month = parse_month(raw)
    except ValidationError as e:
        return None, str(e)
    if is_future(Period.parse(month)):
        return None, f"{month}尚未到来,不能导入未来月份的数据"
    return month, ""


_Stored = dict[tuple[int | None, str], dict[int, tuple[int, int, Value]]]


def stored_figures(session: Session, columns: list[Indicator], months: set[str]) -> tuple[_Stored, History]:
    """In one query, the stored figures of the file's months and the two years before them: by unit and month, per
    indicator, their row id, version and value; and as history for the plausibility check."""
    existing: _Stored = {}
    history = History()
    if not months:
        return existing, history
    by_id = {i.id: i for i in columns}
    lo = shift_month(Period.parse(min(months)), -HISTORY_MONTHS).code
    q = select(
        MetricValue.id,
        MetricValue.version,
        MetricValue.indicator_id,
        MetricValue.unit_id,
        MetricValue.month,
        MetricValue.count,
        MetricValue.amount,
    ).where(
        MetricValue.indicator_id.in_(list(by_id)),
        MetricValue.month >= lo,
        MetricValue.month <= max(months),
    )
    for vid, ver, ind_id, uid, m, count, amount in session.execute(q):
        v = stored(by_id[ind_id], count, amount)
        figures = existing.get((uid, m))
        if figures is None:
            figures = existing[(uid, m)] = {}
        figures[ind_id] = (vid, ver, v)
        history.add(ind_id, uid, m, v)
    return existing, history


class CellChecker:
    """Each cell's value, checked: a number with the indicator's decimals, in the row its scope takes (town or
    全区), one the user may write, not in a repeated row. Marks the figures that may be written (PENDING) and adds
    them to the history. `sources`: how the user may write each column, per unit (None: not at all)."""

    def __init__(self, actor, cols: list[_Column], history: History):
        self.actor, self.cols, self.history = actor, cols, history
        self.seen_rows: dict[tuple[int | None, str], int] = {}
        self.parse = _Parser(cols)
        self.refusals: dict[int | None, tuple[str, ...]] = {}  # per unit, each column's refusal ("" if none)
        self.sources: dict[int | None, tuple[str | None, ...]] = {}
        self.series: dict[int | None, list] = {}  # per unit, each column's history to add the file's figures to
        self.interned: dict[str, str] = {}
        self.ats = [(ci, col.at) for ci, col in enumerate(cols)]

    def unit(self, uid: int | None, unit: Unit | None) -> tuple[str, ...]:
        """Each column's refusal for this unit's rows, worked out the first time the unit is seen."""
        refused = self.refusals.get(uid)
        if refused is None:
            cols = self.cols
            ways = self.sources[uid] = tuple(_source(self.actor, col, unit) for col in cols)
            refused = self.refusals[uid] = tuple(_refusal(c, unit, s) for c, s in zip(cols, ways, strict=True))
            self.series[uid] = self.history.of_unit(uid, [col.id for col in cols])
        return refused

    def __call__(self, r: SheetRow) -> None:
        uid = r.unit_id
        usable = r.ok_unit and r.month is not None
        if usable:
            first = self.seen_rows.setdefault((uid, r.month), r.line)
            if first != r.line:
                r.problem("", f"与第{first}行重复(同一单位、同一月份)")
                usable = False
        refused = self.unit(uid, r.unit) if r.ok_unit else None
        cols, parse, width = self.cols, self.parse, len(self.cols)
        ints = parse.ints
        values, codes = [None] * width, [EMPTY] * width
        cells, month, unit_series = r.cells, r.month, self.series.get(uid)
        for ci, at in self.ats:
            raw = cells[at]
            if raw is None:
                continue
            known = ints[ci].get(raw) if type(raw) is int else None  # the common case, in short
            new, error = known if known is not None else parse(ci, raw)
            if error:
                codes[ci] = FAILED
                r.note(ci, error)
                r.problem(cols[ci].label, error)
                continue
            if new is None:
                continue
            values[ci] = new
            if refused is None:
                continue
            if refused[ci]:
                codes[ci] = FAILED
                r.note(ci, refused[ci])
                r.problem(cols[ci].label, refused[ci])
            elif usable:
                codes[ci] = PENDING
                unit_series[ci][month] = new
        text = "".join(codes)
        r.values, r.codes = values, self.interned.setdefault(text, text)


class _Parser:
    """Each cell's (value, "") or (None, the problem), parsed once per distinct cell of a column: files repeat most
    figures (0, 1, 2 …). Whole numbers are remembered apart (`ints`): 1, 1.0 and True differ in what they may be."""

    KEPT = 20_000  # distinct cell values remembered

    def __init__(self, cols: list[_Column]):
        self.cols = cols
        self.ints: list[dict] = [{} for _ in cols]
        self.others: list[dict] = [{} for _ in cols]
        self.size = 0

    def __call__(self, ci: int, raw) -> tuple[Value | None, str]:
        whole = type(raw) is int
        key = raw if whole else (type(raw), raw)
        known = (self.ints if whole else self.others)[ci].get(key)
        if known is None:
            try:
                known = (parse_value(self.cols[ci].ind, raw), "")
            except ValidationError as e:
                known = (None, str(e))
            if self.size < self.KEPT:
                (self.ints if whole else self.others)[ci][key] = known
                self.size += 1
        return known


def _source(actor, col: _Column, unit: Unit | None) -> str | None:
    """How the user may write this column of this unit's rows (None: not at all, or not in this row)."""
    if col.district != (unit is None):
        return None
    return write_source(actor, EntryTarget(col.ind, unit.id if unit else None))


def _refusal(col: _Column, unit: Unit | None, source: str | None) -> str:
    """Why this figure cannot go into this row: the indicator's scope, or the user's permission; "" when it can."""
    if col.district != (unit is None):
        if col.district:
            return f"该指标按全区填报,请填在“{DISTRICT_LABEL}”行"
        return "该指标按镇(街道)填报,全区数由各镇(街道)汇总,不能直接填写"
    if source is None:
        return f"您无权填报{unit.name if unit else DISTRICT_LABEL}的{col.ind.name}"
    return ""


class Planner:
    """What the import would write of a checked row: each pending figure that differs from the stored one (new or
    update, else same)."""

    def __init__(self, cols: list[_Column], existing: _Stored):
        self.cols, self.existing = cols, existing
        self.interned: dict[str, str] = {}

    def __call__(self, r: SheetRow) -> None:
        if PENDING not in r.codes:
            return
        figures = self.existing.get((r.unit_id, r.month))
        if figures is None:
            text = r.codes.replace(PENDING, NEW)
        else:
            codes = list(r.codes)
            for ci, code in enumerate(codes):
                if code == PENDING:
                    _vid, _ver, old = known = figures.get(self.cols[ci].id, (None, 0, None))
                    if old is None:
                        codes[ci] = NEW
                    else:
                        codes[ci] = SAME if old == r.values[ci] else UPDATE
                        if r.stored is None:
                            r.stored = {}
                        r.stored[ci] = known
            text = "".join(codes)
        r.codes = self.interned.setdefault(text, text)


def _plan_writes(rows: list[SheetRow], cols: list[_Column], history: History, sources: dict) -> tuple[int, int, bool]:
    """The warnings of the planned figures (implausible against the 24 months before; overwriting a stored figure,
    old → new). Returns (inserts, updates, whether any is a correction)."""
    implausible = history.warnings(rows, cols)
    inserts = updates = 0
    correction = False
    for ri, r in enumerate(rows):
        written = r.codes.count(NEW) + r.codes.count(UPDATE)
        if not written:
            continue
        inserts += r.codes.count(NEW)
        updates += r.codes.count(UPDATE)
        if not correction and SOURCE_CORRECTION in sources[r.unit_id]:
            correction = any(
                s == SOURCE_CORRECTION and c in (NEW, UPDATE) for s, c in zip(sources[r.unit_id], r.codes, strict=True)
            )
        if ri in implausible or UPDATE in r.codes:
            _warn(r, cols, implausible.get(ri, {}))
    return inserts, updates, correction


def _warn(r: SheetRow, cols: list[_Column], implausible: dict[int, str]) -> None:
    """A row's warnings, column by column: implausible, then overwriting (old → new)."""
    for ci, code in enumerate(r.codes):
        if code != NEW and code != UPDATE:
            continue
        col = cols[ci]
        warning = implausible.get(ci)
        if warning:
            r.note(ci, warning, warn=True)
            r.problem(col.label, warning, WARNING)
        if code == UPDATE:
            old, new = r.stored[ci][2], r.values[ci]
            msg = f"将覆盖已有数据:{fmt(old, col.decimals)} → {fmt(new, col.decimals)}"
            r.note(ci, msg)
            r.problem(col.label, msg, WARNING)
