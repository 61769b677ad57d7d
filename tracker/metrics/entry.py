"""The monthly entry grid: building it for a user, and saving it (conflicts, plausibility warnings, corrections)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import clock
from ..audit.service import record
from ..errors import PermissionDenied, StaleEdit, ValidationError
from ..org.models import Unit
from ..periods import Period
from .models import (
    REGISTER_CODES,
    SCOPE_DISTRICT,
    SOURCE_CORRECTION,
    Indicator,
    MetricValue,
)
from .units import towns
from .values import (
    HISTORY_MONTHS,
    MAX_REASON,
    CellKey,
    Value,
    audit_name,
    audit_value,
    entry_month,
    is_future,
    parse_value,
    plausibility,
    register_message,
    shift_month,
    stored,
    value_columns,
)
from .writers import EntryTarget, applies, writable_indicators, write_source

# -- the entry grid ------------------------------------------------------------------


@dataclass(frozen=True)
class GridCell:
    indicator: Indicator
    unit: Unit | None
    value: Value | None
    version: int  # 0: no figure yet
    source: str | None  # how the current user may write it, None: read-only
    row: MetricValue | None = None


@dataclass(frozen=True)
class EntryGrid:
    """One month's figures as rows (towns, and the district when needed) × indicator columns."""

    month: Period
    indicators: list[Indicator]
    rows: list[Unit | None]
    cells: dict[CellKey, GridCell]
    is_correction: bool

    def cell(self, indicator_id: int, unit_id: int | None) -> GridCell | None:
        return self.cells.get((indicator_id, unit_id))


def build_entry_grid(session: Session, actor, month: str | Period) -> EntryGrid:
    """The grid the actor may write for the month; PermissionDenied when there is nothing for them."""
    p = month if isinstance(month, Period) else entry_month(month)
    town_list = towns(session)
    columns = writable_indicators(session, actor, town_list)
    if not columns:
        raise PermissionDenied("您没有需要填报的指标")
    rows: list[Unit | None] = list(town_list)
    if any(i.scope == SCOPE_DISTRICT for i in columns):
        rows.append(None)
    existing = {
        (v.indicator_id, v.unit_id): v
        for v in session.scalars(
            select(MetricValue).where(
                MetricValue.month == p.code, MetricValue.indicator_id.in_([i.id for i in columns])
            )
        )
    }
    cells: dict[CellKey, GridCell] = {}
    for ind in columns:
        for unit in rows:
            uid = unit.id if unit else None
            if not applies(ind, uid):
                continue
            v = existing.get((ind.id, uid))
            cells[(ind.id, uid)] = GridCell(
                ind,
                unit,
                stored(ind, v.count, v.amount) if v else None,
                v.version if v else 0,
                write_source(actor, EntryTarget(ind, uid)),
                v,
            )
    correction = any(c.source == SOURCE_CORRECTION for c in cells.values())
    return EntryGrid(p, columns, rows, cells, correction)


class CellErrors(ValidationError):
    """Some cells of a grid save are invalid; `errors` maps (indicator id, unit id) to a message."""

    def __init__(self, errors: dict[CellKey, str]):
        super().__init__(f"有{len(errors)}个单元格填写有误,请按提示修改后重新保存。已填写的内容已保留。")
        self.errors = errors


class GridConflict(StaleEdit):
    """Someone changed some of the same cells since the grid was loaded; `current` maps them to today's value."""

    def __init__(self, current: dict[CellKey, Value | None]):
        super().__init__(
            f"有{len(current)}个数据在您打开页面后已被他人修改(标红处为对方保存的值),本次未保存。"
            "您填写的内容已保留在下方,请核对后重新保存。"
        )
        self.current = current


class CellWarnings(ValidationError):
    """Some changed figures of a grid save look wrong; `warnings` maps (indicator id, unit id) to (the figure, the
    warning). Nothing is saved until the user confirms exactly these figures."""

    def __init__(self, warnings: dict[CellKey, tuple[Value, str]]):
        super().__init__(
            f"有{len(warnings)}个数据需要核对(见标黄处),本次未保存。核对无误请勾选“已核对,确认保存”后再次保存;"
            "您填写的内容已保留。"
        )
        self.warnings = warnings


