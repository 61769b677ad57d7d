"""The figures import written: all or nothing, straight from the preview's compact rows. New figures first, in one
stream as they are built (one COPY on PostgreSQL, so the server inserts while the next rows are built; one prepared
statement on SQLite); then month by month the updates, checked against the versions the preview read, and the
month's audit event."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
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
from .import_preview import NEW, UPDATE, Preview, SheetRow
from .models import SOURCE_CORRECTION, SOURCE_IMPORT, ExactDecimal, MetricValue
from .units import DISTRICT_LABEL
from .values import MAX_REASON


@dataclass(frozen=True)
class ImportResult:
    inserted: int
    updated: int
    months: int


def apply_import(session: Session, actor, preview: Preview, reason: str = "", filename: str = "") -> ImportResult:
    """Write every figure of a checked preview in the caller's transaction, or none.

    A figure changed by someone else since the preview makes the whole import fail (StaleEdit). One audit event
    per month records every changed figure: each month's is built while the new figures stream to the database
    (the server inserting meanwhile) and recorded once they are all in.
    """
    reason = _confirmable(preview, reason)
    now = clock.now()
    actor_id = getattr(actor, "id", None)
    who = getattr(getattr(actor, "unit", None), "name", None) or getattr(actor, "username", "system")
    figures = _Figures(preview, reason)
    session.flush()
    connection = session.connection()
    built: list[tuple[str, _Month]] = []
    new_figures = figures.stream(preview.month_rows(), built)
    if preview.inserts:
        _insert_figures(connection, new_figures, now, actor_id)
    else:
        deque(new_figures, maxlen=0)  # nothing new: only the months' changes and audit values
    inserted = updated = 0
    for month, month_figures in built:
        if month_figures.updates:
            _update_figures(connection, month_figures.updates, now, actor_id)
        _record_month(session, actor, who, month, month_figures, reason, filename)
        inserted += month_figures.inserts
        updated += len(month_figures.updates)
    session.flush()
    return ImportResult(inserted, updated, len(built))


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


@dataclass
class _Month:
    """A month's figures: how many are new, the changed ones as (row id, version read, count, amount, source, note),
    and the audit's before and after of every figure written."""

    inserts: int
    updates: list[tuple]
    before: dict
    after: dict
    correction: bool


class _Figures:
    """The figures of the preview's rows as the table stores them, with the audit's names and values."""

    def __init__(self, preview: Preview, reason: str):
        self.preview, self.reason = preview, reason
        self.ids = [ind.id for ind in preview.columns]
        self.counts = [ind.is_count for ind in preview.columns]
        self.names: dict[str, list[str]] = {}  # per unit as the file names it: each column's "unit/indicator"

    def stream(self, months: Iterator[tuple[str, list[SheetRow]]], built: list) -> Iterator[tuple]:
        """The new figures as the table's columns (indicator, unit, month, count, amount, source, note), month by
        month, each month built when the one before is taken; every month's other figures go to `built`."""
        for month, rows in months:
            month_figures, new = self.of(rows)
            yield from new
            built.append((month, month_figures))

    def of(self, rows: list[SheetRow]) -> tuple[_Month, list[tuple]]:
        """A month's figures, and its new ones as the table's columns."""
        out, new_rows = _Month(0, [], {}, {}, False), []
        ids, counts, reason = self.ids, self.counts, self.reason
        for r in rows:
            uid, month = r.unit_id, r.month
            sources = self.preview.sources[uid]
            keys = self._names(r.unit_text if uid is not None else DISTRICT_LABEL)
            for ci, code in enumerate(r.codes):
                if code != NEW and code != UPDATE:
                    continue
                new = r.values[ci]
                count, amount = (int(new), None) if counts[ci] else (None, Decimal(new))
                correct = sources[ci] == SOURCE_CORRECTION
                source, note = (SOURCE_CORRECTION, reason) if correct else (SOURCE_IMPORT, "")
                if code == NEW:
                    old = None
                    new_rows.append((ids[ci], uid, month, count, amount, source, note))
                else:
                    vid, version, old = r.stored[ci]
                    out.updates.append((vid, version, count, amount, source, note))
                out.before[keys[ci]] = _audit_value(old)
                out.after[keys[ci]] = _audit_value(new)
                out.correction = out.correction or correct
        out.inserts = len(new_rows)
        return out, new_rows

    def _names(self, unit_name: str) -> list[str]:
        names = self.names.get(unit_name)
        if names is None:
            names = self.names[unit_name] = [f"{unit_name}/{ind.name}" for ind in self.preview.columns]
        return names


