"""Reading the sheet in the same scan that checks it (`xlsx_scan.XmlScan`): what openpyxl's read-only mode (data_only,
values only) returns for each cell, from the parts the check inflates and scans anyway: the workbook's
relationships and sheets, the styles' date formats, the shared strings, and the sheet's cells. Elements are
matched by local name, whatever their prefix."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from openpyxl.styles.numbers import builtin_format_code, is_date_format, is_timedelta_format
from openpyxl.utils.datetime import CALENDAR_MAC_1904, WINDOWS_EPOCH, from_excel, from_ISO8601

from ..errors import ValidationError
from .xlsx_scan import (
    MAX_BLOCK_ELEMENTS,
    MAX_DEPTH,
    READ_FAILED,
    SHEET_NAME,
    UNREADABLE,
    Limits,
    RawSheet,
    XmlScan,
    odd_structure,
)

WORKBOOK = "xl/workbook.xml"
WORKBOOK_RELS = "xl/_rels/workbook.xml.rels"
_REL_WORKSHEET = "/worksheet"
_REL_STYLES = "/styles"
_REL_STRINGS = "/sharedStrings"


def _local(name: str) -> str:
    return name.rpartition(":")[2] if ":" in name else name


def _attr(attrs: list, wanted: str) -> str | None:
    """An attribute by local name (ordered_attributes: name, value, name, value …)."""
    for i in range(0, len(attrs), 2):
        if _local(attrs[i]) == wanted:
            return attrs[i + 1]
    return None


class _PartReader:
    """Collects one part's content as the scan goes; `broken` once the part stops being well-formed XML."""

    broken = False

    def start(self, name: str, attrs: list) -> None:
        pass

    def end(self, name: str) -> None:
        pass

    def text(self, data: str) -> None:
        pass


class _RelsReader(_PartReader):
    def __init__(self, book: Book):
        self.rels = book.rels

    def start(self, name: str, attrs: list) -> None:
        if _local(name) == "Relationship":
            rid, kind, target = _attr(attrs, "Id"), _attr(attrs, "Type"), _attr(attrs, "Target")
            if rid and kind and target:
                self.rels[rid] = (kind, target)


class _WorkbookReader(_PartReader):
    def __init__(self, book: Book):
        self.book = book

    def start(self, name: str, attrs: list) -> None:
        local = _local(name)
        if local == "sheet":
            rid = next((attrs[i + 1] for i in range(0, len(attrs), 2) if attrs[i].endswith(":id")), None)
            self.book.sheets.append((_attr(attrs, "name") or "", rid))
        elif local == "workbookPr" and (_attr(attrs, "date1904") or "").lower() in ("1", "true"):
            self.book.epoch = CALENDAR_MAC_1904


class _StylesReader(_PartReader):
    """Which cell formats (indexes of cellXfs) show dates or durations, as openpyxl decides it."""

    def __init__(self, book: Book):
        self.book = book
        self.custom: dict[int, str] = {}
        self.in_xfs = False
        self.xfs = 0

    def start(self, name: str, attrs: list) -> None:
        local = _local(name)
        if local == "numFmt":
            number, code = _attr(attrs, "numFmtId"), _attr(attrs, "formatCode")
            if number is not None and number.isdigit() and code is not None:
                self.custom[int(number)] = code
        elif local == "cellXfs":
            self.in_xfs = True
        elif local == "xf" and self.in_xfs:
            number = _attr(attrs, "numFmtId") or "0"
            fmt = self.custom.get(int(number)) if number.isdigit() else None
            fmt = fmt if fmt is not None else (builtin_format_code(int(number)) if number.isdigit() else None)
            if is_date_format(fmt):
                self.book.date_styles.add(self.xfs)
            if is_timedelta_format(fmt):
                self.book.duration_styles.add(self.xfs)
            self.xfs += 1

    def end(self, name: str) -> None:
        if _local(name) == "cellXfs":
            self.in_xfs = False


