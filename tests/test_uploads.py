"""Uploads under attack: oversize bodies, zip bombs (gigabytes inside a 2 MB file, or a size the zip header
understates), XML element floods, entity expansion, renamed executables and macro-enabled files are refused with a
clear Chinese message, write nothing, and keep the request's memory bounded.

The upload pages are the plan import (/admin/plan/import: .txt/.docx) and the 两降两升 figures import
(/metrics/import: .xlsx). Memory is the growth of the process's peak resident set during the request
(/proc/self/clear_refs resets the peak), which also counts what C parsers (expat, libxml2) allocate."""

from __future__ import annotations

import gc
import io
import os
import re
import struct
import tracemalloc
import zipfile
import zlib

import openpyxl
import pytest
from openpyxl.styles import PatternFill
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from tracker.errors import ValidationError
from tracker.metrics.excel import Limits, check_xlsx, read_sheet
from tracker.metrics.models import MetricValue
from tracker.plans import documents
from tracker.plans.models import Plan

PLAN_URL = "/admin/plan/import"
METRICS_URL = "/metrics/import"
MEMORY_LIMIT = 100 * 1024 * 1024
GIB = 1 << 30

W = b'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
DOCX_TYPES = (
    b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    b'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    b'<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.'
    b'wordprocessingml.document.main+xml"/></Types>'
)
DOCM_TYPES = DOCX_TYPES.replace(
    b"officedocument.wordprocessingml.document.main+xml", b"ms-word.document.macroEnabled.main+xml"
)
DOCX_RELS = (
    b'<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
    b'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    b'relationships/officeDocument" Target="word/document.xml"/></Relationships>'
)
LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10) for i in range(1, 10))
    + b"]>"
)
MZ = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\0" * 50 + b"This program cannot be run in DOS mode"
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\0" * 8 + b"\x02\x00\x3e\x00" + b"\0" * 44


# -- building hostile files ----------------------------------------------------------------------------------------


def _zip(parts: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return buf.getvalue()


def _raw_zip(entries: list[tuple[str, bytes, int, int]]) -> bytes:
    """A zip written by hand from (name, raw deflate stream, CRC-32, size the headers declare)."""
    out, central = io.BytesIO(), io.BytesIO()
    for name, stream, crc, size in entries:
        offset, encoded = out.tell(), name.encode()
        out.write(
            struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 8, 0, 0x21, crc, len(stream), size, len(encoded), 0)
            + encoded
            + stream
        )
        central.write(
            struct.pack(
                "<4s6H3L5H2L",
                b"PK\x01\x02",
                20,
                20,
                0,
                8,
                0,
                0x21,
                crc,
                len(stream),
                size,
                len(encoded),
                0,
                0,
                0,
                0,
                0,
                offset,
            )
            + encoded
        )
    start = out.tell()
    out.write(central.getvalue())
    out.write(
        struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(entries), len(entries), len(central.getvalue()), start, 0)
    )
    return out.getvalue()


def _deflated(name: str, data: bytes) -> tuple[str, bytes, int, int]:
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return name, c.compress(data) + c.flush(), zlib.crc32(data), len(data)


@pytest.fixture(scope="module")
def gigabytes() -> tuple[bytes, int, int]:
    """A raw deflate stream of 2 GiB of zeros in about 2 MB: one fully flushed 16 MiB block, repeated."""
    chunk = bytes(16 << 20)
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = c.compress(chunk) + c.flush(zlib.Z_FULL_FLUSH)
    repeat = (2 * GIB) // len(chunk)
    crc = 0
    for _ in range(repeat):
        crc = zlib.crc32(chunk, crc)
    return block * repeat + c.flush(), crc, 2 * GIB


def _docx(document_xml: bytes, extra: dict | None = None, types: bytes = DOCX_TYPES) -> bytes:
    return _zip(
        {"[Content_Types].xml": types, "_rels/.rels": DOCX_RELS, "word/document.xml": document_xml, **(extra or {})}
    )


def _document(body: bytes) -> bytes:
    return b"<w:document " + W + b"><w:body>" + body + b"</w:body></w:document>"