def _grid_warnings(
    session: Session, month: Period, changes: list[tuple], confirmed: dict[CellKey, str]
) -> dict[CellKey, tuple[Value, str]]:
    """The plausibility warnings of the changed figures not yet confirmed, against each cell's 24 months before
    (one query)."""
    checked = [(ind, unit, new) for ind, unit, _row, new, _src in changes if new is not None]
    if not checked:
        return {}
    start = shift_month(month, -HISTORY_MONTHS).code
    history: dict[CellKey, list[Value]] = defaultdict(list)
    by_id = {ind.id: ind for ind, _u, _n in checked}
    for ind_id, uid, count, amount in session.execute(
        select(MetricValue.indicator_id, MetricValue.unit_id, MetricValue.count, MetricValue.amount).where(
            MetricValue.indicator_id.in_(list(by_id)), MetricValue.month >= start, MetricValue.month < month.code
        )
    ):
        history[(ind_id, uid)].append(stored(by_id[ind_id], count, amount))
    out: dict[CellKey, tuple[Value, str]] = {}
    for ind, unit, new in checked:
        key = (ind.id, unit.id if unit else None)
        warning = plausibility(ind, new, history.get(key, []))
        if warning is None:
            continue
        try:
            if key in confirmed and parse_value(ind, confirmed[key]) == new:
                continue  # the user saw this warning for this very figure and confirmed it
        except ValidationError:
            pass
        out[key] = (new, warning)
    return out


@dataclass(frozen=True)
class SaveResult:
    month: Period
    changed: int
    inserted: int
    updated: int
    deleted: int


def save_grid(
    session: Session,
    actor,
    month: str,
    entries: dict[CellKey, tuple],
    reason: str = "",
    confirmed: dict[CellKey, str] | None = None,
) -> SaveResult:
    """Save a month's grid: entries map (indicator id, unit id or None) to (typed text, version seen) or
    (typed text, version seen, text shown when the page was loaded).

    A cell left as it was shown is not written (someone else's newer figure stays); a changed cell whose version
    moved on is a conflict and nothing is saved; an emptied cell removes its figure. A changed figure that fails
    the plausibility check (the import's) stops the save with CellWarnings unless `confirmed` holds, for that
    cell, the same figure the user confirmed after seeing the warning. A reviewer's changes are corrections and
    need a reason. One audit event records every changed cell.
    """
    p = entry_month(month)
    if is_future(p):
        raise ValidationError("不能填报未来月份的数据")
    reason = (reason or "").strip()
    if len(reason) > MAX_REASON:
        raise ValidationError(f"更正原因不能超过{MAX_REASON}字")
    changes = _changed_cells(session, actor, p, entries)
    warnings = _grid_warnings(session, p, changes, confirmed or {})
    if warnings:
        raise CellWarnings(warnings)
    is_correction = any(c[4] == SOURCE_CORRECTION for c in changes)
    if is_correction and not reason:
        raise ValidationError("审核更正须填写更正原因")
    # before and after are read before the writes change the stored rows
    before = {audit_name(ind, unit): audit_value(_old(ind, row)) for ind, unit, row, _new, _s in changes}
    after = {audit_name(ind, unit): audit_value(new) for ind, unit, _row, new, _s in changes}
    counts = _write_changes(session, actor, p, changes, reason)
    if changes:
        session.flush()
        _record_save(session, actor, p, (before, after), reason if is_correction else None)
    return SaveResult(p, len(changes), **counts)


_Change = tuple[Indicator, Unit | None, MetricValue | None, Value | None, str]  # (…, stored row, new figure, source)