class _StringsReader(_PartReader):
    """The shared strings: each <si>'s own text and its runs' (not the phonetic guide), as openpyxl joins them."""

    def __init__(self, book: Book):
        self.strings = book.strings
        self.parts: list[str] | None = None
        self.collect = False
        self.phonetic = 0

    def start(self, name: str, attrs: list) -> None:
        local = _local(name)
        if local == "si":
            self.parts = []
        elif local == "rPh":
            self.phonetic += 1
        elif local == "t" and self.parts is not None and not self.phonetic:
            self.collect = True

    def end(self, name: str) -> None:
        local = _local(name)
        if local == "t":
            self.collect = False
        elif local == "rPh":
            self.phonetic -= 1
        elif local == "si" and self.parts is not None:
            self.strings.append("".join(self.parts).replace("x005F_", ""))
            self.parts = None

    def text(self, data: str) -> None:
        if self.collect:
            self.parts.append(data)


class Book:
    """What reading a sheet needs from the rest of the workbook, filled as the parts are scanned."""

    def __init__(self):
        self.rels: dict[str, tuple[str, str]] = {}  # relationship id -> (type, target)
        self.sheets: list[tuple[str, str | None]] = []  # (name, relationship id) in the workbook's order
        self.epoch = WINDOWS_EPOCH
        self.date_styles: set[int] = set()
        self.duration_styles: set[int] = set()
        self.strings: list[str] = []
        self.readers: list[_PartReader] = []

    def _targets(self, kind: str) -> list[str]:
        return [_part_name(target) for k, target in self.rels.values() if k.endswith(kind)]

    def reader_for(self, part: str) -> _PartReader | None:
        if part == WORKBOOK_RELS:
            return self._watched(_RelsReader(self))
        if part == WORKBOOK:
            return self._watched(_WorkbookReader(self))
        if part in self._targets(_REL_STYLES)[:1]:
            return self._watched(_StylesReader(self))
        if part in self._targets(_REL_STRINGS)[:1]:
            return self._watched(_StringsReader(self))
        return None

    def _watched(self, reader: _PartReader) -> _PartReader:
        self.readers.append(reader)
        return reader

    def sheet_part(self) -> str | None:
        """The part of the sheet to read: 数据 when the workbook has a worksheet of that name, else its first."""
        worksheets = [
            (name, _part_name(self.rels[rid][1]))
            for name, rid in self.sheets
            if rid in self.rels and self.rels[rid][0].endswith(_REL_WORKSHEET)
        ]
        if not worksheets:
            return None
        return next((part for name, part in worksheets if name == SHEET_NAME), worksheets[0][1])

    def readable(self) -> bool:
        """Whether the workbook, its relationships, styles and shared strings were well-formed."""
        return not any(r.broken for r in self.readers)


def _part_name(target: str) -> str:
    """A relationship's target as a part name: relative to xl/, or absolute."""
    parts: list[str] = [] if target.startswith("/") else ["xl"]
    for piece in target.lstrip("/").split("/"):
        if piece == "..":
            if parts:
                parts.pop()
        elif piece not in ("", "."):
            parts.append(piece)
    return "/".join(parts)


_COLUMNS: dict[str, int] = {}


def _column(ref: str) -> int:
    """The column number of a cell reference (B12 -> 2); 0 when it has no letters."""
    letters = ref.rstrip("0123456789").upper()
    n = _COLUMNS.get(letters)
    if n is None:
        n = 0
        for ch in letters:
            n = n * 26 + ord(ch) - 64
        if len(_COLUMNS) < 20_000:
            _COLUMNS[letters] = n
    return n


def _number(text: str):
    """openpyxl's reading of a number cell: a float when it has a point or an exponent, else an int."""
    return float(text) if "." in text or "E" in text or "e" in text else int(text)


