"""The figures import written: all or nothing, straight from the preview's compact rows. New figures first, in one
stream as they are built (one COPY on PostgreSQL, so the server inserts while the next rows are built; one prepared
statement on SQLite); then month by month the updates, checked against the versions the preview read, and the
month's audit event."""

from __future__ import annotations

import contextvars
import io
import queue
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import bindparam, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from .. import clock
from ..audit.service import Encoded, PlainValues, encoded, record
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
    reason = confirmable(preview, reason)
    now = clock.now()
    figures = Figures(preview.columns, preview.sources, reason)
    session.flush()
    built: list[tuple[str, _Month]] = []
    new_figures = figures.stream(preview.month_rows(), built)
    if preview.inserts:
        insert_figures(session.connection(), new_figures, now, getattr(actor, "id", None))
    else:
        deque(new_figures, maxlen=0)  # nothing new: only the months' changes and audit values
    return write_months(session, actor, built, reason, filename, now)


def write_months(session: Session, actor, built: list[tuple[str, _Month]], reason: str, filename: str, now):
    """Once the new figures are in: month by month (in order) the changed figures and the month's audit event."""
    actor_id = getattr(actor, "id", None)
    who = getattr(getattr(actor, "unit", None), "name", None) or getattr(actor, "username", "system")
    connection = session.connection()
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


def confirmable(preview: Preview, reason: str) -> str:
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


def month_figures() -> _Month:
    return _Month(0, [], PlainValues(), PlainValues(), False)  # each only None, int or str (_audit_value)


class Figures:
    """The figures of the preview's rows as the table stores them, with the audit's names and values. `sources`:
    per unit id, how the user may write each column (a correction carries the reason)."""

    def __init__(self, columns: list, sources: dict, reason: str):
        self.columns, self.sources, self.reason = columns, sources, reason
        self.ids = [ind.id for ind in columns]
        self.counts = [ind.is_count for ind in columns]
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
        out, new_rows = month_figures(), []
        for r in rows:
            self.add(out, r, new_rows)
        return out, new_rows

    def add(self, out: _Month, r: SheetRow, new_rows: list[tuple]) -> None:
        """A row's figures to write: the new ones to `new_rows` as the table's columns, the changed ones and the
        audit's before and after to its month's `out`."""
        ids, counts, reason = self.ids, self.counts, self.reason
        uid, month = r.unit_id, r.month
        sources = self.sources[uid]
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
                out.inserts += 1
            else:
                vid, version, old = r.stored[ci]
                out.updates.append((vid, version, count, amount, source, note))
            out.before[keys[ci]] = _audit_value(old)
            out.after[keys[ci]] = _audit_value(new)
            out.correction = out.correction or correct

    def _names(self, unit_name: str) -> list[str]:
        names = self.names.get(unit_name)
        if names is None:
            names = self.names[unit_name] = [f"{unit_name}/{ind.name}" for ind in self.columns]
        return names


def _audit_value(v):
    """values.audit_value, in short: a whole number as it is, a decimal as its text."""
    return v if v is None or type(v) is int else format(v, "f")


# the PostgreSQL types of the columns COPY writes: _INSERTED, then version
_COPY_TYPES = ("int4", "int4", "varchar", "int8", "numeric", "varchar", "varchar", "timestamptz", "int4", "int4")
_INSERTED = ("indicator_id", "unit_id", "month", "count", "amount", "source", "note", "updated_at", "updated_by_id")


def insert_figures(connection: Connection, rows: Iterable[tuple], now, actor_id: int | None) -> None:
    """Insert the new figures (version 1), each row sent as it is built: by one COPY on PostgreSQL (the server
    inserts while the next rows are built), else one prepared statement executed for all rows. Either way the values
    go to the driver as the column types would bind them, without SQLAlchemy handling each row. A row someone
    inserted since the preview (the unique constraint) fails the whole import."""
    try:
        if connection.dialect.name == "postgresql":
            _copy(connection, rows, now, actor_id)
        else:
            _insert_sqlite(connection, rows, now, actor_id)
    except Exception as e:
        raise _stale_if_unique(e) from e


