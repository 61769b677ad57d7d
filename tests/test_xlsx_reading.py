"""The figures import reads the sheet's cells in the scan check_xlsx makes of the file anyway; it must read what
openpyxl reads (read_sheet: read-only mode, cached formula results), value for value and row number for row number,
for the cells spreadsheet programs write: shared and inline strings, rich text, dates in date formats (1900 and
1904 calendars), formulas, booleans, errors, gaps, a header below row 1, the 数据 sheet not first."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import datetime

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont

from tracker.errors import ValidationError
from tracker.metrics.excel import Limits, RawSheet, check_xlsx, read_sheet

from .metrics_util import xlsx


def _saved(wb: Workbook) -> bytes:
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _both(data: bytes, limits: Limits | None = None) -> RawSheet:
    limits = limits or Limits()
    sheet = check_xlsx(data, "f.xlsx", limits)
    assert sheet == read_sheet(data, limits)
    return sheet


def test_a_template_file_reads_as_openpyxl_reads_it():
    # header on row 1; two data rows numbered 2 and 3; 12.5 stays the float openpyxl returns
    sheet = _both(xlsx([["青石镇", "2026-10", 3, 12.5, 1, 2], ["柳溪镇", "2026-10", None, 0, "5", None]]))
    assert sheet.headers == ["单位", "月份", "发案数(起)", "损失金额(万元)", "抓获数(人)", "破案数(起)"]
    assert sheet.rows == [
        (2, ("青石镇", "2026-10", 3, 12.5, 1, 2)),
        (3, ("柳溪镇", "2026-10", None, 0, "5", None)),
    ]


def test_dates_formulas_booleans_gaps_and_a_header_below_the_first_row():
    wb = Workbook()
    wb.active.title = "说明"
    wb.active.append(["填写说明"])
    ws = wb.create_sheet("数据")  # not the first sheet: 数据 is read all the same
    ws["A3"], ws["B3"], ws["C3"] = "单位", "月份", "发案数(起)"  # the header on row 3
    ws["A4"], ws["B4"], ws["C4"] = "青石镇", datetime(2026, 10, 1), "=1+2"
    ws["B4"].number_format = "yyyy-mm"  # a month the spreadsheet turned into a date
    ws["A7"], ws["B7"], ws["C7"] = "柳溪镇", True, "#N/A"  # rows 5 and 6 left empty
    ws["E7"] = "列外"  # beyond the header: not read
    data = _saved(wb)
    sheet = _both(data)
    assert sheet.headers == ["单位", "月份", "发案数(起)"]
    # numbered from the header as read_sheet counts (row 3 is 1): rows 4 and 7 are 2 and 5; a formula without a
    # cached result (openpyxl writes none) reads as empty
    assert sheet.rows == [(2, ("青石镇", datetime(2026, 10, 1), None)), (5, ("柳溪镇", True, "#N/A"))]


def _with_sheet_xml(data: bytes, sheet_xml: str, workbook_pr: str | None = None) -> bytes:
    """The same package with another first worksheet (and optionally another workbookPr)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                body = sheet_xml.encode()
            elif info.filename == "xl/workbook.xml" and workbook_pr is not None:
                body = re.sub(rb"<workbookPr[^>]*/>", workbook_pr.encode(), body)
            dst.writestr(info.filename, body)
    return out.getvalue()


_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


def test_inline_strings_cached_results_and_cells_without_references():
    sheet_xml = (
        f"<worksheet {_NS}><sheetData>"
        '<row r="1"><c r="A1" t="inlineStr"><is><t>单位</t></is></c>'
        '<c r="B1" t="inlineStr"><is><r><t>月</t></r><r><t>份</t></r></is></c>'
        '<c r="C1" t="inlineStr"><is><t>发案数(起)</t></is></c></row>'
        # cells without r follow the one before; a formula with its cached result; a text result (t="str")
        '<row r="2"><c t="inlineStr"><is><t>青石镇</t></is></c><c t="str"><f>TEXT(1,"0")</f><v>2026-10</v></c>'
        "<c><f>1+2</f><v>3</v></c></row>"
        '<row><c r="A3" t="inlineStr"><is><t xml:space="preserve"> 柳溪镇 </t></is></c>'
        '<c r="B3" t="inlineStr"><is><t>2026-09</t></is></c><c r="C3" t="e"><v>#DIV/0!</v></c></row>'
        "</sheetData></worksheet>"
    )
    data = _with_sheet_xml(xlsx([]), sheet_xml)
    sheet = _both(data)
    assert sheet.headers == ["单位", "月份", "发案数(起)"]
    assert sheet.rows == [(2, ("青石镇", "2026-10", 3)), (3, (" 柳溪镇 ", "2026-09", "#DIV/0!"))]


