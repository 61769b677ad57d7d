"""Spreadsheets in and out: checking an upload is a plain .xlsx before parsing it, reading its rows, and writing
the entry template and exports (which use the same columns, so an export can be imported again)."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from xml.parsers import expat

from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.styles.numbers import builtin_format_code, is_date_format, is_timedelta_format
from openpyxl.utils.datetime import CALENDAR_MAC_1904, WINDOWS_EPOCH, from_excel, from_ISO8601
from openpyxl.xml import DEFUSEDXML

from ..errors import ValidationError

UNIT_HEADER = "单位"
MONTH_HEADER = "月份"
SHEET_NAME = "数据"


@dataclass(frozen=True)
class Limits:
    """What an upload may be: compressed size, total uncompressed size, compression ratio, parts, rows, columns,
    and what openpyxl would hold in memory at once: one row's cells and the whole shared-string table."""

    max_bytes: int = 5 * 1024 * 1024
    max_uncompressed: int = 100 * 1024 * 1024
    max_ratio: int = 200
    max_entries: int = 500
    max_rows: int = 100_000
    max_columns: int = 60
    # Cells written in one row, formatted empty ones included: far above max_columns, so a template formatted out
    # to column AMJ still passes. openpyxl builds a whole row before handing it over (250,000 cells: 230 MB).
    max_row_cells: int = 1024
    # openpyxl reads the whole shared-string table before the first row. Excel stores each distinct text once,
    # so a figures sheet has a few hundred (unit names, months, headers).
    max_shared_strings: int = 100_000
    max_shared_bytes: int = 10 * 1024 * 1024  # the table's <si> elements, markup included
    # Elements outside rows and shared strings, in all parts together: styles, the workbook, relationships, column
    # and merge definitions. openpyxl builds objects for them (a cell format costs ~2 KB: 150,000 of them in a
    # 2.7 MB file took 330 MB). Excel's own files carry a few hundred to a few thousand.
    max_other_elements: int = 30_000


@dataclass(frozen=True)
class RawSheet:
    """The header texts and the data rows (spreadsheet row number, cell values) of the first sheet."""

    headers: list[str]
    rows: list[tuple[int, tuple]]


# Printer settings are .bin parts too and harmless; these are the parts that carry code or embedded programs.
_MACRO_MARKERS = ("vbaproject", "macrosheets/", "activex", "vbadata", "embeddings/")
_MACRO_TYPES = (b"macroEnabled", b"vbaProject")

_CHUNK = 64 * 1024  # bytes inflated, and fed to the XML scan, at a time
# Bounds of the XML scan that are not a matter of policy (Limits) but of what no real workbook comes near.
_MAX_BLOCK_ELEMENTS = 16_384  # elements in one row or shared string: cells, values, formulas, rich-text runs
_MAX_ROW_BYTES = 4 * 1024 * 1024  # one row's XML (Excel allows 32,767 characters a cell)
_MAX_OTHER_BYTES = 16 * 1024 * 1024  # XML of a part outside rows and shared strings
_MAX_DEPTH = 128
_MAX_TOKEN_BYTES = 4 * 1024 * 1024  # one tag, attribute or comment, which expat buffers whole

_DAMAGED = "文件已损坏或不是有效的 Excel(.xlsx)文件"
_UNREADABLE = "无法读取该 Excel 文件,请确认它能在 Excel 中正常打开,并另存为 .xlsx 后重试"
_READ_FAILED = "读取 Excel 内容时出错,请确认文件未损坏"
_BOMB = "文件解压后体积异常(压缩比过高,疑似压缩炸弹),已拒绝"
_MACROS = "文件含有宏或可执行内容,已拒绝。请另存为不含宏的 .xlsx 文件后再上传"


def _odd_structure(detail: str) -> ValidationError:
    return ValidationError(f"文件结构异常({detail}),已拒绝。请在 Excel 中另存为新的 .xlsx 文件后再上传")