# insert_overlapped: rows a COPY (the server's foreign-key checks come at the end of each), and batches built ahead
# of the one being written (about 1 MB each), so the rows are all built well before the server has taken them
BATCH, QUEUED = 5_000, 8


def insert_overlapped(connection: Connection, rows: Iterable, now, actor_id: int | None, meanwhile=None):
    """insert_figures for rows that take the caller long to build (read and checked from a file as they come).

    On PostgreSQL a row's foreign keys are checked at the end of its statement, all at once, so one COPY of every
    row keeps the server busy long after the last row is sent, the caller waiting. Here the rows go in batches,
    each by a COPY of its own that a thread runs (waiting for the server without holding the interpreter) while
    the caller builds the next batch: the server checks a batch's keys while the next is built. A batch is encoded
    as the COPY's data by the caller's thread as its rows come, so the thread hands it to the server at once.

    `rows` may also hold steps (anything but a tuple: a callable taking nothing), which the thread runs in their
    order once the rows before them are written (a month's changed figures and audit event once every row is
    read, say), with the caller's context (app context, context variables): it has the connection and the
    session meanwhile. The caller's thread uses neither while it builds the rows and steps (it may read what is
    loaded); once every row is built, it runs `meanwhile` (work that needs no database) while the server takes
    the last batches. The thread is done when this returns what `meanwhile` returned, or raises (an error of
    either thread, or of a step). Elsewhere (SQLite), insert_figures of the rows up to each step, the step, and so
    on, then `meanwhile`."""
    if connection.dialect.name != "postgresql":
        return _insert_in_turn(connection, rows, now, actor_id, meanwhile)
    batches: queue.Queue = queue.Queue(maxsize=QUEUED)
    failed: list[BaseException] = []
    stopped: list[bool] = []

    def write() -> None:
        while (item := batches.get()) is not None:
            if not failed and not stopped:  # after either the batches are only taken, so the caller never waits
                try:
                    if type(item) is bytes:
                        _copy_encoded(connection, item)
                    else:
                        item()
                except BaseException as e:  # noqa: BLE001 - handed to the caller's thread
                    failed.append(e)

    encode = _Encoder(connection, now, actor_id)
    # the steps run as in the caller's thread: with its app context (the session, flask.g) and context variables
    writer = threading.Thread(target=contextvars.copy_context().run, args=(write,), name="figures-copy", daemon=True)
    writer.start()
    try:
        _feed(rows, encode, batches, failed)
        done = meanwhile() if meanwhile and not failed else None
    except BaseException:
        stopped.append(True)  # the caller's error: the batches still queued are not written
        raise
    finally:
        batches.put(None)
        writer.join()
        encode.close()
    if failed:
        raise _stale_if_unique(failed[0]) from failed[0]
    return done


def _insert_in_turn(connection: Connection, rows: Iterable, now, actor_id: int | None, meanwhile=None):
    """`insert_overlapped` where nothing overlaps (SQLite): insert_figures of the rows up to each step, the step,
    and so on, then `meanwhile`."""
    rows, step = iter(rows), []
    while True:
        insert_figures(connection, _until_step(rows, step), now, actor_id)
        if not step:
            return meanwhile() if meanwhile else None
        step.pop()()


def _feed(rows: Iterable, encode: _Encoder, batches: queue.Queue, failed: list) -> None:
    """`insert_overlapped`'s reading side: the rows encoded into batches and queued with the steps, in order, until
    the rows end or the writing thread fails."""
    for row in rows:
        if type(row) is not tuple:
            if failed:
                return
            if encode.rows:
                batches.put(encode.batch())  # a step: the batch being built is written before it
            batches.put(row)
        elif encode(row) == BATCH:
            if failed:
                return
            batches.put(encode.batch())
    if encode.rows and not failed:
        batches.put(encode.batch())