def test_rich_text_shared_strings_and_the_1904_calendar():
    wb = Workbook()
    ws = wb.active
    ws.title = "数据"
    ws.append(["单位", "月份", "发案数(起)"])
    ws.append([CellRichText(TextBlock(InlineFont(b=True), "青石"), "镇"), 46296, 4])
    ws["B2"].number_format = "yyyy-mm"
    data = _saved(wb)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        sheet_xml = z.read("xl/worksheets/sheet1.xml").decode()
    # serial 46296 is 2026-10-01 in the 1900 calendar and four years and a day later in the 1904 one
    assert _both(data).rows == [(2, ("青石镇", datetime(2026, 10, 1), 4))]
    mac = _with_sheet_xml(data, sheet_xml, '<workbookPr date1904="1"/>')
    assert b"date1904" in zipfile.ZipFile(io.BytesIO(mac)).read("xl/workbook.xml")
    assert _both(mac).rows == [(2, ("青石镇", datetime(2030, 10, 2), 4))]
    assert load_workbook(io.BytesIO(mac)).epoch.year == 1904  # openpyxl agrees the file is in the 1904 calendar


def test_header_wider_than_the_limit_is_refused_but_wide_data_rows_are_cut_to_the_header():
    headers = ["单位", "月份", "发案数(起)"]
    wide = xlsx([["青石镇", "2026-10", 1, *[None] * 70, "多余"]], headers)
    assert _both(wide, Limits(max_columns=5)).rows == [(2, ("青石镇", "2026-10", 1))]
    too_wide = xlsx([["青石镇", "2026-10", 1]], [*headers, "a", "b", "c"])
    with pytest.raises(ValidationError, match=r"列数过多\(超过 5 列\)"):
        check_xlsx(too_wide, "f.xlsx", Limits(max_columns=5))
    with pytest.raises(ValidationError, match=r"列数过多\(超过 5 列\)"):
        read_sheet(too_wide, Limits(max_columns=5))


def _with_shared_strings(data: bytes, sst: str, sheet_xml: str) -> bytes:
    """The package with a shared-string table, wired up in the content types and the workbook's relationships, and
    written after the sheet (openpyxl writes none; Excel always does, the sheet's cells pointing into it)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "[Content_Types].xml":
                body = body.replace(
                    b"</Types>",
                    b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
                    b'officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
                )
            elif info.filename == "xl/_rels/workbook.xml.rels":
                body = body.replace(
                    b"</Relationships>",
                    b'<Relationship Id="rId99" Type="http://schemas.openxmlformats.org/officeDocument/'
                    b'2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>',
                )
            elif info.filename == "xl/worksheets/sheet1.xml":
                body = sheet_xml.encode()
            dst.writestr(info.filename, body)
        dst.writestr("xl/sharedStrings.xml", sst.encode())
    return out.getvalue()


_SST = (
    f"<sst {_NS}>"
    "<si><t>单位</t></si><si><t>月份</t></si><si><t>发案数(起)</t></si>"
    # rich text: the runs joined; the phonetic guide (rPh) left out, as openpyxl does
    '<si><r><rPr><b/></rPr><t>青石</t></r><r><t xml:space="preserve">镇 </t></r><rPh sb="0" eb="2"><t>qs</t></rPh></si>'
    "<si><t>2026-10</t></si></sst>"
)


def _shared_sheet(a2_index: int = 3) -> str:
    return (
        f"<worksheet {_NS}><sheetData>"
        '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="s"><v>2</v></c></row>'
        f'<row r="2"><c r="A2" t="s"><v>{a2_index}</v></c><c r="B2" t="s"><v>4</v></c><c r="C2"><v>7</v></c></row>'
        "</sheetData></worksheet>"
    )


def test_shared_strings_written_after_the_sheet_and_rich_text_in_them():
    data = _with_shared_strings(xlsx([]), _SST, _shared_sheet())
    sheet = _both(data)
    assert sheet.headers == ["单位", "月份", "发案数(起)"]
    assert sheet.rows == [(2, ("青石镇 ", "2026-10", 7))]


def test_a_missing_shared_string_or_a_broken_sheet_is_a_read_error_as_before():
    data = xlsx([["青石镇", "2026-10", 1]])
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        sheet_xml = z.read("xl/worksheets/sheet1.xml").decode()
    cut = sheet_xml[: sheet_xml.index("</sheetData>")]  # not well-formed: ends inside the sheet
    missing_string = _with_shared_strings(data, _SST, _shared_sheet(a2_index=99))  # the table has 5
    for broken in (_with_sheet_xml(data, cut), missing_string):
        with pytest.raises(ValidationError, match="读取 Excel 内容时出错"):
            check_xlsx(broken, "f.xlsx")
        with pytest.raises(ValidationError, match="读取 Excel 内容时出错"):
            read_sheet(broken)