def check_xlsx(data: bytes, filename: str = "", limits: Limits = Limits()) -> RawSheet:
    """Refuse anything but a plain, reasonably sized .xlsx, and read its first sheet's rows in the same scan.

    First what the zip directory declares (names, sizes, ratios, encryption); then every part is inflated 64 KiB
    at a time, never whole, and must end at its declared size with its CRC; the XML parts are scanned on the way
    for what openpyxl would hold in memory (a row's cells, the shared strings, elements and text elsewhere) and
    for DTDs. The workbook's relationships and the workbook are scanned first, the sheet to read last (after the
    shared strings and the styles it refers to); the sheet's cells are taken from that same scan (see
    `_SheetReader`), so no second parser ever reads the file. The sheet: 数据 when there is one, else the first.
    """
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
        raise ValidationError(_DAMAGED) from None
    if len(infos) > limits.max_entries:
        raise ValidationError("文件结构异常(内部文件过多),已拒绝")
    names = {i.filename.lower() for i in infos}
    if "[content_types].xml" not in names or "xl/workbook.xml" not in names:
        raise ValidationError("文件不是有效的 Excel(.xlsx)文件")
    if any(marker in n for n in names for marker in _MACRO_MARKERS):
        raise ValidationError(_MACROS)
    total = 0
    for i in infos:
        if i.flag_bits & 0x1:
            raise ValidationError("文件已加密,请取消密码保护后再上传")
        total += i.file_size
        if i.file_size > 1024 * 1024 and i.file_size > limits.max_ratio * max(i.compress_size, 1):
            raise ValidationError(_BOMB)
    if total > limits.max_uncompressed:
        raise ValidationError(f"文件解压后过大(超过 {limits.max_uncompressed // 1024 // 1024} MB),已拒绝")
    if total > 1024 * 1024 and total > limits.max_ratio * len(data):
        raise ValidationError(_BOMB)
    # The declared sizes pass every cap above, and _inflated() refuses a part as soon as it grows past its declared
    # size, so the real sizes pass them too.
    return _scan_parts(data, infos, limits)


def _scan_parts(data: bytes, infos: list[zipfile.ZipInfo], limits: Limits) -> RawSheet:
    """Scan every part (see check_xlsx), collecting on the way what reading the sheet needs."""
    book = _Book()
    by_name = {i.filename: i for i in infos}
    first = [by_name[n] for n in (_WORKBOOK_RELS, _WORKBOOK) if n in by_name]
    other = 0  # elements outside rows and shared strings so far, over all parts
    for info in first:
        other = _check_part(data, info, limits, other, book.reader_for(info.filename))
    target = book.sheet_part()
    for info in infos:
        if info in first or info.filename == target:
            continue
        other = _check_part(data, info, limits, other, book.reader_for(info.filename))
    if target not in by_name:
        raise ValidationError(_UNREADABLE)
    sheet = _SheetScan(limits, other, book)
    _check_part(data, by_name[target], limits, scan=sheet)
    return sheet.raw_sheet()


def _check_part(
    data: bytes, info: zipfile.ZipInfo, limits: Limits, other_elements: int = 0, reader=None, scan=None
) -> int:
    """Inflate and scan one part (reader: what also collects its content; scan: a scan of its own, the sheet's);
    returns the count of elements outside rows and strings, this part's added."""
    scan = scan or _XmlScan(limits, other_elements, reader)
    content_types = info.filename.lower() == "[content_types].xml"
    tail = b""
    for chunk in _inflated(data, info):
        if content_types:
            window = tail + chunk
            if any(marker in window for marker in _MACRO_TYPES):
                raise ValidationError(_MACROS)
            tail = window[-16:]
        scan.feed(chunk)
    scan.close()
    return scan.other_elements


