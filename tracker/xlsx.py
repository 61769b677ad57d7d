"""Writing .xlsx workbooks, the one writer of every spreadsheet the product gives out (exports, templates, the
figures and the publicity register): Chinese headers in a frozen first row, widths given or from the contents,
dates as dates, numbers as numbers, and text always text (every cell goes through `cell`, so "=…" never becomes a
formula). openpyxl is imported when a file is written, not at start-up."""

from __future__ import annotations

import io
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from . import clock

MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
DECIMAL_FORMAT = "0.00"
TEXT_FORMAT = "@"  # keeps what is typed into the cell as text (a month such as 2026-10 stays text, not a date)
MIN_WIDTH, MAX_WIDTH = 6, 60
HEADER_WIDTH = 20  # a longer header wraps instead of widening its column
HEADER_FILL = "EEF1F5"
_WIDTH_SAMPLE = 300  # rows looked at for a column's width
_BAD_TITLE = str.maketrans(dict.fromkeys("[]:*?/\\", "_"))

# What a spreadsheet program may read as the start of a formula (or of a DDE call), in a cell a user types into
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class Sheet:
    """One sheet: its title, header texts (none: a sheet of notes, no header row) and rows of plain values (str,
    int, float, Decimal, date, datetime, bool or None for an empty cell).

    widths: a column's width, by position (None or missing: from the contents); formats: a column's number format
    for every cell in it, empty ones included, so what is typed in later takes it too (None or missing: from each
    value's type); freeze: the top-left cell left free when the header row (and columns before it) stay in view.
    """

    title: str
    headers: list[str]
    rows: list[list] = field(default_factory=list)
    widths: list[float | None] = field(default_factory=list)
    formats: list[str | None] = field(default_factory=list)
    freeze: str = "A2"


def notes_sheet(lines: list[str], title: str = "说明") -> Sheet:
    """A sheet of explanations, a line a row in one wide column."""
    return Sheet(title, [], [[line] for line in lines], widths=[100])


def excel_value(value):
    """A value as the sheet stores it: an aware datetime in China time without its zone (Excel has none), a
    Decimal as a float, a bool as 是/否; everything else as it is."""
    if isinstance(value, datetime):
        return clock.local(value).replace(tzinfo=None) if value.tzinfo else value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bool):
        return "是" if value else "否"
    return value


def cell(ws, value, number_format: str | None = None):
    """The one way the product writes a cell: text is always a string cell, never a formula.

    openpyxl turns any string that starts with "=" into a live formula; a unit or an indicator named
    "=HYPERLINK(...)" or "=cmd|'/c calc'!A1" would run when the file is opened. Text is stored as a string cell
    as it is (shown literally), and text that starts like a formula also gets Excel's quote prefix, so editing the
    cell keeps it text. Numbers stay numbers, negative ones included.
    """
    from openpyxl.cell import WriteOnlyCell

    c = WriteOnlyCell(ws, value=value)
    if isinstance(value, str):
        c.data_type = "s"
        if value.startswith(FORMULA_STARTS):
            c.quotePrefix = True
    if number_format is not None:
        c.number_format = number_format
    return c


def _number_format(value) -> str | None:
    if isinstance(value, datetime):
        return DATETIME_FORMAT
    if isinstance(value, date):
        return DATE_FORMAT
    if isinstance(value, float):
        return DECIMAL_FORMAT
    return None


def _display_width(value) -> int:
    """Roughly how many character widths the value takes: a CJK character counts two."""
    if value is None:
        return 0
    if isinstance(value, datetime):
        return 16
    if isinstance(value, date):
        return 10
    text = str(value).split("\n", 1)[0]
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _at(items: list, i: int):
    return items[i] if i < len(items) else None


def _widths(sheet: Sheet, rows: list[list]) -> list[float]:
    """Each column's width: the sheet's own, or the widest of its header and first rows, within bounds."""
    columns = max([len(sheet.headers), len(sheet.widths)] + [len(r) for r in rows[:_WIDTH_SAMPLE]])
    widths = []
    for i in range(columns):
        if _at(sheet.widths, i) is not None:
            widths.append(sheet.widths[i])
            continue
        header = _at(sheet.headers, i)
        longest = max(
            [min(_display_width(header), HEADER_WIDTH)]
            + [_display_width(r[i]) for r in rows[:_WIDTH_SAMPLE] if i < len(r)]
        )
        widths.append(min(max(longest + 2, MIN_WIDTH), MAX_WIDTH))
    return widths


def _title(text: str, taken: set[str]) -> str:
    title = text.translate(_BAD_TITLE)[:31] or "Sheet"
    n = 2
    while title in taken:
        suffix = f"({n})"
        title = title[: 31 - len(suffix)] + suffix
        n += 1
    taken.add(title)
    return title


class _Writer:
    """The styles of one workbook, and the writing of one sheet into it."""

    def __init__(self, wb) -> None:
        from openpyxl.styles import Alignment, Font, PatternFill

        self.wb = wb
        self.header_font, self.header_fill = Font(bold=True), PatternFill("solid", fgColor=HEADER_FILL)
        self.header_align = Alignment(horizontal="center", vertical="center", wrap_text=True)
        self.wrap = Alignment(wrap_text=True, vertical="top")
        self.taken: set[str] = set()

    def write(self, sheet: Sheet) -> None:
        from openpyxl.utils import get_column_letter

        ws = self.wb.create_sheet(_title(sheet.title, self.taken))
        rows = [[excel_value(v) for v in r] for r in sheet.rows]
        for i, width in enumerate(_widths(sheet, rows), 1):
            ws.column_dimensions[get_column_letter(i)].width = width
        if sheet.headers:
            ws.freeze_panes = sheet.freeze
            ws.append([self._header(ws, text) for text in sheet.headers])
        for r in rows:
            ws.append([self._cell(ws, v, _at(sheet.formats, i)) for i, v in enumerate(r)])

    def _header(self, ws, text: str):
        c = cell(ws, text)
        c.font, c.fill, c.alignment = self.header_font, self.header_fill, self.header_align
        return c

    def _cell(self, ws, value, number_format: str | None):
        c = cell(ws, value, number_format or _number_format(value))
        if isinstance(value, str) and len(value) > MAX_WIDTH:
            c.alignment = self.wrap
        return c


def workbook(sheets: list[Sheet]) -> bytes:
    """The .xlsx file of the sheets, in order."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    writer = _Writer(wb)
    for sheet in sheets:
        writer.write(sheet)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
