"""Spreadsheets in and out: checking an upload is a plain .xlsx before parsing it, reading its rows, and writing
the entry template and exports (which use the same columns, so an export can be imported again)."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from datetime import date, datetime

from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.xml import DEFUSEDXML

from ..errors import ValidationError

UNIT_HEADER = "单位"
MONTH_HEADER = "月份"
SHEET_NAME = "数据"


@dataclass(frozen=True)
class Limits:
    """What an upload may be: compressed size, total uncompressed size, compression ratio, parts, rows."""

    max_bytes: int = 5 * 1024 * 1024
    max_uncompressed: int = 100 * 1024 * 1024
    max_ratio: int = 200
    max_entries: int = 500
    max_rows: int = 100_000
    max_columns: int = 60


@dataclass(frozen=True)
class RawSheet:
    """The header texts and the data rows (spreadsheet row number, cell values) of the first sheet."""

    headers: list[str]
    rows: list[tuple[int, tuple]]


# Printer settings are .bin parts too and harmless; these are the parts that carry code or embedded programs.
_MACRO_MARKERS = ("vbaproject", "macrosheets/", "activex", "vbadata", "embeddings/")


def check_xlsx(data: bytes, filename: str = "", limits: Limits = Limits()) -> None:
    """Refuse anything but a plain, reasonably sized .xlsx before a parser sees it."""
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
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise ValidationError("文件已损坏或不是有效的 Excel(.xlsx)文件") from None
    if len(infos) > limits.max_entries:
        raise ValidationError("文件结构异常(内部文件过多),已拒绝")
    names = {i.filename.lower() for i in infos}
    if "[content_types].xml" not in names or "xl/workbook.xml" not in names:
        raise ValidationError("文件不是有效的 Excel(.xlsx)文件")
    if any(marker in n for n in names for marker in _MACRO_MARKERS):
        raise ValidationError("文件含有宏或可执行内容,已拒绝。请另存为不含宏的 .xlsx 文件后再上传")
    total = 0
    for i in infos:
        if i.flag_bits & 0x1:
            raise ValidationError("文件已加密,请取消密码保护后再上传")
        total += i.file_size
        if i.file_size > 1024 * 1024 and i.file_size > limits.max_ratio * max(i.compress_size, 1):
            raise ValidationError("文件解压后体积异常(压缩比过高,疑似压缩炸弹),已拒绝")
    if total > limits.max_uncompressed:
        raise ValidationError(f"文件解压后过大(超过 {limits.max_uncompressed // 1024 // 1024} MB),已拒绝")
    if total > 1024 * 1024 and total > limits.max_ratio * len(data):
        raise ValidationError("文件解压后体积异常(压缩比过高,疑似压缩炸弹),已拒绝")
    try:
        content_types = zf.read("[Content_Types].xml") if "[Content_Types].xml" in zf.namelist() else b""
    except (zipfile.BadZipFile, OSError, ValueError):
        raise ValidationError("文件已损坏") from None
    if b"macroEnabled" in content_types or b"vbaProject" in content_types:
        raise ValidationError("文件含有宏或可执行内容,已拒绝。请另存为不含宏的 .xlsx 文件后再上传")


def read_sheet(data: bytes, limits: Limits = Limits()) -> RawSheet:
    """The first sheet's header and non-empty rows; openpyxl in read-only mode over defusedxml."""
    if not DEFUSEDXML:  # pragma: no cover - defusedxml is a requirement
        raise ValidationError("服务器未启用安全的 XML 解析,暂不能导入")
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
    except Exception:  # openpyxl raises many kinds on malformed parts
        raise ValidationError("无法读取该 Excel 文件,请确认它能在 Excel 中正常打开,并另存为 .xlsx 后重试") from None
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
        raise ValidationError("读取 Excel 内容时出错,请确认文件未损坏") from None
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


_HEAD_FONT = Font(bold=True)
_HEAD_FILL = PatternFill("solid", fgColor="EEF1F5")


def _number_format(decimals: int) -> str:
    return "0" if decimals == 0 else "0." + "0" * decimals


def write_workbook(indicators, rows: list[tuple[str, str, list]], notes: list[str] | None = None) -> bytes:
    """A workbook with the 数据 sheet (单位, 月份, one column per indicator) and an optional 说明 sheet.

    rows: (unit name, YYYY-MM, values in indicator order; None leaves the cell empty).
    """
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(SHEET_NAME)
    ws.freeze_panes = "C2"
    ws.column_dimensions["A"].width = 14
    ws.column_dimensions["B"].width = 10
    for i in range(len(indicators)):
        ws.column_dimensions[_col(i + 3)].width = 14
    header = []
    for text in [UNIT_HEADER, MONTH_HEADER, *[i.label for i in indicators]]:
        c = WriteOnlyCell(ws, value=text)
        c.font, c.fill, c.alignment = _HEAD_FONT, _HEAD_FILL, Alignment(horizontal="center")
        header.append(c)
    ws.append(header)
    formats = [_number_format(i.decimals) for i in indicators]
    for unit_name, month, values in rows:
        m = WriteOnlyCell(ws, value=month)
        m.number_format = "@"  # keep 2026-10 as text, not a date
        out = [unit_name, m]
        for v, f in zip(values, formats, strict=True):
            c = WriteOnlyCell(ws, value=v)
            c.number_format = f
            out.append(c)
        ws.append(out)
    if notes:
        ns = wb.create_sheet("说明")
        ns.column_dimensions["A"].width = 100
        for line in notes:
            ns.append([line])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _col(n: int) -> str:
    s = ""
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(65 + r) + s
    return s
