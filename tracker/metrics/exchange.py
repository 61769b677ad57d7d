"""Spreadsheet exchange against the database: the import preview (every problem per row and column), the
all-or-nothing write, and the template and export files.

Errors block the import (unknown unit, bad or future month, a value that is not a non-negative number with the
indicator's decimals, a duplicate row, a column nobody knows, a figure the user may not write). Warnings are shown
and must be acknowledged (a loss that looks like 元 instead of 万元, a jump far above the unit's last two years,
a figure that would overwrite an existing one, shown old → new). An empty cell changes nothing.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple

from sqlalchemy import bindparam, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from .. import clock
from ..audit.service import record
from ..db import UTCDateTime, violated_unique
from ..errors import StaleEdit, ValidationError
from ..org.models import KIND_DEPARTMENT, Unit
from ..periods import Period
from .excel import MONTH_HEADER, UNIT_HEADER, RawSheet, month_text, write_workbook
from .indicators import active_indicators, all_indicators
from .models import SCOPE_DISTRICT, SOURCE_CORRECTION, SOURCE_IMPORT, ExactDecimal, Indicator, MetricValue
from .series import figures
from .units import DISTRICT_LABEL, resolve_units, towns
from .values import (
    HISTORY_MONTHS,
    MAX_REASON,
    Value,
    audit_value,
    fmt,
    is_future,
    parse_value,
    plausibility,
    shift_month,
    stored,
)
from .writers import EntryTarget, write_source

ERROR, WARNING = "error", "warning"
UNIT_HEADERS = {UNIT_HEADER, "单位名称", "镇街", "镇(街道)", "镇街道"}
MONTH_HEADERS = {MONTH_HEADER, "月", "统计月份", "年月"}


@dataclass(frozen=True)
class Problem:
    """One finding of the preview: row 0 is the file as a whole; column is the header text."""

    row: int
    column: str
    message: str
    level: str = ERROR

    def __str__(self) -> str:
        where = f"第{self.row}行" if self.row else "文件"
        col = f" {self.column}" if self.column else ""
        kind = "错误" if self.level == ERROR else "提示"
        return f"[{kind}] {where}{col}:{self.message}"


@dataclass(slots=True)
class PreviewCell:
    raw: str
    new: Value | None = None
    old: Value | None = None
    status: str = "empty"  # empty | new | update | same | error
    message: str = ""
    warn: bool = False


@dataclass(slots=True)
class PreviewRow:
    row: int
    unit_text: str
    month_text: str
    cells: list[PreviewCell]
    problems: list[Problem] = field(default_factory=list)

    @property
    def status(self) -> str:
        if any(p.level == ERROR for p in self.problems):
            return "error"
        if any(c.status in ("new", "update") for c in self.cells):
            return "warning" if self.problems else "write"
        return "same"


class Write(NamedTuple):
    """One figure the import will write: insert when row_id is None, else update that row at that version."""

    line: int
    indicator: Indicator
    unit_id: int | None
    unit_name: str
    month: str
    old: Value | None
    new: Value
    row_id: int | None
    version: int
    source: str


@dataclass(frozen=True)
class Preview:
    """What an import would do: columns, every row with its cells, problems, and the figures to write."""

    columns: list[Indicator]
    rows: list[PreviewRow]
    problems: list[Problem]
    writes: list[Write]

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.level == ERROR]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.level == WARNING]

    @property
    def is_correction(self) -> bool:
        return any(w.source == SOURCE_CORRECTION for w in self.writes)

    @property
    def inserts(self) -> int:
        return sum(1 for w in self.writes if w.row_id is None)

    @property
    def updates(self) -> int:
        return sum(1 for w in self.writes if w.row_id is not None)

    @property
    def can_confirm(self) -> bool:
        return not self.errors and bool(self.writes)

    @property
    def digest(self) -> str:
        """Fingerprint of exactly what would be written over what: the confirm must see the same."""
        h = hashlib.sha256()
        for w in self.writes:
            h.update(f"{w.indicator.id},{w.unit_id},{w.month},{w.old},{w.new},{w.version};".encode())
        return h.hexdigest()


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
    try:
        return Period.month(int(m[1]), int(m[2])).code
    except ValidationError:
        raise ValidationError(f"月份“{text}”无效,应为 YYYY-MM(如 2026-10)") from None


def _columns(headers: list[str], indicators: list[Indicator], problems: list[Problem]):
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


class _History:
    """Figures per series (indicator, unit): the stored ones, overlaid with the file's own, to check each new figure
    against the 24 months before it. Each series is sorted once, and each month's window start computed once."""

    def __init__(self):
        self.series: dict[tuple[int, int | None], dict[str, Value]] = defaultdict(dict)
        self._sorted: dict[tuple[int, int | None], tuple[list[str], list[Value]]] = {}
        self._starts: dict[str, str] = {}

    def add(self, ind_id: int, unit_id: int | None, month: str, v: Value) -> None:
        self.series[(ind_id, unit_id)][month] = v

    def window(self, ind_id: int, unit_id: int | None, month: str) -> list[Value]:
        key = (ind_id, unit_id)
        if key not in self._sorted:
            # windows are asked for once every figure is added: the series' dict is not needed any more
            items = sorted(self.series.pop(key, {}).items())
            self._sorted[key] = ([m for m, _ in items], [v for _, v in items])
        months, values = self._sorted[key]
        start = self._starts.get(month)
        if start is None:
            start = self._starts[month] = shift_month(Period.parse(month), -HISTORY_MONTHS).code
        return values[bisect_left(months, start) : bisect_left(months, month)]