class SheetScan(XmlScan):
    """The scan of the sheet to read, which keeps its rows as it checks them: (row number, cell values by column,
    whether the row has text beyond `max_columns`), the values as openpyxl's read-only mode returns them with
    data_only (a formula's cached result; a number in a date format as a datetime). Cells beyond `max_columns`
    are not kept: only the header may not have text there.

    The checks are XmlScan's; inside a row, where nearly every element is, they are repeated here in one handler
    per element instead of a second call (the hot path of the import)."""

    def __init__(self, limits: Limits, other_elements: int, book: Book):
        super().__init__(limits, other_elements)
        self.parser.buffer_text = True
        self.parser.CharacterDataHandler = self._text
        self.book = book
        self.cap = limits.max_columns
        self.sheet_rows: list[tuple[int, list, bool]] = []
        self.failed = False  # a value openpyxl could not have read either (a bad number, a missing shared string)
        self.sheet_row = self.column = self.style = self.in_cell = self.phonetic = 0
        self.cells: list = []
        self.beyond = False
        self.kind = "n"
        self.value: str | None = None  # the text of the cell's <v> (or inline <t>) so far
        self.inline: list[str] | None = None

    def _start(self, name: str, attrs: list) -> None:
        super()._start(name, attrs)
        if self.row_depth:  # a row starts: the handlers for inside a row take over until it ends
            self._row(attrs)
            self.parser.StartElementHandler = self._start_in_row
            self.parser.EndElementHandler = self._end_in_row

    def _start_in_row(self, name: str, attrs: list) -> None:
        # XmlScan._start's checks for this case, then the cell's value; the commonest elements first
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise odd_structure("XML 嵌套过深")
        self.row_elements += 1
        if self.row_elements > MAX_BLOCK_ELEMENTS:
            raise odd_structure(f"第 {self.row_number} 行的 XML 元素过多")
        if name == "v":
            if self.in_cell:
                self.value = ""
        elif name == "c":
            self.row_cells += 1
            if self.row_cells == 1:
                self._another_row()
            elif self.row_cells > self.max_row_cells:
                raise self._too_many_cells()
            self.in_cell = 1
            self.value = self.inline = None
            if len(attrs) == 4 and attrs[0] == "r" and attrs[2] == "t":  # <c r="B2" t="n">, as most writers write
                ref, self.kind, self.style = attrs[1], attrs[3], 0
                column = _COLUMNS.get(ref.rstrip("0123456789"))
                self.column = column if column is not None else _column(ref)
            else:
                self._cell(attrs)
        elif ":" in name:
            self.depth -= 1
            self.row_elements -= 1
            self._start_in_row(_local(name), attrs)
        elif name == "is" and self.in_cell:
            self.inline = []
        elif name == "rPh":
            self.phonetic += 1
        elif name == "t" and self.inline is not None and not self.phonetic:
            self.value = ""

    def _end_in_row(self, name: str) -> None:
        if self.depth == self.row_depth:  # the row ends
            super()._end(name)
            self.sheet_rows.append((self.sheet_row, self.cells, self.beyond))
            self.parser.StartElementHandler = self._start
            self.parser.EndElementHandler = self._end
            return
        self.depth -= 1  # inside a row: all XmlScan._end does there
        if name == "v":
            return
        if ":" in name:
            name = _local(name)
        if name == "c":
            if self.in_cell:
                text = self.value
                if self.kind == "n" and text and not self.style and 0 < self.column <= self.cap:
                    # a plain number: _cell_value and _store in short (the cells mostly come in order)
                    cells, column = self.cells, self.column
                    try:
                        number = float(text) if "." in text or "E" in text or "e" in text else int(text)
                    except ValueError:
                        self.failed = True
                        number = None
                    if column == len(cells) + 1:
                        cells.append(number)
                    else:
                        if column > len(cells):
                            cells.extend([None] * (column - len(cells)))
                        cells[column - 1] = number
                else:
                    self._store(self._cell_value())
            self.in_cell = 0
            self.value = self.inline = None
        elif name == "t" and self.inline is not None and self.value is not None:
            self.inline.append(self.value)
            self.value = None
        elif name == "rPh":
            self.phonetic -= 1

    def _text(self, data: str) -> None:
        if self.value is not None:
            self.value += data

    def _row(self, attrs: list) -> None:
        """A row starts: its number as openpyxl reads it (r, else the one after the last)."""
        r = _attr(attrs, "r")
        if r is None:
            self.sheet_row += 1
        else:
            try:
                self.sheet_row = int(r)
            except ValueError:
                try:
                    number = float(r)
                except ValueError:
                    number = 0.5
                if not number.is_integer():
                    self.failed = True
                self.sheet_row = int(number) if number.is_integer() else self.sheet_row + 1
        self.cells, self.beyond, self.column = [], False, 0

    def _cell(self, attrs: list) -> None:
        kind, ref, style = "n", None, 0
        for i in range(0, len(attrs), 2):
            key = attrs[i]
            if key == "t":
                kind = attrs[i + 1]
            elif key == "r":
                ref = attrs[i + 1]
            elif key == "s" and attrs[i + 1]:
                try:
                    style = int(attrs[i + 1])
                except ValueError:
                    self.failed = True
        self.column = _column(ref) if ref else self.column + 1
        self.kind, self.style = kind, style

    def _cell_value(self):
        kind = self.kind
        if kind == "inlineStr":
            return None if self.inline is None else "".join(self.inline)
        text = self.value
        if not text:
            return None
        try:
            if kind == "n":
                number = _number(text)
                if self.style in self.book.date_styles:
                    try:
                        return from_excel(number, self.book.epoch, timedelta=self.style in self.book.duration_styles)
                    except (OverflowError, ValueError):
                        return "#VALUE!"
                return number
            if kind == "s":
                return self.book.strings[int(text)]
            if kind == "b":
                return bool(int(text))
            if kind == "d":
                return from_ISO8601(text)
        except (ValueError, IndexError, TypeError, OverflowError):
            self.failed = True
            return None
        return text  # "str" (a formula's text result), "e" (an error such as #N/A)

    def _store(self, value) -> None:
        column = self.column
        if column > self.cap:
            if value is not None and str(value).strip():
                self.beyond = True
            return
        if column < 1:
            self.failed = True
            return
        cells = self.cells
        if column > len(cells):
            cells.extend([None] * (column - len(cells)))
        cells[column - 1] = value

    def raw_sheet(self) -> RawSheet:
        """The header (the first row with a value) and the non-empty rows after it, numbered as read_sheet does."""
        self.check_read()
        rows = data_rows(self.sheet_rows, self.limits)
        headers = next(rows)
        return RawSheet(headers, list(rows))

    def check_read(self) -> None:
        """Refuse a sheet whose workbook parts, or the sheet itself, could not all be read (once it is scanned)."""
        if not self.book.readable():
            raise ValidationError(UNREADABLE)
        if self.broken or self.failed:
            raise ValidationError(READ_FAILED)


