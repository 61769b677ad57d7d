"""Writing a list to an .xlsx workbook: Chinese headers in a frozen first row, widths from the contents, dates as
dates, numbers as numbers, and text always text (through `metrics.excel.cell`, so "=…" never becomes a formula)."""

from __future__ import annotations

import io
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from .. import clock
from ..metrics.excel import cell

DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
DECIMAL_FORMAT = "0.00"
MIN_WIDTH, MAX_WIDTH = 6, 60
HEADER_WIDTH = 20  # a longer header wraps instead of widening its column
_WIDTH_SAMPLE = 300  # rows looked at for a column's width
_BAD_TITLE = str.maketrans(dict.fromkeys("[]:*?/\\", "_"))
_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="F2E6E6")
_WRAP = Alignment(wrap_text=True, vertical="top")
_HEADER_ALIGN = Alignment(wrap_text=True, vertical="center")


@dataclass
class Sheet:
    """One sheet: its title, header texts and rows of plain values (str, int, float, Decimal, date, datetime or
    None for an empty cell)."""

    title: str
    headers: list[str]
    rows: list[list] = field(default_factory=list)


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


def _widths(sheet: Sheet) -> list[float]:
    widths = []
    for i, header in enumerate(sheet.headers):
        longest = max(
            [min(_display_width(header), HEADER_WIDTH)]
            + [_display_width(r[i]) for r in sheet.rows[:_WIDTH_SAMPLE] if i < len(r)]
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


def workbook(sheets: list[Sheet]) -> bytes:
    """The .xlsx file of the sheets, in order."""
    wb = Workbook(write_only=True)
    taken: set[str] = set()
    for sheet in sheets:
        ws = wb.create_sheet(_title(sheet.title, taken))
        ws.freeze_panes = "A2"
        rows = [[excel_value(v) for v in r] for r in sheet.rows]
        widths = _widths(Sheet(sheet.title, sheet.headers, rows))
        for i, width in enumerate(widths, 1):
            ws.column_dimensions[get_column_letter(i)].width = width
        header: list[WriteOnlyCell] = []
        for text in sheet.headers:
            c = cell(ws, text)
            c.font = _HEADER_FONT
            c.fill = _HEADER_FILL
            c.alignment = _HEADER_ALIGN
            header.append(c)
        ws.append(header)
        for r in rows:
            out = []
            for v in r:
                c = cell(ws, v, _number_format(v))
                if isinstance(v, str) and len(v) > MAX_WIDTH:
                    c.alignment = _WRAP
                out.append(c)
            ws.append(out)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