@dataclass(frozen=True)
class _Column:
    """An indicator column of the sheet, with what the row loop reads of it (ORM attributes are slow to read)."""

    at: int  # index in the sheet's row
    ind: Indicator
    id: int
    district: bool
    decimals: int
    label: str


@dataclass(slots=True)
class _Row:
    """A sheet row while it is checked: its preview, its cells, its unit (None: the district) and month."""

    preview: PreviewRow
    cells: tuple
    unit: Unit | None
    ok_unit: bool
    month: str | None


_Pending = tuple[PreviewRow, int, _Column, "int | None", str, Value]  # a figure that may be written


def build_preview(session: Session, actor, sheet: RawSheet) -> Preview:
    """Check every row and cell of the sheet against the units, indicators, rules and stored figures.

    Reads the database in a fixed number of queries; writes nothing. The steps: the header's columns, each row's
    unit and month, the stored figures of those months and the two years before, each cell's value and whether the
    user may write it, then what would be written with its warnings (implausible, overwriting).
    """
    problems: list[Problem] = []
    unit_col, month_col, cols = _columns(sheet.headers, all_indicators(session), problems)
    columns = [ind for _, ind in cols]
    if unit_col is None or month_col is None or not cols:
        return Preview(columns, [], problems, [])
    rows = _read_rows(session, sheet, unit_col, month_col, [i for i, _ in cols])
    existing, history = _stored_figures(session, columns, {r.month for r in rows if r.month})
    sources: dict[tuple[int, int | None], str | None] = {}
    checked = [_Column(i, ind, ind.id, ind.scope == SCOPE_DISTRICT, ind.decimals, ind.label) for i, ind in cols]
    pending = _check_cells(actor, rows, checked, history, sources)
    writes = _plan_writes(pending, existing, history, sources)
    for r in rows:
        problems.extend(r.preview.problems)
    if not writes and not any(p.level == ERROR for p in problems):
        problems.append(
            Problem(0, "", "文件中没有需要写入的新数据(空单元格不修改,与已有数据相同的不重复写入)", WARNING)
        )
    return Preview(columns, [r.preview for r in rows], problems, writes)


