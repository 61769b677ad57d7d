"""Spreadsheets in and out: checking an upload is a plain .xlsx before parsing it, reading its rows, and writing
the entry template and exports (which use the same columns, so an export can be imported again)."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from datetime import date, datetime

from openpyxl import load_workbook
from openpyxl.xml import DEFUSEDXML

from ..errors import ValidationError
from ..xlsx import TEXT_FORMAT, Sheet, notes_sheet, workbook
from .xlsx_cells import WORKBOOK, WORKBOOK_RELS, Book, SheetScan, data_rows
from .xlsx_scan import (
    BOMB,
    DAMAGED,
    MACRO_MARKERS,
    MACRO_TYPES,
    MACROS,
    READ_FAILED,
    SHEET_NAME,
    UNREADABLE,
    Limits,
    RawSheet,
    XmlScan,
    inflated,
)

DEFAULT_LIMITS = Limits()
UNIT_HEADER = "单位"
MONTH_HEADER = "月份"


def check_xlsx(data: bytes, filename: str = "", limits: Limits = DEFAULT_LIMITS) -> RawSheet:
    """Refuse anything but a plain, reasonably sized .xlsx, and read its first sheet's rows in the same scan.

    First what the zip directory declares (names, sizes, ratios, encryption); then every part is inflated 64 KiB
    at a time, never whole, and must end at its declared size with its CRC; the XML parts are scanned on the way
    for what openpyxl would hold in memory (a row's cells, the shared strings, elements and text elsewhere) and
    for DTDs. The workbook's relationships and the workbook are scanned first, the sheet to read last (after the
    shared strings and the styles it refers to); the sheet's cells are taken from that same scan (see
    `_SheetReader`), so no second parser ever reads the file. The sheet: 数据 when there is one, else the first.
    """
    return _scan_parts(data, _directory(data, filename, limits), limits)


def stream_xlsx(data: bytes, filename: str = "", limits: Limits = DEFAULT_LIMITS) -> Iterator:
    """check_xlsx's checks and rows, each row handed over as soon as the scan has read it: the header texts first,
    then (row number, values). Every check of the file is made by the end of the iteration (a refusal may come
    after rows were handed over, and need not be the one check_xlsx would name first)."""
    infos = _directory(data, filename, limits)
    book, target, other = _scan_book(data, infos, limits)
    sheet = SheetScan(limits, other, book)
    yield from data_rows(_scanned_rows(data, target, sheet), limits)


def _scanned_rows(data: bytes, info: zipfile.ZipInfo, sheet: SheetScan) -> Iterator[tuple[int, list, bool]]:
    """The sheet's rows as the scan reads them, 64 KiB of XML at a time; then the checks of the whole sheet."""
    if info.filename.lower() == "[content_types].xml":  # a sheet no writer names so: checked whole, as check_xlsx does
        _check_part(data, info, sheet.limits, scan=sheet)
    for chunk in () if sheet.parser is None else inflated(data, info):
        sheet.feed(chunk)
        if sheet.sheet_rows:
            yield from sheet.sheet_rows
            sheet.sheet_rows = []
    sheet.close()
    yield from sheet.sheet_rows
    sheet.sheet_rows = []
    sheet.check_read()


def _directory(data: bytes, filename: str, limits: Limits) -> list[zipfile.ZipInfo]:
    """The zip directory's entries, once what it declares passes (see check_xlsx)."""
    name = (filename or "").lower().strip()
    if name.endswith((".xlsm", ".xltm", ".xlsb")):
        raise ValidationError("不接受含宏的工作簿(.xlsm/.xlsb),请在 Excel 中另存为“Excel 工作簿(*.xlsx)”后再上传")
    if name.endswith(".xls"):
        raise ValidationError("不支持旧版 .xls 格式,请在 Excel 中另存为“Excel 工作簿(*.xlsx)”后再上传")
    if name and not name.endswith(".xlsx"):
        raise ValidationError("请上传 .xlsx 格式的 Excel 文件(可先下载模板填写)")
    if not data:
        raise ValidationError("上传的文件是空的")
    if len(data) > limits.max_bytes:
        raise ValidationError(f"文件过大({len(data) // 1024} KB),上限为 {limits.max_bytes // 1024 // 1024} MB")
    if not data.startswith(b"PK\x03\x04"):
        raise ValidationError("文件不是有效的 Excel(.xlsx)文件,请确认没有只改扩展名")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise ValidationError(DAMAGED) from None
    if len(infos) > limits.max_entries:
        raise ValidationError("文件结构异常(内部文件过多),已拒绝")
    names = {i.filename.lower() for i in infos}
    if "[content_types].xml" not in names or "xl/workbook.xml" not in names:
        raise ValidationError("文件不是有效的 Excel(.xlsx)文件")
    if any(marker in n for n in names for marker in MACRO_MARKERS):
        raise ValidationError(MACROS)
    total = 0
    for i in infos:
        if i.flag_bits & 0x1:
            raise ValidationError("文件已加密,请取消密码保护后再上传")
        total += i.file_size
        if i.file_size > 1024 * 1024 and i.file_size > limits.max_ratio * max(i.compress_size, 1):
            raise ValidationError(BOMB)
    if total > limits.max_uncompressed:
        raise ValidationError(f"文件解压后过大(超过 {limits.max_uncompressed // 1024 // 1024} MB),已拒绝")
    if total > 1024 * 1024 and total > limits.max_ratio * len(data):
        raise ValidationError(BOMB)
    # The declared sizes pass every cap above, and inflated() refuses a part as soon as it grows past its declared
    # size, so the real sizes pass them too.
    return infos