class _Encoder:
    """Rows encoded as a binary COPY's data in the caller's thread, a batch at a time: the thread that writes a
    batch then hands its bytes to the server at once, so the server never waits for rows being formatted (which
    would wait for the caller's thread to let go of the interpreter). A cursor of the connection only formats
    (psycopg's FileWriter): it sends nothing."""

    def __init__(self, connection: Connection, now, actor_id: int | None):
        from psycopg import Copy
        from psycopg.copy import FileWriter

        self.cursor = connection.connection.driver_connection.cursor()
        self.Copy, self.FileWriter = Copy, FileWriter
        self.tail = (now, actor_id, 1)
        self.rows = 0
        self._start()

    def _start(self) -> None:
        self.buffer = io.BytesIO()
        self.copy = self.Copy(self.cursor, binary=True, writer=self.FileWriter(self.buffer))
        self.copy.set_types(_COPY_TYPES)
        self.write = self.copy.write_row

    def __call__(self, row: tuple) -> int:
        self.write(row + self.tail)
        self.rows += 1
        return self.rows

    def batch(self) -> bytes:
        """The rows encoded since the last batch, signature and trailer included; a new batch begins."""
        self.copy.finish(None)
        data = self.buffer.getvalue()
        self.rows = 0
        self._start()
        return data

    def close(self) -> None:
        self.cursor.close()


def _until_step(rows: Iterator, step: list) -> Iterator[tuple]:
    """The rows up to the next step, which goes to `step`."""
    for row in rows:
        if type(row) is not tuple:
            step.append(row)
            return
        yield row


def _copy_encoded(connection: Connection, data: bytes) -> None:
    with connection.connection.driver_connection.cursor() as cursor:
        with cursor.copy(f"COPY {MetricValue.__tablename__} ({_NAMES}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.write(data)


def _stale_if_unique(e: BaseException) -> BaseException:
    """A row someone inserted since the preview (the unique constraint) is a stale edit; anything else as it is."""
    return StaleEdit(_STALE) if violated_unique(getattr(e, "orig", e)) else e


_NAMES = ", ".join(_INSERTED) + ", version"  # the statements name only the model's own table and columns


def _copy(connection: Connection, rows: Iterable[tuple], now, actor_id: int | None) -> None:
    with connection.connection.driver_connection.cursor() as cursor:
        with cursor.copy(f"COPY {MetricValue.__tablename__} ({_NAMES}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(_COPY_TYPES)  # binary: nothing formatted as text here, nor parsed by the server
            write, tail = copy.write_row, (now, actor_id, 1)
            for row in rows:
                write(row + tail)


def _insert_sqlite(connection: Connection, rows: Iterable[tuple], now, actor_id: int | None) -> None:
    at = UTCDateTime().process_bind_param(now, connection.dialect)
    stored_rows = ((*r[:4], None if r[4] is None else format(r[4], "f"), *r[5:], at, actor_id, 1) for r in rows)
    marks = ", ".join("?" * (len(_INSERTED) + 1))
    statement = f"INSERT INTO {MetricValue.__tablename__} ({_NAMES}) VALUES ({marks})"  # nosec B608: model names
    cursor = connection.connection.driver_connection.cursor()
    try:
        cursor.executemany(statement, stored_rows)  # sqlite3 takes the rows as they are built
    finally:
        cursor.close()


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


def encode_month(figures: _Month, reason: str) -> None:
    """The month's audit values encoded ahead of its event (audit.encoded), the correction's reason with them: the
    JSON work done by the thread that calls this, not by the one that records the event."""
    _with_reason(figures, reason)
    figures.before, figures.after = encoded(figures.before), encoded(figures.after)


def _with_reason(figures: _Month, reason: str) -> None:
    if figures.correction:
        figures.after["更正原因"] = reason


def _record_month(session: Session, actor, who: str, month: str, figures: _Month, reason: str, filename: str) -> None:
    """The month's audit event: every figure written, before and after."""
    p = Period.parse(month)
    correction = figures.correction
    if type(figures.after) is not Encoded:
        _with_reason(figures, reason)
    after = figures.after
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