def _read_rows(session: Session, sheet: RawSheet, unit_col: int, month_col: int, value_cols: list[int]) -> list[_Row]:
    """Each row's unit and month, checked; a unit or month text seen before is not checked again."""
    names = {_norm(k): v for k, v in resolve_units(session).items()}
    departments = {_norm(n) for n in session.scalars(select(Unit.name).where(Unit.kind == KIND_DEPARTMENT))}
    units: dict[str, tuple[Unit | None, bool, str]] = {}
    months: dict = {}
    rows: list[_Row] = []
    for line, cells in sheet.rows:
        unit_raw, month_raw = cells[unit_col], cells[month_col]
        pr = PreviewRow(
            line,
            "" if unit_raw is None else str(unit_raw).strip(),
            month_text(month_raw),
            [PreviewCell("" if cells[i] is None else str(cells[i])) for i in value_cols],
        )
        if pr.unit_text not in units:
            units[pr.unit_text] = _unit_of(pr.unit_text, names, departments)
        unit, ok_unit, unit_problem = units[pr.unit_text]
        if unit_problem:
            pr.problems.append(Problem(line, UNIT_HEADER, unit_problem))
        key = (type(month_raw), month_raw)  # 1 and 1.0 read differently ("1", "1.0")
        if key not in months:
            months[key] = _month_of(month_raw)
        month, month_problem = months[key]
        if month_problem:
            pr.problems.append(Problem(line, MONTH_HEADER, month_problem))
        rows.append(_Row(pr, cells, unit, ok_unit, month))
    return rows


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


def _stored_figures(
    session: Session, columns: list[Indicator], months: set[str]
) -> tuple[dict[tuple[int, int | None, str], tuple[int, int, Value]], _History]:
    """In one query, the stored figures of the file's months and the two years before them: by (indicator, unit,
    month) their row id, version and value, and as history for the plausibility check."""
    existing: dict[tuple[int, int | None, str], tuple[int, int, Value]] = {}
    history = _History()
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
        existing[(ind_id, uid, m)] = (vid, ver, v)
        history.add(ind_id, uid, m, v)
    return existing, history


def _check_cells(
    actor, rows: list[_Row], cols: list[_Column], history: _History, sources: dict[tuple[int, int | None], str | None]
) -> list[_Pending]:
    """Each cell's value, checked: a number with the indicator's decimals, in the row its scope takes (town or
    全区), one the user may write (sources: how, per indicator and unit), not in a repeated row. Returns the figures
    that may be written, added to the history."""
    seen_rows: dict[tuple[int | None, str], int] = {}
    pending: list[_Pending] = []
    parsed: dict[tuple, tuple[Value | None, str, str]] = {}
    refusals: dict[tuple[int, int | None], str] = {}  # per indicator and unit
    for r in rows:
        pr, unit = r.preview, r.unit
        uid = unit.id if unit else None
        usable = r.ok_unit and r.month is not None
        if usable:
            first = seen_rows.setdefault((uid, r.month), pr.row)
            if first != pr.row:
                pr.problems.append(Problem(pr.row, "", f"与第{first}行重复(同一单位、同一月份)"))
                usable = False
        for ci, col in enumerate(cols):
            raw = r.cells[col.at]
            if raw is None:
                continue
            cell = pr.cells[ci]
            key = (col.id, type(raw), raw)  # 1 and 1.0 differ in what they may be
            known = parsed.get(key)
            if known is None:
                known = _parse_cell(col, raw)
                if len(parsed) < _PARSED_KEPT:
                    parsed[key] = known
            new, shown, error = known
            if error:
                cell.status, cell.message = "error", error
                pr.problems.append(Problem(pr.row, col.label, error))
                continue
            if new is None:
                continue
            cell.new = new
            cell.raw = shown
            if not r.ok_unit:
                continue
            msg = refusals.get((col.id, uid))
            if msg is None:
                msg = refusals[(col.id, uid)] = _cell_refused(actor, col, unit, sources)
            if msg:
                cell.status, cell.message = "error", msg
                pr.problems.append(Problem(pr.row, col.label, msg))
                continue
            if usable:
                history.add(col.id, uid, r.month, new)
                pending.append((pr, ci, col, uid, r.month, new))
    return pending


_PARSED_KEPT = 20_000  # distinct cell values remembered: files repeat most figures (0, 1, 2 …)


def _parse_cell(col: _Column, raw) -> tuple[Value | None, str, str]:
    """(value, value as shown, "") of a cell, or (None, "", the problem)."""
    try:
        new = parse_value(col.ind, raw)
    except ValidationError as e:
        return None, "", str(e)
    return new, "" if new is None else fmt(new, col.decimals), ""