def _template_xlsx_parts() -> dict[str, bytes]:
    wb = openpyxl.Workbook()
    wb.active.append(["月份", "单位", "发案数"])
    buf = io.BytesIO()
    wb.save(buf)
    with zipfile.ZipFile(buf) as z:
        return {i.filename: z.read(i.filename) for i in z.infolist()}


def _xlsx(sheet_xml: bytes | None = None, extra: dict | None = None) -> bytes:
    parts = _template_xlsx_parts()
    if sheet_xml is not None:
        parts["xl/worksheets/sheet1.xml"] = sheet_xml
    return _zip({**parts, **(extra or {})})


MAIN_NS = b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


def _xlsx_with_shared_strings(sst: bytes, sheet: bytes) -> bytes:
    """The template with a shared-string table, wired up in the content types and the workbook's relationships."""
    parts = _template_xlsx_parts()
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        b"</Types>",
        b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
        b'officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
    )
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>",
        b'<Relationship Id="rId99" Type="http://schemas.openxmlformats.org/officeDocument/'
        b'2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>',
    )
    parts["xl/sharedStrings.xml"] = sst
    parts["xl/worksheets/sheet1.xml"] = sheet
    return _zip(parts)


def _damaged_xlsx(how: str) -> bytes:
    """The template with its sheet's deflate stream damaged: a wrong CRC, or cut short."""
    parts = _template_xlsx_parts()
    entries = [_deflated(name, data) for name, data in parts.items()]
    sheet = next(i for i, e in enumerate(entries) if e[0] == "xl/worksheets/sheet1.xml")
    name, stream, crc, size = entries[sheet]
    entries[sheet] = (name, stream, crc ^ 1, size) if how == "crc" else (name, stream[: len(stream) // 2], crc, size)
    return _raw_zip(entries)


def _bzip2_xlsx() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_BZIP2) as z:
        for name, data in _template_xlsx_parts().items():
            z.writestr(name, data)
    return buf.getvalue()


def _with_bomb(
    kind: str, gigabytes, declared: int | None = None, part: str | None = None, crc_of_declared: bool = False
) -> bytes:
    """A .docx or .xlsx whose `part` (by default the document or the sheet) is the 2 GiB stream; `declared`
    understates its size in the zip headers, and with `crc_of_declared` the headers hold the CRC of the declared
    bytes (the stream is all zeros), which is what zipfile checks when it stops there."""
    stream, crc, size = gigabytes
    if declared is not None and crc_of_declared:
        crc = zlib.crc32(bytes(declared))
    if kind == "docx":
        parts, main = (
            {"[Content_Types].xml": DOCX_TYPES, "_rels/.rels": DOCX_RELS, "word/document.xml": _document(b"<w:p/>")},
            "word/document.xml",
        )
    else:
        parts, main = _template_xlsx_parts(), "xl/worksheets/sheet1.xml"
    part = part or main
    entries = [_deflated(name, data) for name, data in parts.items() if name != part]
    return _raw_zip([*entries, (part, stream, crc, size if declared is None else declared)])


def _random_hex(n: int) -> bytes:
    # random, so the flood compresses about 5:1 like real XML and passes any compression-ratio check
    return os.urandom(n // 2 + 1).hex()[:n].encode()


# -- measuring -----------------------------------------------------------------------------------------------------


def _status_kib(key: str) -> int:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(key))


def _measured(call):
    """(response, bytes of memory the call added at its peak)."""
    gc.collect()
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # reset the peak resident set (VmHWM) to the current one
        before = _status_kib("VmRSS")
    except OSError:  # no /proc: Python allocations only
        tracemalloc.start()
        try:
            return call(), tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    resp = call()
    return resp, (_status_kib("VmHWM") - before) * 1024


def _post(client, url: str, data: bytes, name: str):
    # encoded in memory: the test client's own encoding spills large bodies to a temporary file it never closes
    boundary, body = encode_multipart({"file": FileStorage(io.BytesIO(data), filename=name)})
    return client.post(url, data=body, content_type=f"multipart/form-data; boundary={boundary}")


def _counts(session):
    session.rollback()
    return (
        session.scalar(select(func.count()).select_from(Plan)),
        session.scalar(select(func.count()).select_from(MetricValue)),
    )


def _refused(client, session, url: str, data: bytes, name: str, message: str, statuses=(200, 422)) -> str:
    """Post a hostile file: refused with `message`, no traceback, nothing written, memory bounded."""
    before = _counts(session)
    resp, grew = _measured(lambda: _post(client, url, data, name))
    html = resp.get_data(as_text=True)
    assert resp.status_code in statuses, resp.status_code
    assert message in html, html[-3000:]
    assert "Traceback" not in html and "lollollollol" not in html
    assert grew < MEMORY_LIMIT, f"the request took {grew / 2**20:.0f} MiB"
    assert _counts(session) == before
    return html


@pytest.fixture
def admin(seeded, client, auth):
    auth.login("admin")
    return client


@pytest.fixture
def police(seeded, client, auth):
    auth.login("police")
    return client


# -- both upload pages ---------------------------------------------------------------------------------------------


def test_oversize_bodies_get_413(seeded, session, client, auth):
    big = b"0" * (6 * 1024 * 1024)
    before = _counts(session)
    auth.login("admin")
    assert _post(client, PLAN_URL, big, "plan.txt").status_code == 413
    auth.logout()
    auth.login("police")
    resp = _post(client, METRICS_URL, big, "figures.xlsx")
    assert resp.status_code == 413 and "过大" in resp.get_data(as_text=True)
    assert _counts(session) == before


# -- the plan import (.docx) ---------------------------------------------------------------------------------------


def test_the_hand_built_documents_are_readable_when_harmless():
    """The control: the same construction without the attack is read, tables included."""
    body = (
        b"<w:p><w:r><w:t>\xe4\xb8\x80\xe3\x80\x81\xe4\xbb\xbb\xe5\x8a\xa1</w:t></w:r></w:p>"
        b"<w:tbl><w:tr><w:tc><w:p><w:r><w:t>A</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>B</w:t></w:r>"
        b"</w:p></w:tc></w:tr></w:tbl>"
    )
    assert documents.read_document("p.docx", _docx(_document(body))) == "一、任务\nA B"
    stream, crc, size = _deflated("word/document.xml", _document(b"<w:p><w:r><w:t>x</w:t></w:r></w:p>"))[1:]
    raw = _raw_zip(
        [
            _deflated("[Content_Types].xml", DOCX_TYPES),
            _deflated("_rels/.rels", DOCX_RELS),
            ("word/document.xml", stream, crc, size),
        ]
    )
    assert documents.read_document("p.docx", raw) == "x"


def test_a_docx_holding_gigabytes_is_refused_before_it_is_unpacked(admin, session, gigabytes):
    _refused(admin, session, PLAN_URL, _with_bomb("docx", gigabytes), "plan.docx", "解压后过大")


@pytest.mark.parametrize("part", ["word/document.xml", "[Content_Types].xml", "_rels/.rels"])
def test_a_docx_bomb_that_understates_its_size_is_refused(admin, session, gigabytes, part):
    # zipfile stops at the declared size and the CRC then fails, provided the part is read a piece at a time
    _refused(
        admin,
        session,
        PLAN_URL,
        _with_bomb("docx", gigabytes, declared=4096, part=part),
        "plan.docx",
        "不是有效的 Word",
    )


@pytest.mark.parametrize(
    "name, data, message",
    [
        ("plan.docx", _docx(_document(b"<w:p/>"), {"word/media/huge.bin": b"\0" * (80 * 1024 * 1024)}), "解压后过大"),
        ("plan.docx", _docx(_document(b"<w:p/>" * (5 * 1024 * 1024))), "压缩炸弹"),
        ("plan.docx", _docx(_document(b"<w:p/>"), {f"word/media/{i}.png": b"" for i in range(2000)}), "内部文件过多"),
        ("plan.docx", MZ, "不是有效的 Word"),
        ("plan.docx", ELF, "不是有效的 Word"),
        ("plan.exe", MZ, "只能上传"),
        ("plan.docm", _docx(_document(b"<w:p/>"), {"word/vbaProject.bin": b"\0" * 10}, DOCM_TYPES), "只能上传"),
        ("plan.docx", _docx(_document(b"<w:p/>"), {"word/vbaProject.bin": b"\0" * 10}), "含有宏"),
        ("plan.docx", _docx(_document(b"<w:p/>"), types=DOCM_TYPES), "含有宏"),
    ],
    ids=[
        "media-80MB",
        "document-30MB-of-empty-paragraphs",
        "2000-entries",
        "renamed-windows-exe",
        "renamed-linux-elf",
        "exe",
        "docm",
        "docx-with-vba",
        "docx-with-macro-content-type",
    ],
)
def test_hostile_plan_files_are_refused(admin, session, name, data, message):
    _refused(admin, session, PLAN_URL, data, name, message)


@pytest.mark.parametrize("where", ["document", "relationships"])
def test_entity_expansion_in_a_docx_is_refused(admin, session, where):
    doc = _document(b"<w:p><w:r><w:t>&lol9;</w:t></w:r></w:p>")
    data = (
        _docx(LAUGHS + doc)
        if where == "document"
        else _zip(
            {
                "[Content_Types].xml": DOCX_TYPES,
                "_rels/.rels": LAUGHS + DOCX_RELS.split(b"?>", 1)[1],
                "word/document.xml": doc,
            }
        )
    )
    _refused(admin, session, PLAN_URL, data, "plan.docx", "不允许的 XML 实体")


@pytest.mark.parametrize("shape", ["one-paragraph", "many-paragraphs"])
def test_an_xml_element_flood_in_a_docx_is_refused_with_bounded_memory(admin, session, shape):
    # ~1.3 million elements in a 4 MB upload, each with a random attribute: a full DOM parse of it took 300 MB
    n = 1_300_000
    attrs = _random_hex(4 * n)
    runs = b"".join(b'<w:r w:x="' + attrs[i * 4 : i * 4 + 4] + b'"/>' for i in range(n))
    body = b"<w:p>" + runs + b"</w:p>" if shape == "one-paragraph" else runs.replace(b"<w:r ", b"<w:p ")
    data = _docx(_document(body))
    assert len(data) < 5 * 1024 * 1024
    message = "XML 元素过多" if shape == "one-paragraph" else "文本过长"
    _refused(admin, session, PLAN_URL, data, "plan.docx", message)


# -- the 两降两升 figures import (.xlsx) ----------------------------------------------------------------------------


def test_an_xlsx_holding_gigabytes_is_refused_before_it_is_unpacked(police, session, gigabytes):
    _refused(police, session, METRICS_URL, _with_bomb("xlsx", gigabytes), "figures.xlsx", "压缩炸弹", (422,))


@pytest.mark.parametrize("crc", ["crc-of-the-whole-stream", "crc-of-the-declared-bytes"])
@pytest.mark.parametrize("part", ["xl/worksheets/sheet1.xml", "[Content_Types].xml", "xl/workbook.xml"])
def test_an_xlsx_bomb_that_understates_its_size_is_refused(police, session, gigabytes, part, crc):
    # zipfile's read(n) stops at the declared 4 KB and checks the CRC there, which the declared bytes' CRC passes;
    # openpyxl's read() would then inflate the whole 2 GiB. The stream has to end at its declared size.
    data = _with_bomb("xlsx", gigabytes, declared=4096, part=part, crc_of_declared=crc == "crc-of-the-declared-bytes")
    _refused(police, session, METRICS_URL, data, "figures.xlsx", "解压后比声明的大(疑似压缩炸弹)", (422,))


@pytest.mark.parametrize(
    "name, data, message",
    [
        ("figures.xlsx", _xlsx(b"\0" * (60 * 1024 * 1024)), "疑似压缩炸弹"),
        ("figures.xlsx", _xlsx(extra={f"xl/media/{i}.png": b"" for i in range(600)}), "内部文件过多"),
        ("figures.xlsx", MZ, "不是有效的 Excel"),
        ("figures.xlsx", ELF, "不是有效的 Excel"),
        ("figures.xlsm", _xlsx(extra={"xl/vbaProject.bin": b"\0" * 10}), "不接受含宏的工作簿"),
        ("figures.xlsx", _xlsx(extra={"xl/vbaProject.bin": b"\0" * 10}), "文件含有宏"),
        ("figures.xlsx", _damaged_xlsx("crc"), "文件已损坏"),
        ("figures.xlsx", _damaged_xlsx("truncated"), "文件已损坏"),
        ("figures.xlsx", _bzip2_xlsx(), "压缩方式不受支持"),
        # one attribute of 8 MB (random enough to pass the ratio check), which expat would buffer whole
        ("figures.xlsx", _xlsx(b'<worksheet x="' + b"a" * (8 << 20) + _random_hex(300_000) + b'"/>'), "XML 标签过长"),
    ],
    ids=[
        "sheet-60MB-of-zeros",
        "600-entries",
        "renamed-windows-exe",
        "renamed-linux-elf",
        "xlsm",
        "xlsx-with-vba",
        "wrong-crc",
        "truncated-stream",
        "bzip2",
        "8MB-attribute",
    ],
)
def test_hostile_spreadsheets_are_refused(police, session, name, data, message):
    _refused(police, session, METRICS_URL, data, name, message, (422,))


@pytest.mark.parametrize("part", ["sheet", "shared-strings"])
def test_entity_expansion_in_an_xlsx_is_refused(police, session, part):
    if part == "sheet":
        cell = b'<c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c>'
        data = _xlsx(
            LAUGHS + b"<worksheet " + MAIN_NS + b'><sheetData><row r="1">' + cell + b"</row></sheetData></worksheet>"
        )
    else:  # the sheet's first cell is shared string 0, which expands
        data = _xlsx_with_shared_strings(
            LAUGHS + b"<sst " + MAIN_NS + b"><si><t>&lol9;</t></si></sst>",
            b"<worksheet " + MAIN_NS + b'><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row></sheetData>'
            b"</worksheet>",
        )
    _refused(police, session, METRICS_URL, data, "figures.xlsx", "不允许的 XML 实体或文档类型声明(DTD)", (422,))


@pytest.mark.parametrize("shape", ["one-row", "cells-outside-rows", "shared-strings"])
def test_an_xml_element_flood_in_an_xlsx_is_refused_with_bounded_memory(police, session, shape):
    # 250,000 inline-string cells (or shared strings) in a 2 MB upload: openpyxl built the whole row, 230 MB, and
    # keeps every element it does not know (cells outside a row) and the whole shared-string table
    n = 250_000
    text = _random_hex(6 * n)
    if shape == "shared-strings":
        strings = b"".join(b"<si><t>" + text[i * 6 : i * 6 + 6] + b"</t></si>" for i in range(n))
        data = _xlsx_with_shared_strings(
            b"<sst " + MAIN_NS + b">" + strings + b"</sst>",
            b"<worksheet " + MAIN_NS + b'><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row></sheetData>'
            b"</worksheet>",
        )
        message = "文件中的文本过多(超过 100000 条不同的文字)"
    else:
        cells = b"".join(b'<c t="inlineStr"><is><t>' + text[i * 6 : i * 6 + 6] + b"</t></is></c>" for i in range(n))
        data = _xlsx(
            b"<worksheet " + MAIN_NS + b"><sheetData>"
            b'<row r="1"><c r="A1" t="inlineStr"><is><t>x</t></is></c></row>'
            + (b'<row r="2">' + cells + b"</row>" if shape == "one-row" else cells)
            + b"</sheetData></worksheet>"
        )
        message = "第 2 行的单元格过多(上限 1024 个)" if shape == "one-row" else "格式、样式等内容过多(超过 30000 项)"
    assert len(data) < 3 * 1024 * 1024
    _refused(police, session, METRICS_URL, data, "figures.xlsx", message, (422,))


def _styles_with_formats(n: int, sheet: bytes | None = None) -> bytes:
    """The template with n more cell formats, each different, so the part compresses like a real one."""
    parts = _template_xlsx_parts()
    digits = _random_hex(8 * n)
    xfs = b"".join(
        b'<xf numFmtId="%d" fontId="%d" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
        % (int(digits[i * 8 : i * 8 + 4], 16), int(digits[i * 8 + 4 : i * 8 + 8], 16))
        for i in range(n)
    )
    styles = parts["xl/styles.xml"]
    start = styles.index(b"<cellXfs")
    open_end = styles.index(b">", start) + 1
    parts["xl/styles.xml"] = styles[:start] + b'<cellXfs count="%d">' % n + xfs + styles[open_end:]
    if sheet is not None:
        parts["xl/worksheets/sheet1.xml"] = sheet
    return _zip(parts)


def test_a_flood_of_cell_formats_is_refused_with_bounded_memory(police, session):
    # 150,000 cell formats in a 2.7 MB upload: openpyxl built an object for each, 330 MB
    data = _styles_with_formats(150_000)
    assert len(data) < 3 * 1024 * 1024
    _refused(police, session, METRICS_URL, data, "figures.xlsx", "文件中的格式、样式等内容过多(超过 30000 项)", (422,))


def test_the_format_bound_counts_every_part_together_and_a_formatted_sheet_passes():
    many = _styles_with_formats(2_000)  # far more formats than a figures sheet has: read
    check_xlsx(many, "figures.xlsx")
    assert read_sheet(many).headers
    # 600 formats and 600 column definitions: each part under a bound of 1,000, together over it
    limits = Limits(max_other_elements=1_000)
    cols = _sheet(
        b"<cols>" + b'<col min="1" max="1" width="9"/>' * 600 + b"</cols>"
        b'<sheetData><row r="1"><c r="A1"><v>1</v></c></row></sheetData>'
    )
    check_xlsx(_styles_with_formats(600), "figures.xlsx", limits)
    check_xlsx(_xlsx(cols), "figures.xlsx", limits)
    with pytest.raises(ValidationError, match=re.escape("格式、样式等内容过多(超过 1000 项)")):
        check_xlsx(_styles_with_formats(600, cols), "figures.xlsx", limits)


def _sheet(body: bytes, root: bytes = b"worksheet") -> bytes:
    return b"<" + root + b" " + MAIN_NS + b">" + body + b"</" + root + b">"


def _one_row(cells: bytes) -> bytes:
    return _sheet(b'<sheetData><row r="1">' + cells + b"</row></sheetData>")


def _sst(strings: bytes) -> bytes:
    return _xlsx_with_shared_strings(
        b"<sst " + MAIN_NS + b">" + strings + b"</sst>", _one_row(b'<c r="A1" t="s"><v>0</v></c>')
    )


HOSTILE_SHEETS = {
    # (the upload, the limits, the message); built when the test runs
    "prefixed-names": (
        lambda: _xlsx(
            b'<x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><x:sheetData>'
            b'<x:row r="7">' + b"<x:c><x:v>1</x:v></x:c>" * 1100 + b"</x:row></x:sheetData></x:worksheet>"
        ),
        Limits(),
        "第 7 行的单元格过多(上限 1024 个)",
    ),
    "nesting": (lambda: _xlsx(_sheet(b"<a>" * 200 + b"</a>" * 200)), Limits(), "XML 嵌套过深"),
    "rich-text-runs-in-a-row": (
        lambda: _xlsx(_one_row(b'<c t="inlineStr"><is>' + b"<r><t>x</t></r>" * 20_000 + b"</is></c>")),
        Limits(),
        "第 1 行的 XML 元素过多",
    ),
    "5MB-in-a-row": (
        lambda: _xlsx(_one_row(b'<c t="inlineStr"><is><t>' + _random_hex(5 << 20) + b"</t></is></c>")),
        Limits(),
        "第 1 行的内容过多(超过 4 MB)",
    ),
    "17MB-outside-rows": (
        lambda: _xlsx(_sheet(b"<x>" + b"a" * (17 << 20) + _random_hex(200_000) + b"</x>")),
        Limits(),
        "XML 内容过多",
    ),
    "rows": (
        lambda: _xlsx(_sheet(b"<sheetData>" + b"<row><c><v>1</v></c></row>" * 25 + b"</sheetData>")),
        Limits(max_rows=10),
        "工作表的行数过多(超过 20 行",
    ),
    "rich-text-runs-in-a-shared-string": (
        lambda: _sst(b"<si>" + b"<r><t>x</t></r>" * 20_000 + b"</si>"),
        Limits(),
        "共享字符串的 XML 元素过多",
    ),
    "shared-string-bytes": (
        lambda: _sst(b"<si><t>" + _random_hex(2 << 20) + b"</t></si>"),
        Limits(max_shared_bytes=1 << 20),
        "文件中的文本过多(超过 1 MB)",
    ),
    "dtd-without-entities": (
        lambda: _xlsx(b"<!DOCTYPE worksheet>" + _one_row(b"")),
        Limits(),
        "不允许的 XML 实体或文档类型声明(DTD)",
    ),
}


@pytest.mark.parametrize("case", HOSTILE_SHEETS)
def test_sheet_structures_openpyxl_would_hold_in_memory_are_refused(case):
    build, limits, message = HOSTILE_SHEETS[case]
    with pytest.raises(ValidationError, match=re.escape(message)):
        check_xlsx(build(), "figures.xlsx", limits)


def test_rows_without_cells_and_prefixed_names_are_read():
    """Rows holding only a format do not count towards the row bound; prefixed SpreadsheetML (as the Open XML SDK
    writes it) passes the checks and reads like any other sheet."""
    cell = b'<x:c r="%s" t="inlineStr"><x:is><x:t>%s</x:t></x:is></x:c>'
    header = b"".join(cell % (ref, text.encode()) for ref, text in ((b"A1", "单位"), (b"B1", "月份")))
    data = _xlsx(
        b'<x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><x:sheetData>'
        b'<x:row r="1">'
        + header
        + b"</x:row>"
        + b"".join(b'<x:row r="%d" s="1" customFormat="1"/>' % i for i in range(2, 100))
        + b'<x:row r="100"><x:c r="A100" t="inlineStr"><x:is><x:t>a</x:t></x:is></x:c></x:row>'
        b"</x:sheetData></x:worksheet>"
    )
    check_xlsx(data, "figures.xlsx", Limits(max_rows=10))
    sheet = read_sheet(data)
    assert sheet.headers == ["单位", "月份"] and sheet.rows == [(100, ("a", None))]


@pytest.mark.parametrize("compression", [zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED], ids=["deflated", "stored"])
def test_a_spreadsheet_formatted_past_its_data_is_read(police, session, frozen, compression):
    """The control: cells formatted out to column 400 and down to row 3,000 (a style, no value), shared strings, and
    parts stored without compression pass the checks, and the figures are read."""
    frozen(2026, 11, 28, 10)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "数据"
    ws.append(["单位", "月份", "发案数(起)"])
    ws.append(["青石镇", "2026-10", 5])
    fill = PatternFill("solid", fgColor="FFFF00")
    for col in range(4, 401):
        ws.cell(1, col).fill = ws.cell(2, col).fill = fill
    for row in range(3, 3001):
        ws.cell(row, 1).fill = fill
    buf = io.BytesIO()
    wb.save(buf)
    with zipfile.ZipFile(buf) as z:
        parts = {i.filename: z.read(i.filename) for i in z.infolist()}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as z:
        for name, part in parts.items():
            z.writestr(name, part)
    data = out.getvalue()
    check_xlsx(data, "figures.xlsx")
    sheet = read_sheet(data)
    assert sheet.headers == ["单位", "月份", "发案数(起)"] and sheet.rows == [(2, ("青石镇", "2026-10", 5))]
    html = _post(police, METRICS_URL, data, "figures.xlsx").get_data(as_text=True)
    assert "两降两升 › Excel 导入 › 预览" in html and "确认导入" in html, html[-3000:]