def _changed_cells(session: Session, actor, p: Period, entries: dict[CellKey, tuple]) -> list[_Change]:
    """The cells of a save that change a figure; CellErrors for invalid cells, GridConflict for cells someone
    else changed since the grid was loaded, PermissionDenied for a cell the actor may not write."""
    indicators = {i.id: i for i in session.scalars(select(Indicator).where(Indicator.id.in_({k[0] for k in entries})))}
    units = {u.id: u for u in towns(session)}
    existing = {
        (v.indicator_id, v.unit_id): v
        for v in session.scalars(
            select(MetricValue).where(MetricValue.month == p.code, MetricValue.indicator_id.in_(list(indicators)))
        )
    }
    errors: dict[CellKey, str] = {}
    conflicts: dict[CellKey, Value | None] = {}
    changes: list[_Change] = []
    for key, entry in entries.items():
        raw, seen_version = entry[0], entry[1]
        shown = entry[2] if len(entry) > 2 else False
        ind_id, unit_id = key
        ind = indicators.get(ind_id)
        if ind is None or not ind.is_active:
            errors[key] = "指标不存在或已停用"
            continue
        if unit_id is not None and unit_id not in units:
            errors[key] = "单位不存在或不是在用的镇(街道)"
            continue
        if not applies(ind, unit_id):
            errors[key] = "该指标按全区填报" if ind.scope == SCOPE_DISTRICT else "该指标按镇(街道)填报"
            continue
        if ind.code in REGISTER_CODES:
            errors[key] = register_message(ind)
            continue
        source = write_source(actor, EntryTarget(ind, unit_id))
        if source is None:
            raise PermissionDenied("您没有权限填报该数据")
        try:
            new = parse_value(ind, raw)
        except ValidationError as e:
            errors[key] = str(e)
            continue
        if shown is not False and _same_as_shown(ind, shown, new):
            continue
        row = existing.get(key)
        old = _old(ind, row)
        if new == old:
            continue
        if (row.version if row else 0) != (seen_version or 0):
            conflicts[key] = old
            continue
        changes.append((ind, units.get(unit_id) if unit_id else None, row, new, source))
    if errors:
        raise CellErrors(errors)
    if conflicts:
        raise GridConflict(conflicts)
    return changes


def _same_as_shown(ind: Indicator, shown, new: Value | None) -> bool:
    try:
        return parse_value(ind, shown) == new
    except ValidationError:
        return False


def _write_changes(session: Session, actor, p: Period, changes: list[_Change], reason: str) -> dict[str, int]:
    """Insert, update or delete each changed figure; the counts of each."""
    counts = {"inserted": 0, "updated": 0, "deleted": 0}
    now = clock.now()
    for ind, unit, row, new, source in changes:
        note = reason if source == SOURCE_CORRECTION else ""
        if row is None:
            session.add(
                MetricValue(
                    indicator_id=ind.id,
                    unit_id=unit.id if unit else None,
                    month=p.code,
                    source=source,
                    note=note,
                    updated_at=now,
                    updated_by_id=actor.id,
                    **value_columns(ind, new),
                )
            )
            counts["inserted"] += 1
        elif new is None:
            session.delete(row)
            counts["deleted"] += 1
        else:
            for k, v in value_columns(ind, new).items():
                setattr(row, k, v)
            row.source, row.note, row.updated_at, row.updated_by_id = source, note, now, actor.id
            counts["updated"] += 1
    return counts


def _record_save(session: Session, actor, p: Period, cells: tuple[dict, dict], reason: str | None) -> None:
    """One audit event for the save: every changed cell before and after (reason: a correction's, else None)."""
    before, after = cells
    who = getattr(getattr(actor, "unit", None), "name", None) or getattr(actor, "username", "")
    record(
        session,
        actor,
        "metrics.correct" if reason is not None else "metrics.save",
        object_type="MetricMonth",
        object_id=p.year * 100 + p.first,
        before=before,
        after={**after, **({"更正原因": reason} if reason is not None else {})},
        summary=f"{who} {'更正' if reason is not None else '保存'} {p.label} 两降两升数据 {len(after)} 项"
        + (f",原因:{reason}" if reason is not None else ""),
    )


def _old(ind: Indicator, row: MetricValue | None) -> Value | None:
    return stored(ind, row.count, row.amount) if row else None