def _cell_refused(actor, col: _Column, unit: Unit | None, sources: dict) -> str:
    """Why this figure cannot go into this row: the indicator's scope, or the user's permission; "" when it can."""
    if col.district != (unit is None):
        if col.district:
            return f"该指标按全区填报,请填在“{DISTRICT_LABEL}”行"
        return "该指标按镇(街道)填报,全区数由各镇(街道)汇总,不能直接填写"
    key = (col.id, unit.id if unit else None)
    if key not in sources:
        sources[key] = write_source(actor, EntryTarget(col.ind, key[1]))
    if sources[key] is None:
        return f"您无权填报{unit.name if unit else DISTRICT_LABEL}的{col.ind.name}"
    return ""


def _plan_writes(
    pending: list[_Pending],
    existing: dict[tuple[int, int | None, str], tuple[int, int, Value]],
    history: _History,
    sources: dict[tuple[int, int | None], str | None],
) -> list[Write]:
    """What the import would write: each pending figure that differs from the stored one, with its warnings
    (implausible against the 24 months before; overwriting a stored figure, old → new)."""
    writes: list[Write] = []
    for pr, ci, col, uid, month, new in pending:
        cell = pr.cells[ci]
        vid, ver, old = existing.get((col.id, uid, month), (None, 0, None))
        cell.old = old
        if old is not None and old == new:
            cell.status = "same"
            continue
        warning = plausibility(col.ind, new, history.window(col.id, uid, month))
        if warning:
            cell.warn, cell.message = True, warning
            pr.problems.append(Problem(pr.row, col.label, warning, WARNING))
        if old is not None:
            cell.status = "update"
            msg = f"将覆盖已有数据:{fmt(old, col.decimals)} → {fmt(new, col.decimals)}"
            cell.message = (cell.message + ";" if cell.message else "") + msg
            pr.problems.append(Problem(pr.row, col.label, msg, WARNING))
        else:
            cell.status = "new"
        unit_name = pr.unit_text if uid is not None else DISTRICT_LABEL
        source = SOURCE_CORRECTION if sources[(col.id, uid)] == SOURCE_CORRECTION else SOURCE_IMPORT
        writes.append(Write(pr.row, col.ind, uid, unit_name, month, old, new, vid, ver, source))
    return writes


@dataclass(frozen=True)
class ImportResult:
    inserted: int
    updated: int
    months: int


def apply_import(session: Session, actor, preview: Preview, reason: str = "", filename: str = "") -> ImportResult:
    """Write every figure of a checked preview in the caller's transaction, or none.

    A figure changed by someone else since the preview makes the whole import fail (StaleEdit). One audit event
    per month records every changed figure.
    """
    reason = _confirmable(preview, reason)
    now = clock.now()
    actor_id = getattr(actor, "id", None)
    counts = {ind.id: ind.is_count for ind in preview.columns}
    inserts = [w for w in preview.writes if w.row_id is None]
    updates = [w for w in preview.writes if w.row_id is not None]
    session.flush()
    connection = session.connection()
    if inserts:
        _insert_figures(connection, [_columns_of(w, counts, reason) for w in inserts], now, actor_id)
    if updates:
        _update_figures(connection, updates, counts, reason, now, actor_id)
    months = _record_months(session, actor, preview.writes, reason, filename)
    session.flush()
    return ImportResult(len(inserts), len(updates), months)


_STALE = "预览后有数据被他人修改,本次导入未写入任何数据。请重新上传文件核对后再导入。"


def _confirmable(preview: Preview, reason: str) -> str:
    """The correction reason, trimmed; ValidationError when the preview cannot be written."""
    if preview.errors:
        raise ValidationError(f"预览中有{len(preview.errors)}个错误,不能导入,请修改文件后重新上传")
    if not preview.writes:
        raise ValidationError("没有需要写入的数据")
    reason = (reason or "").strip()
    if len(reason) > MAX_REASON:
        raise ValidationError(f"更正原因不能超过{MAX_REASON}字")
    if preview.is_correction and not reason:
        raise ValidationError("审核员导入即为更正数据,请填写更正原因")
    return reason


def _columns_of(w: Write, counts: dict[int, bool], reason: str) -> tuple:
    """(indicator, unit, month, count, amount, source, note) of a figure to write."""
    is_count = counts[w.indicator.id]
    return (
        w.indicator.id,
        w.unit_id,
        w.month,
        int(w.new) if is_count else None,
        None if is_count else Decimal(w.new),
        w.source,
        reason if w.source == SOURCE_CORRECTION else "",
    )