def _inflated(data: bytes, info: zipfile.ZipInfo) -> Iterator[bytes]:
    """A part's bytes, at most 64 KiB at a time, inflated from its raw stream in the upload.

    Not ZipFile.open(): its read(n) stops at the declared size and checks the CRC there, so a deflate stream that
    goes on for gigabytes past a small declared size, with the CRC of its first bytes, passes it; openpyxl's
    ZipFile.read() would then inflate all of it in one call before cutting it to the declared size. Here the
    stream must end by its declared size, and its CRC must match.
    """
    damaged = ValidationError(_DAMAGED)
    offset = info.header_offset
    if offset < 0 or data[offset : offset + 4] != b"PK\x03\x04" or len(data) < offset + 30:
        raise damaged
    name_length, extra_length = struct.unpack_from("<HH", data, offset + 26)
    start = offset + 30 + name_length + extra_length
    raw = memoryview(data)[start : start + info.compress_size]
    if len(raw) < info.compress_size:
        raise damaged
    crc = 0
    if info.compress_type == zipfile.ZIP_STORED:
        if info.compress_size != info.file_size:
            raise damaged
        for at in range(0, len(raw), _CHUNK):
            chunk = bytes(raw[at : at + _CHUNK])
            crc = zlib.crc32(chunk, crc)
            yield chunk
    elif info.compress_type == zipfile.ZIP_DEFLATED:
        inflater, at, size = zlib.decompressobj(-zlib.MAX_WBITS), 0, 0
        while not inflater.eof:
            pending = inflater.unconsumed_tail
            if not pending and at < len(raw):
                pending, at = raw[at : at + _CHUNK], at + _CHUNK
            try:
                chunk = inflater.decompress(pending, _CHUNK)
            except zlib.error:
                raise damaged from None
            if not chunk:
                if at >= len(raw) and not inflater.unconsumed_tail and not inflater.eof:
                    raise damaged  # the raw stream ends before the deflate stream does
                continue
            size += len(chunk)
            if size > info.file_size:
                raise ValidationError("文件不是有效的 Excel(.xlsx)文件:其中的内容解压后比声明的大(疑似压缩炸弹),已拒绝")
            crc = zlib.crc32(chunk, crc)
            yield chunk
    else:  # bzip2, lzma, deflate64: no spreadsheet program writes them
        raise ValidationError("文件不是有效的 Excel(.xlsx)文件(压缩方式不受支持),请在 Excel 中另存为 .xlsx 后再上传")
    if crc != info.CRC:
        raise damaged