def _scan_parts(data: bytes, infos: list[zipfile.ZipInfo], limits: Limits) -> RawSheet:
    """Scan every part (see check_xlsx), collecting on the way what reading the sheet needs."""
    book, target, other = _scan_book(data, infos, limits)
    sheet = SheetScan(limits, other, book)
    _check_part(data, target, limits, scan=sheet)
    return sheet.raw_sheet()


def _scan_book(data: bytes, infos: list[zipfile.ZipInfo], limits: Limits) -> tuple[Book, zipfile.ZipInfo, int]:
    """Scan every part but the sheet to read; returns what reading it needs, its entry, and the elements counted
    outside rows and strings so far."""
    book = Book()
    by_name = {i.filename: i for i in infos}
    first = [by_name[n] for n in (WORKBOOK_RELS, WORKBOOK) if n in by_name]
    other = 0  # elements outside rows and shared strings so far, over all parts
    for info in first:
        other = _check_part(data, info, limits, other, book.reader_for(info.filename))
    target = book.sheet_part()
    for info in infos:
        if info in first or info.filename == target:
            continue
        other = _check_part(data, info, limits, other, book.reader_for(info.filename))
    if target not in by_name:
        raise ValidationError(UNREADABLE)
    return book, by_name[target], other


def _check_part(
    data: bytes, info: zipfile.ZipInfo, limits: Limits, other_elements: int = 0, reader=None, scan=None
) -> int:
    """Inflate and scan one part (reader: what also collects its content; scan: a scan of its own, the sheet's);
    returns the count of elements outside rows and strings, this part's added."""
    scan = scan or XmlScan(limits, other_elements, reader)
    content_types = info.filename.lower() == "[content_types].xml"
    tail = b""
    for chunk in inflated(data, info):
        if content_types:
            window = tail + chunk
            if any(marker in window for marker in MACRO_TYPES):
                raise ValidationError(MACROS)
            tail = window[-16:]
        scan.feed(chunk)
    scan.close()
    return scan.other_elements


def read_sheet(data: bytes, limits: Limits = DEFAULT_LIMITS) -> RawSheet:
    """The first sheet's header and non-empty rows; openpyxl in read-only mode over defusedxml. The import takes the
    same rows from `check_xlsx`, which reads them in its own scan; this second reader is what its tests compare
    with."""
    if not DEFUSEDXML:  # pragma: no cover - defusedxml is a requirement
        raise ValidationError("服务器未启用安全的 XML 解析,暂不能导入")
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
    except Exception:  # openpyxl raises many kinds on malformed parts
        raise ValidationError(UNREADABLE) from None
    try:
        ws = wb[SHEET_NAME] if SHEET_NAME in wb.sheetnames else wb.worksheets[0]
        rows_iter = ws.iter_rows(values_only=True)
        headers: list[str] = []
        for row in rows_iter:
            if row and any(c not in (None, "") for c in row):
                headers = [("" if c is None else str(c)).strip() for c in row]
                break
        while headers and not headers[-1]:
            headers.pop()
        if len(headers) > limits.max_columns:
            raise ValidationError(f"列数过多(超过 {limits.max_columns} 列)")
        width = len(headers)
        rows: list[tuple[int, tuple]] = []
        # the header is row 1 in the template; count from the header's position
        number = 1
        for row in rows_iter:
            number += 1
            cells = tuple(row[:width]) if row else ()
            if not any(c not in (None, "") and not (isinstance(c, str) and not c.strip()) for c in cells):
                continue
            if len(rows) >= limits.max_rows:
                raise ValidationError(f"数据行过多(超过 {limits.max_rows} 行),请分批导入")
            rows.append((number, cells + (None,) * (width - len(cells))))
    except ValidationError:
        raise
    except Exception:
        raise ValidationError(READ_FAILED) from None
    finally:
        wb.close()
    if not headers:
        raise ValidationError("文件中没有表头,请使用下载的模板填写")
    return RawSheet(headers, rows)


def month_text(cell) -> str:
    """A month cell as YYYY-MM when the spreadsheet turned it into a date; anything else as text."""
    if isinstance(cell, datetime | date):
        return f"{cell.year:04d}-{cell.month:02d}"
    return "" if cell is None else str(cell).strip()


def _number_format(decimals: int) -> str:
    return "0" if decimals == 0 else "0." + "0" * decimals


def write_workbook(indicators, rows: list[tuple[str, str, list]], notes: list[str] | None = None) -> bytes:
    """A workbook with the 数据 sheet (单位, 月份, one column per indicator) and an optional 说明 sheet.

    rows: (unit name, YYYY-MM, values in indicator order; None leaves the cell empty).
    """
    data = Sheet(
        SHEET_NAME,
        [UNIT_HEADER, MONTH_HEADER, *[i.label for i in indicators]],
        [[unit_name, month, *values] for unit_name, month, values in rows],
        widths=[14, 10] + [14] * len(indicators),
        # the month column is text, so 2026-10 stays text, not a date
        formats=[None, TEXT_FORMAT] + [_number_format(i.decimals) for i in indicators],
        freeze="C2",
    )
    return workbook([data, notes_sheet(notes)] if notes else [data])
