"""The plausibility check of the figures import, a series (indicator, unit) at a time: each figure to write
against the same unit's figures of the 24 months before it, the stored ones overlaid with the file's own."""

from __future__ import annotations

from ..periods import Period
from .import_preview import NEW, UPDATE, SheetRow
from .values import (
    HISTORY_MONTHS,
    JUMP_AFTER,
    JUMP_FACTOR,
    MEDIAN_AFTER,
    YUAN_ABSOLUTE,
    YUAN_FACTOR,
    Value,
    plausibility,
    shift_month,
)


class History:
    """Figures per series (indicator, unit) by month: the stored ones, overlaid with the file's."""

    def __init__(self):
        self.series: dict[tuple[int, int | None], dict[str, Value]] = {}

    def add(self, ind_id: int, unit_id: int | None, month: str, v: Value) -> None:
        self.of_unit(unit_id, (ind_id,))[0][month] = v

    def of_unit(self, unit_id: int | None, ind_ids) -> list[dict[str, Value]]:
        """The series of a unit, one per indicator given, to add figures to by month."""
        out = []
        for ind_id in ind_ids:
            figures = self.series.get((ind_id, unit_id))
            if figures is None:
                figures = self.series[(ind_id, unit_id)] = {}
            out.append(figures)
        return out

    def warnings(self, rows: list[SheetRow], cols: list) -> dict[int, dict[int, str]]:
        """The plausibility warnings of the figures to write (NEW or UPDATE in their row's codes), by row index and
        column index. Each series is sorted once and walked once, its 24-month window moving along with it."""
        at: dict[int | None, dict[str, int]] = {}  # per unit, the row writing each month
        for ri, r in enumerate(rows):
            if NEW in r.codes or UPDATE in r.codes:
                at.setdefault(r.unit_id, {})[r.month] = ri
        column = {col.id: ci for ci, col in enumerate(cols)}
        starts: dict[str, str] = {}
        out: dict[int, dict[int, str]] = {}
        for (ind_id, uid), figures in self.series.items():
            rows_of = at.get(uid)
            if rows_of and figures:
                ci = column[ind_id]
                for ri, message in _series_warnings(cols[ci].ind, ci, figures, rows_of, rows, starts):
                    out.setdefault(ri, {})[ci] = message
        return out


def _series_warnings(ind, ci: int, figures: dict[str, Value], rows_of: dict[str, int], rows: list, starts: dict):
    """(row index, warning) of each implausible figure to write in one series. Only a figure that could be
    implausible is judged by `plausibility()`, the check the entry grid makes: one above 3 × the figure before it
    (the window's highest is at least that one), or a 万元 figure of 10 000 or at least 1000 × the series' lowest
    (the window's median is at least that)."""
    months = sorted(figures)
    values = [figures[m] for m in months]
    wan = ind.unit_label == "万元"
    yuan_below = 0  # a 万元 figure below this cannot look like 元 (0: any may, the series has a zero)
    if wan and min(values) > 0:
        yuan_below = min(YUAN_FACTOR * min(values), YUAN_ABSOLUTE)
    lo = 0
    for i, month in enumerate(months):
        new = values[i]
        if not new:  # a figure of 0 is never implausible
            continue
        may_be_yuan = wan and new >= yuan_below
        if i < JUMP_AFTER and not may_be_yuan:
            continue
        ri = rows_of.get(month)
        if ri is None:
            continue
        code = rows[ri].codes[ci]
        if code != NEW and code != UPDATE:
            continue
        start = starts.get(month)
        if start is None:
            start = starts[month] = shift_month(Period.parse(month), -HISTORY_MONTHS).code
        while months[lo] < start:
            lo += 1
        # the figure before it is in its window: not above 3 × that one, it is not above 3 × the window's highest
        if not may_be_yuan and (i - lo < JUMP_AFTER or new <= JUMP_FACTOR * values[i - 1]):
            continue
        message = _judged(ind, wan, values, lo, i)
        if message:
            yield ri, message


def _judged(ind, wan: bool, values: list[Value], lo: int, i: int) -> str | None:
    """plausibility() of values[i] against values[lo:i], asked only when the warning is possible."""
    new, n = values[i], i - lo
    window = values[lo:i]
    if n >= JUMP_AFTER and new > JUMP_FACTOR * max(window):
        return plausibility(ind, new, window)
    # the median is at least the lowest figure: below 1000 × the lowest, it cannot be 1000 × the median
    if wan and (new >= YUAN_ABSOLUTE or (n >= MEDIAN_AFTER and new >= YUAN_FACTOR * min(window))):
        return plausibility(ind, new, window)
    return None
