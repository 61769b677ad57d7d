"""The figures import confirmed in one pass: the uploaded file read again, each row checked and its new figures
sent to the database as soon as it is read, so the server inserts while the rest of the file is read (on a large
file the reading and checking take as long as the server's inserting; before, one waited for the other). On
PostgreSQL only (`worth_it`).

The preview the user confirmed is known only by its digest, so everything is checked again as the classic path
checks it (build the preview, compare, then `importing.apply_import`), and the comparison comes at the end: when
the file, read again, is refused, has an error, names a month outside those the preview read stored figures for,
ends with another digest, has warnings not acknowledged, cannot be confirmed, or meets a figure written meanwhile
(or any other constraint), the transaction is rolled back (nothing written) and the caller takes the classic path,
which answers exactly as before (the preview shown again, the message). Only a confirm that the classic path would
write is written here, with the same figures, versions checked and audit events.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from itertools import chain

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .. import clock
from ..errors import StaleEdit, ValidationError
from .excel import stream_xlsx
from .exchange import CellChecker, Planner, RowReader, checked_columns, finish_preview, header_columns, stored_figures
from .import_preview import ERROR, NEW, UPDATE, Problem, SheetRow
from .importing import (
    Figures,
    ImportResult,
    confirmable,
    encode_month,
    insert_overlapped,
    month_figures,
    write_months,
)
from .indicators import all_indicators
from .values import MAX_REASON


def worth_it(session: Session) -> bool:
    """Whether the confirm goes in one pass: on PostgreSQL, whose server inserts while the file is read. SQLite
    inserts in this process, so there is nothing to overlap (and the inserts between the rows' checks took more
    CPU than all the checks, then all the inserts): it builds the preview again first."""
    return session.get_bind().dialect.name == "postgresql"


class Unwritable(Exception):
    """The confirm cannot be written in one pass (see the module): the classic path answers it."""


def write_confirmed(
    session: Session,
    actor,
    data: bytes,
    filename: str,
    months: list[str] | None,
    digest: str,
    accepted: bool,
    reason: str = "",
) -> ImportResult | None:
    """Check the uploaded file again and write its figures in the caller's transaction, in one pass; None (the
    transaction rolled back, nothing written) when the classic path must answer. `months`: the first and last
    month of the preview's rows, for which the stored figures are read before the file is; `digest`: the
    preview's; `accepted`: whether the user acknowledged its warnings."""
    if not months or len(months) != 2 or len((reason or "").strip()) > MAX_REASON:
        return None
    try:
        return _write(session, actor, data, filename, months, (digest, accepted, reason))
    except (Unwritable, ValidationError, StaleEdit, IntegrityError):
        session.rollback()
        return None


def _write(session: Session, actor, data: bytes, filename: str, months: list[str], confirm) -> ImportResult:
    digest, accepted, reason = confirm
    lines = stream_xlsx(data, filename)
    problems: list[Problem] = []
    unit_col, month_col, cols = header_columns(next(lines), all_indicators(session), problems)
    if problems or unit_col is None or month_col is None:
        raise Unwritable("the header")
    columns = [ind for _, ind in cols]
    existing, history = stored_figures(session, columns, set(months))
    checked = checked_columns(cols)
    read = RowReader(session, unit_col, month_col)
    check = CellChecker(actor, checked, history)
    for unit in read.names.values():  # the permission checks before the write, which has the connection to itself
        check.unit(unit.id if unit is not None else None, unit)
    rows: list[SheetRow] = []
    figures = Figures(columns, check.sources, (reason or "").strip())
    by_month: dict = {}
    now = clock.now()
    written: list[ImportResult] = []
    session.flush()
    new_figures = _new_figures(lines, (read, check, Planner(checked, existing)), months, rows, (figures, by_month))

    def compared() -> str:
        """Once every row is read (while the server takes the last ones): the preview as the classic path builds it,
        and what it decides; the reason, trimmed, when it would write."""
        preview = finish_preview(columns, checked, rows, problems, history, check.sources)
        if preview.digest != digest or preview.months != list(months) or (preview.warnings and not accepted):
            raise Unwritable("not the preview confirmed")
        return confirmable(preview, reason)

    def months_written() -> Iterator[Callable[[], None]]:
        """Once every row is read and the preview compared: each month's changed figures and audit event, as steps
        the COPYs' thread runs after the last batch (see insert_overlapped), in month order. Each month's audit
        values are encoded here, by this thread, while the COPYs' thread writes the batches or the month before:
        the server inserts one month's event while the next is encoded."""
        trimmed = compared()
        for month in sorted(by_month):
            changed = by_month.pop(month)  # its values go once written: only the months queued are held
            encode_month(changed, trimmed)
            yield lambda m=month, c=changed: written.append(
                write_months(session, actor, [(m, c)], trimmed, filename, now)
            )

    insert_overlapped(session.connection(), chain(new_figures, months_written()), now, getattr(actor, "id", None))
    return ImportResult(
        *(sum(r.inserted for r in written), sum(r.updated for r in written), sum(r.months for r in written))
    )


def _new_figures(lines: Iterator, steps, months: list[str], rows: list[SheetRow], out) -> Iterator[tuple]:
    """The new figures of each row as it is read and checked (see `Figures.add`); the rows go to `rows`, the
    months' changed figures and audit values to `out`'s dict by month."""
    read, check, plan = steps
    figures, by_month = out
    lo, hi = months
    new_rows: list[tuple] = []
    for line, cells in lines:
        r = read(line, cells)
        check(r)
        plan(r)
        rows.append(r)
        if r.problems and any(p.level == ERROR for p in r.problems):
            raise Unwritable(f"row {line}")
        if r.month is not None and not lo <= r.month <= hi:
            raise Unwritable(f"row {line}: a month whose stored figures were not read")
        if NEW in r.codes or UPDATE in r.codes:
            month = by_month.get(r.month)
            if month is None:
                month = by_month[r.month] = month_figures()
            figures.add(month, r, new_rows)
            yield from new_rows
            new_rows.clear()
