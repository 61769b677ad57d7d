"""The figures import written: all or nothing, new figures in one batch (COPY on PostgreSQL), updates checked
against the versions the preview read, one audit event per unit and month."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import bindparam, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from .. import clock
from ..audit.service import record
from ..db import UTCDateTime, violated_unique
from ..errors import StaleEdit, ValidationError
from ..periods import Period
from .exchange import Preview, Write
from .models import SOURCE_CORRECTION, ExactDecimal, MetricValue
from .values import (
    MAX_REASON,
    audit_value,
)


@dataclass(frozen=True)
class ImportResult:
    inserted: int
    updated: int
    months: int


def apply_import(session: Session, actor, preview: Preview, reason: str = "", filename: str = "") -> ImportResult:
    """Write every figure of a checked preview in the caller's transaction, or none.

    A figure changed by someone else since the preview makes the whole import fail (StaleEdit). One audit event
    per month records every changed figure. The figures are written a month at a time, from the preview's compact
    rows, so no more than a month's are held at once.
    """
    reason = _confirmable(preview, reason)
    now = clock.now()
    actor_id = getattr(actor, "id", None)
    counts = {ind.id: ind.is_count for ind in preview.columns}
    who = getattr(getattr(actor, "unit", None), "name", None) or getattr(actor, "username", "system")
    names: dict[tuple[int | None, int], str] = {}  # the audit's "unit/indicator" of each series
    session.flush()
    connection = session.connection()
    inserted = updated = months = 0
    for month, writes in preview.month_writes():
        inserts = [_columns_of(w, counts, reason) for w in writes if w.row_id is None]
        updates = [w for w in writes if w.row_id is not None]
        if inserts:
            _insert_figures(connection, inserts, now, actor_id)
        if updates:
            _update_figures(connection, updates, counts, reason, now, actor_id)
        _record_month(session, actor, who, month, writes, names, reason, filename)
        inserted, updated, months = inserted + len(inserts), updated + len(updates), months + 1
    session.flush()
    return ImportResult(inserted, updated, months)


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
            statement = f"INSERT INTO {table.name} ({names}) VALUES ({marks})"  # nosec B608: model names, no input
            connection.exec_driver_sql(statement, stored_rows)
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


def _record_month(
    session: Session,
    actor,
    who: str,
    month: str,
    ws: list[Write],
    names: dict[tuple[int | None, int], str],
    reason: str,
    filename: str,
) -> None:
    """The month's audit event: every figure written, before and after."""
    p = Period.parse(month)
    keys = []
    for w in ws:
        key = names.get((w.unit_id, w.indicator.id))
        if key is None:
            key = names[(w.unit_id, w.indicator.id)] = f"{w.unit_name}/{w.indicator.name}"
        keys.append(key)
    before = {key: audit_value(w.old) for key, w in zip(keys, ws, strict=True)}
    after = {key: audit_value(w.new) for key, w in zip(keys, ws, strict=True)}
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