class _XmlScan:
    """One part's XML, fed as it is inflated and counted without building anything: each row's cells, elements and
    bytes, the rows, the shared strings and their bytes, and the elements and bytes elsewhere in the part. These are
    what openpyxl holds at once: the row it is building, the whole shared-string table, and every element of the
    sheet it does not clear (anything but rows and a few known parts).

    The checks go by local name (row, c, si) whatever the namespace or prefix, in every part: openpyxl finds a
    sheet's rows by name, not by the root element or the part's name, and counting more than it reads is safe.
    Without namespace processing or a text handler expat calls back only twice an element, which keeps the scan
    to about 15% of openpyxl's own parse of the sheet. A DTD is refused outright: entity declarations live in one,
    and no spreadsheet program writes one. A part that is not XML (an image), or stops being well-formed, is
    scanned no further: openpyxl's parser, expat as well, stops at the same place.
    """

    def __init__(self, limits: Limits, other_elements: int = 0, reader=None):
        self.limits = limits
        self.max_rows = 2 * limits.max_rows  # rows holding cells; read_sheet counts the non-empty ones exactly
        self.max_row_cells = limits.max_row_cells
        parser = expat.ParserCreate()
        parser.ordered_attributes = True
        parser.StartDoctypeDeclHandler = self._doctype
        parser.EntityDeclHandler = self._doctype
        parser.StartElementHandler = self._start
        parser.EndElementHandler = self._end
        self.reader = reader
        if reader is not None:  # the reader sees every element the checks have let through, and the text
            parser.buffer_text = True
            parser.StartElementHandler = self._start_reading
            parser.EndElementHandler = self._end_reading
            parser.CharacterDataHandler = reader.text
        self.parser: expat.XMLParserType | None = parser
        self.broken = False  # the part stopped being well-formed XML
        self.fed = self.depth = self.rows = 0
        self.other_elements = other_elements  # counted on from the parts before this one
        self.row_depth = self.row_start = self.row_number = self.row_cells = self.row_elements = self.rows_bytes = 0
        self.string_depth = self.string_start = self.string_elements = self.strings = self.strings_bytes = 0

    def feed(self, chunk: bytes, final: bool = False) -> None:
        parser = self.parser
        if parser is None:
            return
        try:
            parser.Parse(chunk, final)
        except expat.ExpatError:
            self.parser = None  # the bytes up to the error are checked below, those after it are never parsed
            self.broken = True
            if self.reader is not None:
                self.reader.broken = True
        self.fed += len(chunk)
        if self.fed - max(parser.CurrentByteIndex, 0) > _MAX_TOKEN_BYTES:
            raise _odd_structure("XML 标签过长")
        open_row = self.fed - self.row_start if self.row_depth else 0
        if open_row > _MAX_ROW_BYTES:
            raise self._row_too_big()
        open_string = self.fed - self.string_start if self.string_depth else 0
        if self.strings_bytes + open_string > self.limits.max_shared_bytes:
            raise self._strings_too_big()
        if self.fed - self.rows_bytes - open_row - self.strings_bytes - open_string > _MAX_OTHER_BYTES:
            raise _odd_structure("XML 内容过多")

    def close(self) -> None:
        self.feed(b"", final=True)
        self.parser = None

    def _doctype(self, *_) -> None:
        raise ValidationError(
            "文件含有不允许的 XML 实体或文档类型声明(DTD),不是有效的 Excel(.xlsx)文件,已拒绝。"
            "请在 Excel 中另存为新的 .xlsx 文件后再上传"
        )

    def _start(self, name: str, attrs: list) -> None:
        # called for every element: the cells' path comes first, and a colon is looked for only when there is one
        self.depth += 1
        if self.depth > _MAX_DEPTH:
            raise _odd_structure("XML 嵌套过深")
        if self.row_depth:
            self.row_elements += 1
            if self.row_elements > _MAX_BLOCK_ELEMENTS:
                raise _odd_structure(f"第 {self.row_number} 行的 XML 元素过多")
            if name == "c" or (":" in name and name.endswith(":c")):
                self.row_cells += 1
                if self.row_cells == 1:
                    self._another_row()
                elif self.row_cells > self.max_row_cells:
                    raise self._too_many_cells()
        elif self.string_depth:
            self.string_elements += 1
            if self.string_elements > _MAX_BLOCK_ELEMENTS:
                raise _odd_structure("共享字符串的 XML 元素过多")
        elif name == "row" or (":" in name and name.endswith(":row")):
            self.row_depth, self.row_start = self.depth, self.parser.CurrentByteIndex
            r = next((attrs[i + 1] for i in range(0, len(attrs), 2) if attrs[i] == "r"), "")
            self.row_number = int(r) if r.isascii() and r.isdigit() and len(r) < 9 else self.row_number + 1
            self.row_cells = self.row_elements = 0
        elif name == "si" or (":" in name and name.endswith(":si")):
            self.string_depth, self.string_start = self.depth, self.parser.CurrentByteIndex
            self.string_elements = 0
            self.strings += 1
            if self.strings > self.limits.max_shared_strings:
                raise ValidationError(
                    f"文件中的文本过多(超过 {self.limits.max_shared_strings} 条不同的文字),请分批导入"
                )
        else:
            self.other_elements += 1
            if self.other_elements > self.limits.max_other_elements:
                raise ValidationError(
                    f"文件中的格式、样式等内容过多(超过 {self.limits.max_other_elements} 项),"
                    "请把数据复制到新建的工作簿(或下载模板填写)后再上传"
                )

    def _start_reading(self, name: str, attrs: list) -> None:
        self._start(name, attrs)
        self.reader.start(name, attrs)

    def _end_reading(self, name: str) -> None:
        self._end(name)
        self.reader.end(name)

    def _another_row(self) -> None:
        self.rows += 1
        if self.rows > self.max_rows:
            raise ValidationError(
                f"工作表的行数过多(超过 {self.max_rows} 行,含只设置了格式的空行),请删除多余的行后再上传,或分批导入"
            )

    def _end(self, name: str) -> None:
        if self.depth == self.row_depth:
            size = self.parser.CurrentByteIndex - self.row_start
            if size > _MAX_ROW_BYTES:
                raise self._row_too_big()
            self.rows_bytes += size
            self.row_depth = 0
        elif self.depth == self.string_depth:
            self.strings_bytes += self.parser.CurrentByteIndex - self.string_start
            if self.strings_bytes > self.limits.max_shared_bytes:
                raise self._strings_too_big()
            self.string_depth = 0
        self.depth -= 1

    def _too_many_cells(self) -> ValidationError:
        return ValidationError(
            f"第 {self.row_number} 行的单元格过多(上限 {self.max_row_cells} 个),请删除表格右侧多余的列和格式后再上传"
        )

    def _row_too_big(self) -> ValidationError:
        return ValidationError(f"第 {self.row_number} 行的内容过多(超过 {_MAX_ROW_BYTES // 1024 // 1024} MB),已拒绝")

    def _strings_too_big(self) -> ValidationError:
        return ValidationError(f"文件中的文本过多(超过 {self.limits.max_shared_bytes // 1024 // 1024} MB),请分批导入")


