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

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from .. import clock
from ..audit.service import record
from ..db import UTCDateTime
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


@dataclass
class PreviewCell:
    raw: str
    new: Value | None = None
    old: Value | None = None
    status: str = "empty"  # empty | new | update | same | error
    message: str = ""
    warn: bool = False


@dataclass
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


@dataclass(frozen=True)
class Write:
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
    """Stored figures (overlaid with the file's own) per (indicator, unit), to spot implausible values."""

    def __init__(self):
        self.series: dict[tuple[int, int | None], dict[str, Value]] = defaultdict(dict)
        self._sorted: dict[tuple[int, int | None], tuple[list[str], list[Value]]] = {}

    def add(self, ind_id: int, unit_id: int | None, month: str, v: Value) -> None:
        self.series[(ind_id, unit_id)][month] = v

    def window(self, ind_id: int, unit_id: int | None, month: str) -> list[Value]:
        key = (ind_id, unit_id)
        if key not in self._sorted:
            items = sorted(self.series.get(key, {}).items())
            self._sorted[key] = ([m for m, _ in items], [v for _, v in items])
        months, values = self._sorted[key]
        start = shift_month(Period.parse(month), -HISTORY_MONTHS).code
        return values[bisect_left(months, start) : bisect_left(months, month)]


def build_preview(session: Session, actor, sheet: RawSheet) -> Preview:
    """Check every row and cell of the sheet against the units, indicators, rules and stored figures.

    Reads the database in a fixed number of queries; writes nothing.
    """
    problems: list[Problem] = []
    unit_col, month_col, cols = _columns(sheet.headers, all_indicators(session), problems)
    columns = [ind for _, ind in cols]
    if unit_col is None or month_col is None or not cols:
        return Preview(columns, [], problems, [])
    names = {_norm(k): v for k, v in resolve_units(session).items()}
    departments = {_norm(n) for n in session.scalars(select(Unit.name).where(Unit.kind == KIND_DEPARTMENT))}
    rows: list[PreviewRow] = []
    parsed: list[tuple[PreviewRow, tuple, Unit | None, bool, str | None]] = []
    months: set[str] = set()
    for line, cells in sheet.rows:
        unit_raw, month_raw = cells[unit_col], cells[month_col]
        pr = PreviewRow(
            line,
            "" if unit_raw is None else str(unit_raw).strip(),
            month_text(month_raw),
            [PreviewCell("" if cells[i] is None else str(cells[i])) for i, _ in cols],
        )
        unit, ok_unit = None, False
        key = _norm(pr.unit_text)
        if not key:
            pr.problems.append(Problem(line, UNIT_HEADER, "缺少单位"))
        elif key not in names:
            msg = (
                f"“{pr.unit_text}”是部门,不是镇(街道);全区数据请填“{DISTRICT_LABEL}”"
                if key in departments
                else f"未知单位“{pr.unit_text}”(应为镇(街道)名称或“{DISTRICT_LABEL}”)"
            )
            pr.problems.append(Problem(line, UNIT_HEADER, msg))
        elif names[key] is not None and not names[key].is_active:
            pr.problems.append(Problem(line, UNIT_HEADER, f"{names[key].name}已停用"))
        else:
            unit, ok_unit = names[key], True
        month = None
        try:
            month = parse_month(month_raw)
            if is_future(Period.parse(month)):
                pr.problems.append(Problem(line, MONTH_HEADER, f"{month}尚未到来,不能导入未来月份的数据"))
                month = None
        except ValidationError as e:
            pr.problems.append(Problem(line, MONTH_HEADER, str(e)))
        if month:
            months.add(month)
        parsed.append((pr, cells, unit, ok_unit, month))
        rows.append(pr)
    by_id = {i.id: i for i in columns}
    # one query: stored figures of the file's months and the two years before them (for plausibility)
    existing: dict[tuple[int, int | None, str], tuple[int, int, Value]] = {}
    history = _History()
    if months:
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
            MetricValue.indicator_id.in_([i.id for i in columns]),
            MetricValue.month >= lo,
            MetricValue.month <= max(months),
        )
        for vid, ver, ind_id, uid, m, count, amount in session.execute(q):
            v = stored(by_id[ind_id], count, amount)
            existing[(ind_id, uid, m)] = (vid, ver, v)
            history.add(ind_id, uid, m, v)
    sources: dict[tuple[int, int | None], str | None] = {}
    seen_rows: dict[tuple[int | None, str], int] = {}
    pending: list[tuple[PreviewRow, int, Indicator, int | None, str, Value]] = []
    for pr, cells, unit, ok_unit, month in parsed:
        uid = unit.id if unit else None
        usable = ok_unit and month is not None
        if usable:
            first = seen_rows.setdefault((uid, month), pr.row)
            if first != pr.row:
                pr.problems.append(Problem(pr.row, "", f"与第{first}行重复(同一单位、同一月份)"))
                usable = False
        for ci, (i, ind) in enumerate(cols):
            cell = pr.cells[ci]
            try:
                new = parse_value(ind, cells[i])
            except ValidationError as e:
                cell.status, cell.message = "error", str(e)
                pr.problems.append(Problem(pr.row, ind.label, str(e)))
                continue
            if new is None:
                continue
            cell.new = new
            cell.raw = fmt(new, ind.decimals)
            if not ok_unit:
                continue
            if (ind.scope == SCOPE_DISTRICT) != (uid is None):
                msg = (
                    f"该指标按全区填报,请填在“{DISTRICT_LABEL}”行"
                    if ind.scope == SCOPE_DISTRICT
                    else "该指标按镇(街道)填报,全区数由各镇(街道)汇总,不能直接填写"
                )
                cell.status, cell.message = "error", msg
                pr.problems.append(Problem(pr.row, ind.label, msg))
                continue
            if (ind.id, uid) not in sources:
                sources[(ind.id, uid)] = write_source(actor, EntryTarget(ind, uid))
            if sources[(ind.id, uid)] is None:
                msg = f"您无权填报{unit.name if unit else DISTRICT_LABEL}的{ind.name}"
                cell.status, cell.message = "error", msg
                pr.problems.append(Problem(pr.row, ind.label, msg))
                continue
            if usable:
                history.add(ind.id, uid, month, new)
                pending.append((pr, ci, ind, uid, month, new))
    writes: list[Write] = []
    for pr, ci, ind, uid, month, new in pending:
        cell = pr.cells[ci]
        vid, ver, old = existing.get((ind.id, uid, month), (None, 0, None))
        cell.old = old
        if old is not None and old == new:
            cell.status = "same"
            continue
        warning = plausibility(ind, new, history.window(ind.id, uid, month))
        if warning:
            cell.warn, cell.message = True, warning
            pr.problems.append(Problem(pr.row, ind.label, warning, WARNING))
        if old is not None:
            cell.status = "update"
            msg = f"将覆盖已有数据:{fmt(old, ind.decimals)} → {fmt(new, ind.decimals)}"
            cell.message = (cell.message + ";" if cell.message else "") + msg
            pr.problems.append(Problem(pr.row, ind.label, msg, WARNING))
        else:
            cell.status = "new"
        unit_name = pr.unit_text if uid is not None else DISTRICT_LABEL
        source = SOURCE_CORRECTION if sources[(ind.id, uid)] == SOURCE_CORRECTION else SOURCE_IMPORT
        writes.append(Write(pr.row, ind, uid, unit_name, month, old, new, vid, ver, source))
    for pr in rows:
        problems.extend(pr.problems)
    if not writes and not any(p.level == ERROR for p in problems):
        problems.append(
            Problem(0, "", "文件中没有需要写入的新数据(空单元格不修改,与已有数据相同的不重复写入)", WARNING)
        )
    return Preview(columns, rows, problems, writes)


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
    if preview.errors:
        raise ValidationError(f"预览中有{len(preview.errors)}个错误,不能导入,请修改文件后重新上传")
    if not preview.writes:
        raise ValidationError("没有需要写入的数据")
    reason = (reason or "").strip()
    if len(reason) > MAX_REASON:
        raise ValidationError(f"更正原因不能超过{MAX_REASON}字")
    if preview.is_correction and not reason:
        raise ValidationError("审核员导入即为更正数据,请填写更正原因")
    now = clock.now()
    actor_id = getattr(actor, "id", None)
    inserts, updates = [], []
    for w in preview.writes:
        count = int(w.new) if w.indicator.is_count else None
        amount = None if w.indicator.is_count else Decimal(w.new)
        note = reason if w.source == SOURCE_CORRECTION else ""
        if w.row_id is None:
            inserts.append(
                {
                    "indicator_id": w.indicator.id,
                    "unit_id": w.unit_id,
                    "month": w.month,
                    "count": count,
                    "amount": amount,
                    "source": w.source,
                    "note": note,
                    "updated_at": now,
                    "updated_by_id": actor_id,
                    "version": 1,
                }
            )
        else:
            updates.append(
                {
                    "b_id": w.row_id,
                    "b_version": w.version,
                    "b_new_version": w.version + 1,
                    "b_count": count,
                    "b_amount": amount,
                    "b_source": w.source,
                    "b_note": note,
                    "b_at": now,
                    "b_by": actor_id,
                }
            )
    if inserts:
        # Core executemany: the ORM's bulk path would group rows by their None columns, one statement per group
        session.execute(insert(MetricValue.__table__), inserts)
    if updates:
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
        res = session.execute(stmt, updates)
        dialect = session.get_bind().dialect
        if dialect.supports_sane_multi_rowcount and res.rowcount != len(updates):
            raise StaleEdit("预览后有数据被他人修改,本次导入未写入任何数据。请重新上传文件核对后再导入。")
    by_month: dict[str, list[Write]] = defaultdict(list)
    for w in preview.writes:
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
    session.flush()
    return ImportResult(len(inserts), len(updates), len(by_month))


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