def _audit_value(v):
    """values.audit_value, in short: a whole number as it is, a decimal as its text."""
    return v if v is None or type(v) is int else format(v, "f")


# the PostgreSQL types of the columns COPY writes: _INSERTED, then version
_COPY_TYPES = ("int4", "int4", "varchar", "int8", "numeric", "varchar", "varchar", "timestamptz", "int4", "int4")
_INSERTED = ("indicator_id", "unit_id", "month", "count", "amount", "source", "note", "updated_at", "updated_by_id")


def _insert_figures(connection: Connection, rows: Iterable[tuple], now, actor_id: int | None) -> None:
    """Insert the new figures (version 1), each row sent as it is built: by one COPY on PostgreSQL (the server
    inserts while the next rows are built), else one prepared statement executed for all rows. Either way the values
    go to the driver as the column types would bind them, without SQLAlchemy handling each row. A row someone
    inserted since the preview (the unique constraint) fails the whole import."""
    table = MetricValue.__table__
    names = ", ".join(_INSERTED) + ", version"  # the statements name only the model's own table and columns
    try:
        if connection.dialect.name == "postgresql":
            with connection.connection.driver_connection.cursor() as cursor:
                with cursor.copy(f"COPY {table.name} ({names}) FROM STDIN (FORMAT BINARY)") as copy:
                    copy.set_types(_COPY_TYPES)  # binary: nothing formatted as text here, nor parsed by the server
                    write, tail = copy.write_row, (now, actor_id, 1)
                    for row in rows:
                        write(row + tail)
        else:
            at = UTCDateTime().process_bind_param(now, connection.dialect)
            stored_rows = ((*r[:4], None if r[4] is None else format(r[4], "f"), *r[5:], at, actor_id, 1) for r in rows)
            marks = ", ".join("?" * (len(_INSERTED) + 1))
            statement = f"INSERT INTO {table.name} ({names}) VALUES ({marks})"  # nosec B608: model names, no input
            cursor = connection.connection.driver_connection.cursor()
            try:
                cursor.executemany(statement, stored_rows)  # sqlite3 takes the rows as they are built
            finally:
                cursor.close()
    except Exception as e:
        if violated_unique(getattr(e, "orig", e)):
            raise StaleEdit(_STALE) from e
        raise


def _update_figures(connection: Connection, updates: list[tuple], now, actor_id: int | None) -> None:
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
    params = [
        {
            "b_id": vid,
            "b_version": version,
            "b_new_version": version + 1,
            "b_count": count,
            "b_amount": amount,
            "b_source": source,
            "b_note": note,
            "b_at": now,
            "b_by": actor_id,
        }
        for vid, version, count, amount, source, note in updates
    ]
    res = connection.execute(stmt, params)
    if connection.dialect.supports_sane_multi_rowcount and res.rowcount != len(updates):
        raise StaleEdit(_STALE)


def _record_month(session: Session, actor, who: str, month: str, figures: _Month, reason: str, filename: str) -> None:
    """The month's audit event: every figure written, before and after."""
    p = Period.parse(month)
    correction = figures.correction
    after = figures.after
    if correction:
        after["更正原因"] = reason
    written = figures.inserts + len(figures.updates)
    record(
        session,
        actor,
        "metrics.correct" if correction else "metrics.import",
        object_type="MetricMonth",
        object_id=p.year * 100 + p.first,
        before=figures.before,
        after=after,
        summary=f"{who} 导入{'更正' if correction else ''} {p.label} 两降两升数据 {written} 项"
        + (f"(文件 {filename})" if filename else "")
        + (f",原因:{reason}" if correction else ""),
    )