# -- reading the sheet from check_xlsx's scan --------------------------------------------------------------------
#
# What openpyxl's read-only mode (data_only, values only) returns for each cell, from the parts check_xlsx inflates
# and scans anyway: the workbook's relationships and sheets, the styles' date formats, the shared strings, and the
# sheet's cells. Elements are matched by local name, whatever their prefix.

_WORKBOOK = "xl/workbook.xml"
_WORKBOOK_RELS = "xl/_rels/workbook.xml.rels"
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
    def __init__(self, book: _Book):
        self.rels = book.rels

    def start(self, name: str, attrs: list) -> None:
        if _local(name) == "Relationship":
            rid, kind, target = _attr(attrs, "Id"), _attr(attrs, "Type"), _attr(attrs, "Target")
            if rid and kind and target:
                self.rels[rid] = (kind, target)


class _WorkbookReader(_PartReader):
    def __init__(self, book: _Book):
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

    def __init__(self, book: _Book):
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

    def __init__(self, book: _Book):
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


class _Book:
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
        if part == _WORKBOOK_RELS:
            return self._watched(_RelsReader(self))
        if part == _WORKBOOK:
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


class _SheetScan(_XmlScan):
    """The scan of the sheet to read, which keeps its rows as it checks them: (row number, cell values by column,
    whether the row has text beyond `max_columns`), the values as openpyxl's read-only mode returns them with
    data_only (a formula's cached result; a number in a date format as a datetime). Cells beyond `max_columns`
    are not kept: only the header may not have text there.

    The checks are _XmlScan's; inside a row, where nearly every element is, they are repeated here in one handler
    per element instead of a second call (the hot path of the import)."""

    def __init__(self, limits: Limits, other_elements: int, book: _Book):
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
        self.value: list[str] | None = None
        self.inline: list[str] | None = None

    def _start(self, name: str, attrs: list) -> None:
        if not self.row_depth:
            super()._start(name, attrs)
            if self.row_depth:
                self._row(attrs)
            return
        # inside a row: _XmlScan._start's checks for this case
        self.depth += 1
        if self.depth > _MAX_DEPTH:
            raise _odd_structure("XML 嵌套过深")
        self.row_elements += 1
        if self.row_elements > _MAX_BLOCK_ELEMENTS:
            raise _odd_structure(f"第 {self.row_number} 行的 XML 元素过多")
        if ":" in name:
            name = _local(name)
        if name == "v":
            if self.in_cell:
                self.value = []
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
        elif name == "is" and self.in_cell:
            self.inline = []
        elif name == "rPh":
            self.phonetic += 1
        elif name == "t" and self.inline is not None and not self.phonetic:
            self.value = []

    def _end(self, name: str) -> None:
        if not self.row_depth or self.depth == self.row_depth:
            ends_row = self.row_depth and self.depth == self.row_depth
            super()._end(name)
            if ends_row:
                self.sheet_rows.append((self.sheet_row, self.cells, self.beyond))
            return
        self.depth -= 1  # inside a row: all _XmlScan._end does there
        if ":" in name:
            name = _local(name)
        if name == "c":
            if self.in_cell:
                value = self.value
                if self.kind == "n" and value and len(value) == 1 and not self.style and 0 < self.column <= self.cap:
                    # a plain number: _cell_value and _store in short
                    text = value[0]
                    cells, column = self.cells, self.column
                    if column > len(cells):
                        cells.extend([None] * (column - len(cells)))
                    try:
                        cells[column - 1] = _number(text) if text else None
                    except ValueError:
                        self.failed = True
                else:
                    self._store(self._cell_value())
            self.in_cell = 0
            self.value = self.inline = None
        elif name == "t" and self.inline is not None and self.value is not None:
            self.inline.append("".join(self.value))
            self.value = None
        elif name == "rPh":
            self.phonetic -= 1

    def _text(self, data: str) -> None:
        if self.value is not None:
            self.value.append(data)

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
        text = "".join(self.value) if self.value else None
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
        if not self.book.readable():
            raise ValidationError(_UNREADABLE)
        if self.broken or self.failed:
            raise ValidationError(_READ_FAILED)
        limits = self.limits
        headers: list[str] = []
        header_row = expected = width = 0
        found = False
        rows: list[tuple[int, tuple]] = []
        for number, cells, beyond in self.sheet_rows:
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
                continue
            values = tuple(cells[:width])
            if not any(c not in (None, "") and not (isinstance(c, str) and not c.strip()) for c in values):
                continue
            if len(rows) >= limits.max_rows:
                raise ValidationError(f"数据行过多(超过 {limits.max_rows} 行),请分批导入")
            rows.append((number - header_row + 1, values + (None,) * (width - len(values))))
        if not headers:
            raise ValidationError("文件中没有表头,请使用下载的模板填写")
        return RawSheet(headers, rows)


