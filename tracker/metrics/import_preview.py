"""What the figures import's preview holds (the checks that fill it are in exchange.py).

A file of 60,000 rows has half a million cells, so the preview keeps each row compactly (`SheetRow`: the sheet's
values, each cell's parsed value, one status letter per cell, and the cells with something to say) and builds the
objects the preview page and the write read (`PreviewRow`, `PreviewCell`, `Write`) only when they are read.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from ..org.models import Unit
from .models import SOURCE_CORRECTION, SOURCE_IMPORT, Indicator
from .units import DISTRICT_LABEL
from .values import Value, fmt

ERROR, WARNING = "error", "warning"

# a cell's status, one letter each in SheetRow.codes; "p" (may be written) only while the preview is built
EMPTY, NEW, UPDATE, SAME, FAILED, PENDING = "e", "n", "u", "s", "x", "p"
STATUS = {EMPTY: "empty", NEW: "new", UPDATE: "update", SAME: "same", FAILED: "error"}


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


@dataclass(slots=True)
class SheetRow:
    """A sheet row as checked: its unit (None: the district) and month, each cell's parsed value and status letter
    (`codes`), and only where there is one, its problems, the cells' messages (column index -> (message,
    whether it is a plausibility warning)) and the stored figures of its cells (column index -> (row id,
    version, value))."""

    line: int
    unit_text: str
    month_text: str
    cells: tuple
    unit: Unit | None
    ok_unit: bool
    month: str | None
    values: list = field(default_factory=list)
    codes: str = ""
    problems: list[Problem] | None = None
    notes: dict[int, tuple[str, bool]] | None = None
    stored: dict[int, tuple[int, int, Value]] | None = None

    @property
    def unit_id(self) -> int | None:
        return self.unit.id if self.unit is not None else None

    def problem(self, column: str, message: str, level: str = ERROR) -> None:
        if self.problems is None:
            self.problems = []
        self.problems.append(Problem(self.line, column, message, level))

    def note(self, ci: int, message: str, warn: bool = False) -> None:
        if self.notes is None:
            self.notes = {}
        known = self.notes.get(ci)
        self.notes[ci] = (known[0] + ";" + message if known else message, warn or bool(known and known[1]))


class Preview:
    """What an import would do: columns, every row with its cells, problems, and the figures to write.

    `rows` and `writes` are sequences built from the compact rows as they are read."""

    def __init__(
        self,
        columns: list[Indicator],
        sheet_rows: list[SheetRow],
        problems: list[Problem],
        sources: dict[int | None, tuple[str | None, ...]] | None = None,
        counts: tuple[int, int, bool] = (0, 0, False),
        at: list[int] | None = None,
    ):
        self.columns = columns
        self.at = at or []  # each column's index in the sheet's rows
        self.sheet_rows = sheet_rows
        self.problems = problems
        self.sources = sources or {}  # per unit id: how the user may write each column
        self.inserts, self.updates, self.is_correction = counts
        self.rows = _Rows(self)
        self.writes = _Writes(self)
        self._digest: str | None = None

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.level == ERROR]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.level == WARNING]

    @property
    def can_confirm(self) -> bool:
        return not self.errors and bool(self.writes)

    @property
    def digest(self) -> str:
        """Fingerprint of exactly what would be written over what: the confirm must see the same."""
        if self._digest is None:
            h = hashlib.sha256(repr([i.id for i in self.columns]).encode())
            for r in self.sheet_rows:
                if NEW in r.codes or UPDATE in r.codes:
                    olds = [(ci, r.stored[ci][1:]) for ci, c in enumerate(r.codes) if c == UPDATE] if r.stored else []
                    h.update(repr((r.unit_id, r.month, r.codes, r.values, olds)).encode())
            self._digest = h.hexdigest()
        return self._digest

    @property
    def months(self) -> list[str] | None:
        """The first and last of the months the rows name (the stored figures were read for them), or None."""
        months = {r.month for r in self.sheet_rows if r.month}
        return [min(months), max(months)] if months else None

    def row_view(self, r: SheetRow) -> PreviewRow:
        """The row as the preview page shows it."""
        cells = []
        notes, stored = r.notes or {}, r.stored or {}
        for ci, code in enumerate(r.codes):
            new = r.values[ci]
            if new is not None:
                raw = fmt(new, self.columns[ci].decimals)
            else:
                value = r.cells[self.at[ci]]
                raw = "" if value is None else str(value)
            message, warn = notes.get(ci, ("", False))
            old = stored[ci][2] if code in (UPDATE, SAME) else None
            cells.append(PreviewCell(raw, new, old, STATUS[code], message, warn))
        return PreviewRow(r.line, r.unit_text, r.month_text, cells, list(r.problems or ()))

    def month_rows(self) -> Iterator[tuple[str, list[SheetRow]]]:
        """The rows with figures to write, month by month (in order), each month's in the file's order."""
        by_month: dict[str, list[SheetRow]] = {}
        for r in self.sheet_rows:
            if NEW in r.codes or UPDATE in r.codes:
                by_month.setdefault(r.month, []).append(r)
        for month in sorted(by_month):
            yield month, by_month[month]

    def row_writes(self, r: SheetRow) -> Iterator[Write]:
        uid = r.unit_id
        name = r.unit_text if uid is not None else DISTRICT_LABEL
        sources = self.sources[uid]
        for ci, code in enumerate(r.codes):
            if code == NEW or code == UPDATE:
                source = SOURCE_CORRECTION if sources[ci] == SOURCE_CORRECTION else SOURCE_IMPORT
                vid, ver, old = r.stored[ci] if code == UPDATE else (None, 0, None)
                yield Write(r.line, self.columns[ci], uid, name, r.month, old, r.values[ci], vid, ver, source)


class _Rows(Sequence):
    """The preview's rows, each built when it is read (the page shows the first thousand)."""

    def __init__(self, preview: Preview):
        self.preview = preview

    def __len__(self) -> int:
        return len(self.preview.sheet_rows)

    def __getitem__(self, i):
        rows = self.preview.sheet_rows
        if isinstance(i, slice):
            return [self.preview.row_view(r) for r in rows[i]]
        return self.preview.row_view(rows[i])


class _Writes(Sequence):
    """The figures the import would write, in the file's order, each built when it is read."""

    def __init__(self, preview: Preview):
        self.preview = preview

    def __len__(self) -> int:
        return self.preview.inserts + self.preview.updates

    def __iter__(self) -> Iterator[Write]:
        for r in self.preview.sheet_rows:
            if NEW in r.codes or UPDATE in r.codes:
                yield from self.preview.row_writes(r)

    def __getitem__(self, i):
        return list(self)[i]