_INSERTED = ("indicator_id", "unit_id", "month", "count", "amount", "source", "note", "updated_at", "updated_by_id")


def _insert_figures(connection: Connection, rows: list[tuple], now, actor_id: int | None) -> None:
    """Insert the new figures (version 1): by COPY on PostgreSQL, else one prepared statement executed for all
    rows. Either way the values go to the driver as the column types would bind them, without SQLAlchemy handling
    each row. A row someone inserted since the preview (the unique constraint) fails the whole import."""
    table = MetricValue.__table__
    names = ", ".join(_INSERTED) + ", version"  # the statements name only the model's own table and columns
    try:
        if connection.dialect.name == "postgresql":
            with connection.connection.driver_connection.cursor() as cursor:
                with cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row((*row, now, actor_id, 1))
        else:
            at = UTCDateTime().process_bind_param(now, connection.dialect)
            stored_rows = [(*r[:4], None if r[4] is None else format(r[4], "f"), *r[5:], at, actor_id, 1) for r in rows]
            marks = ", ".join("?" * (len(_INSERTED) + 1))
            connection.exec_driver_sql(f"INSERT INTO {table.name} ({names}) VALUES ({marks})", stored_rows)
    except Exception as e:
        if violated_unique(getattr(e, "orig", e)):
            raise StaleEdit(_STALE) from e
        raise


def _update_figures(
    connection: Connection, updates: list[Write], counts: dict[int, bool], reason: str, now, actor_id: int | None
) -> None:
    """Overwrite stored figures at the version the preview read; one that moved on fails the whole import."""
    t = MetricValue.__table__
    stmt = (
        update(t)
        .where(t.c.id == bindparam("b_id"), t.c.version == bindparam("b_version"))
        .values(
            count=bindparam("b_count"),
            amount=bindparam("b_amount", type_=ExactDecimal()),
            version=bindparam("b_new_version"),
            source=bindparam("b_source"),
            note=bindparam("b_note"),
            updated_at=bindparam("b_at", type_=UTCDateTime()),
            updated_by_id=bindparam("b_by"),
        )
    )
    params = []
    for w in updates:
        _ind, _unit, _month, count, amount, source, note = _columns_of(w, counts, reason)
        params.append(
            {
                "b_id": w.row_id,
                "b_version": w.version,
                "b_new_version": w.version + 1,
                "b_count": count,
                "b_amount": amount,
                "b_source": source,
                "b_note": note,
                "b_at": now,
                "b_by": actor_id,
            }
        )
    res = connection.execute(stmt, params)
    if connection.dialect.supports_sane_multi_rowcount and res.rowcount != len(updates):
        raise StaleEdit(_STALE)


def _record_months(session: Session, actor, writes: list[Write], reason: str, filename: str) -> int:
    """One audit event per month: every figure written, before and after; returns the number of months."""
    by_month: dict[str, list[Write]] = defaultdict(list)
    for w in writes:
        by_month[w.month].append(w)
    who = getattr(getattr(actor, "unit", None), "name", None) or getattr(actor, "username", "system")
    for month in sorted(by_month):
        ws = by_month[month]
        p = Period.parse(month)
        before = {f"{w.unit_name}/{w.indicator.name}": audit_value(w.old) for w in ws}
        after = {f"{w.unit_name}/{w.indicator.name}": audit_value(w.new) for w in ws}
        correction = any(w.source == SOURCE_CORRECTION for w in ws)
        if correction:
            after["更正原因"] = reason
        record(
            session,
            actor,
            "metrics.correct" if correction else "metrics.import",
            object_type="MetricMonth",
            object_id=p.year * 100 + p.first,
            before=before,
            after=after,
            summary=f"{who} 导入{'更正' if correction else ''} {p.label} 两降两升数据 {len(ws)} 项"
            + (f"(文件 {filename})" if filename else "")
            + (f",原因:{reason}" if correction else ""),
        )
    return len(by_month)


# -- template and export -----------------------------------------------------------------------------


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