def data_rows(scanned: Iterable[tuple[int, list, bool]], limits: Limits) -> Iterator:
    """Of a sheet's scanned rows (number, cells, text beyond the columns), the header texts first (the first row
    with a value), then each non-empty row after it as (row number counted from the header, values); raises when
    there is no header, at the end, as read_sheet does."""
    headers: list[str] = []
    header_row = expected = width = count = 0
    found = False
    for number, cells, beyond in scanned:
        if number < expected:
            continue  # a row out of order: openpyxl skips it
        expected = number + 1
        if not found:
            if any(c not in (None, "") for c in cells) or beyond:
                if beyond:
                    raise ValidationError(f"列数过多(超过 {limits.max_columns} 列)")
                headers = [("" if c is None else str(c)).strip() for c in cells]
                while headers and not headers[-1]:
                    headers.pop()
                header_row, width, found = number, len(headers), True
                yield headers
            continue
        values = tuple(cells[:width])
        if not any(c not in (None, "") and not (isinstance(c, str) and not c.strip()) for c in values):
            continue
        if count >= limits.max_rows:
            raise ValidationError(f"数据行过多(超过 {limits.max_rows} 行),请分批导入")
        count += 1
        yield number - header_row + 1, values + (None,) * (width - len(values))
    if not headers:
        raise ValidationError("文件中没有表头,请使用下载的模板填写")