def read_sheet(data: bytes, limits: Limits = Limits()) -> RawSheet:
    """The first sheet's header and non-empty rows; openpyxl in read-only mode over defusedxml. The import takes the
    same rows from `check_xlsx`, which reads them in its own scan; this second reader is what its tests compare
    with."""
    if not DEFUSEDXML:  # pragma: no cover - defusedxml is a requirement
        raise ValidationError("服务器未启用安全的 XML 解析,暂不能导入")
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
    except Exception:  # openpyxl raises many kinds on malformed parts
        raise ValidationError(_UNREADABLE) from None
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
        raise ValidationError(_READ_FAILED) from None
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


# What a spreadsheet program may read as the start of a formula (or of a DDE call), in a cell a user types into
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(ws, value, number_format: str | None = None) -> WriteOnlyCell:
    """The one way the product writes a cell: text is always a string cell, never a formula.

    openpyxl turns any string that starts with "=" into a live formula; a unit or an indicator named
    "=HYPERLINK(...)" or "=cmd|'/c calc'!A1" would run when the file is opened. Text is stored as a string cell
    as it is (shown literally), and text that starts like a formula also gets Excel's quote prefix, so editing the
    cell keeps it text. Numbers stay numbers, negative ones included.
    """
    c = WriteOnlyCell(ws, value=value)
    if isinstance(value, str):
        c.data_type = "s"
        if value.startswith(FORMULA_STARTS):
            c.quotePrefix = True
    if number_format is not None:
        c.number_format = number_format
    return c


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
        c = cell(ws, text)
        c.font, c.fill, c.alignment = _HEAD_FONT, _HEAD_FILL, Alignment(horizontal="center")
        header.append(c)
    ws.append(header)
    formats = [_number_format(i.decimals) for i in indicators]
    for unit_name, month, values in rows:
        out = [cell(ws, unit_name), cell(ws, month, "@")]  # "@" keeps 2026-10 as text, not a date
        out += [cell(ws, v, f) for v, f in zip(values, formats, strict=True)]
        ws.append(out)
    if notes:
        ns = wb.create_sheet("说明")
        ns.column_dimensions["A"].width = 100
        for line in notes:
            ns.append([cell(ns, line)])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _col(n: int) -> str:
    s = ""
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(65 + r) + s
    return s
