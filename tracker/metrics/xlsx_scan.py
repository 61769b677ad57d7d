"""Checking an uploaded .xlsx before anything parses it: the zip directory, each part inflated a piece at a time
and scanned by expat for what a reader would hold in memory, DTDs refused. `excel.check_xlsx` runs it."""

from __future__ import annotations

import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from xml.parsers import expat

from ..errors import ValidationError

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
MACRO_MARKERS = ("vbaproject", "macrosheets/", "activex", "vbadata", "embeddings/")
MACRO_TYPES = (b"macroEnabled", b"vbaProject")

_CHUNK = 64 * 1024  # bytes inflated, and fed to the XML scan, at a time
# Bounds of the XML scan that are not a matter of policy (Limits) but of what no real workbook comes near.
MAX_BLOCK_ELEMENTS = 16_384  # elements in one row or shared string: cells, values, formulas, rich-text runs
_MAX_ROW_BYTES = 4 * 1024 * 1024  # one row's XML (Excel allows 32,767 characters a cell)
_MAX_OTHER_BYTES = 16 * 1024 * 1024  # XML of a part outside rows and shared strings
MAX_DEPTH = 128
_MAX_TOKEN_BYTES = 4 * 1024 * 1024  # one tag, attribute or comment, which expat buffers whole

DAMAGED = "文件已损坏或不是有效的 Excel(.xlsx)文件"
UNREADABLE = "无法读取该 Excel 文件,请确认它能在 Excel 中正常打开,并另存为 .xlsx 后重试"
READ_FAILED = "读取 Excel 内容时出错,请确认文件未损坏"
BOMB = "文件解压后体积异常(压缩比过高,疑似压缩炸弹),已拒绝"
MACROS = "文件含有宏或可执行内容,已拒绝。请另存为不含宏的 .xlsx 文件后再上传"


def odd_structure(detail: str) -> ValidationError:
    return ValidationError(f"文件结构异常({detail}),已拒绝。请在 Excel 中另存为新的 .xlsx 文件后再上传")


def inflated(data: bytes, info: zipfile.ZipInfo) -> Iterator[bytes]:
    """A part's bytes, at most 64 KiB at a time, inflated from its raw stream in the upload.

    Not ZipFile.open(): its read(n) stops at the declared size and checks the CRC there, so a deflate stream that
    goes on for gigabytes past a small declared size, with the CRC of its first bytes, passes it; openpyxl's
    ZipFile.read() would then inflate all of it in one call before cutting it to the declared size. Here the
    stream must end by its declared size, and its CRC must match.
    """
    damaged = ValidationError(DAMAGED)
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


class XmlScan:
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
            raise odd_structure("XML 标签过长")
        open_row = self.fed - self.row_start if self.row_depth else 0
        if open_row > _MAX_ROW_BYTES:
            raise self._row_too_big()
        open_string = self.fed - self.string_start if self.string_depth else 0
        if self.strings_bytes + open_string > self.limits.max_shared_bytes:
            raise self._strings_too_big()
        if self.fed - self.rows_bytes - open_row - self.strings_bytes - open_string > _MAX_OTHER_BYTES:
            raise odd_structure("XML 内容过多")

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
        if self.depth > MAX_DEPTH:
            raise odd_structure("XML 嵌套过深")
        if self.row_depth:
            self.row_elements += 1
            if self.row_elements > MAX_BLOCK_ELEMENTS:
                raise odd_structure(f"第 {self.row_number} 行的 XML 元素过多")
            if name == "c" or (":" in name and name.endswith(":c")):
                self.row_cells += 1
                if self.row_cells == 1:
                    self._another_row()
                elif self.row_cells > self.max_row_cells:
                    raise self._too_many_cells()
        elif self.string_depth:
            self.string_elements += 1
            if self.string_elements > MAX_BLOCK_ELEMENTS:
                raise odd_structure("共享字符串的 XML 元素过多")
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
