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

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .. import clock
from ..errors import StaleEdit, ValidationError
from .excel import stream_xlsx
from .exchange import CellChecker, Planner, RowReader, checked_columns, finish_preview, header_columns, stored_figures
from .import_preview import ERROR, NEW, UPDATE, Problem, SheetRow
from .importing import Figures, ImportResult, confirmable, insert_overlapped, month_figures, write_months
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
    trimmed = (reason or "").strip()
    figures = Figures(columns, check.sources, trimmed)
    by_month: dict = {}
    now = clock.now()
    written: list[ImportResult] = []

    def month_written(month: str, changed) -> Callable[[], None]:
        """A month whose rows are all read, written by the COPYs' thread in its place among them (see
        `_new_figures`): its changed figures and audit event, as `write_months` writes them at the end."""
        return lambda: written.append(write_months(session, actor, [(month, changed)], trimmed, filename, now))

    session.flush()
    steps = (read, check, Planner(checked, existing))
    new_figures = _new_figures(lines, steps, months, rows, (figures, by_month, month_written))

    def compared() -> str:
        """Once every row is read (while the server takes the last ones): the preview as the classic path builds it,
        and what it decides; the reason, trimmed, when it would write."""
        preview = finish_preview(columns, checked, rows, problems, history, check.sources)
        if preview.digest != digest or preview.months != list(months) or (preview.warnings and not accepted):
            raise Unwritable("not the preview confirmed")
        return confirmable(preview, reason)

    reason = insert_overlapped(session.connection(), new_figures, now, getattr(actor, "id", None), compared)
    written.append(write_months(session, actor, sorted(by_month.items()), reason, filename, now))
    return ImportResult(
        *(sum(r.inserted for r in written), sum(r.updated for r in written), sum(r.months for r in written))
    )


# a month is written while the rest is read once the rows after it are of a later month and it had this many rows:
# a file in month order (each month's towns together); a file in unit order (a town's months together) writes its
# months at the end, as any file whose months go back
SEALED_RUN = 2


def _new_figures(lines: Iterator, steps, months: list[str], rows: list[SheetRow], out) -> Iterator:
    """The new figures of each row as it is read and checked (see `Figures.add`); the rows go to `rows`, the
    months' changed figures and audit values to `out`'s dict by month.

    While the file's rows come in month order, a month is done once a row of a later month follows it (and it had
    at least SEALED_RUN rows): its changed figures and audit event are written then, by the COPYs' thread (a step
    among the rows, `out`'s `month_written`), while the rest is read, instead of after the last row. The months'
    events are in month order either way. A later row of a month at or before one written so (the file's months
    went back) cannot be written in one pass: Unwritable, and the classic path answers."""
    read, check, plan = steps
    figures, by_month, month_written = out
    lo, hi = months
    new_rows: list[tuple] = []
    current, run, in_order, done = None, 0, True, None
    for line, cells in lines:
        r = read(line, cells)
        check(r)
        plan(r)
        rows.append(r)
        if r.problems and any(p.level == ERROR for p in r.problems):
            raise Unwritable(f"row {line}")
        month = r.month
        if month is not None and not lo <= month <= hi:
            raise Unwritable(f"row {line}: a month whose stored figures were not read")
        if month is not None and month != current:
            if current is not None and month < current:
                in_order = False
            elif current is not None and in_order and run >= SEALED_RUN:
                done = current
                changed = by_month.pop(current, None)
                if changed is not None:
                    yield month_written(current, changed)
            if done is not None and month <= done:
                raise Unwritable(f"row {line}: a month already written")
            current, run = month, 0
        run += 1
        if NEW in r.codes or UPDATE in r.codes:
            changed = by_month.get(month)
            if changed is None:
                changed = by_month[month] = month_figures()
            figures.add(changed, r, new_rows)
            yield from new_rows
            new_rows.clear()
