"""Uploads under attack: oversize bodies, zip bombs, entity expansion, renamed executables and macro-enabled
files are refused with a clear message, write nothing, and keep memory bounded."""

from __future__ import annotations

import io
import tracemalloc
import zipfile

import pytest
from sqlalchemy import func, select

from tracker.metrics.models import MetricValue
from tracker.plans.models import Plan

PLAN_URL = "/admin/plan/import"
METRICS_URL = "/metrics/import"
LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
          + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
                     for i in range(1, 10))
          + b"]>")


def _zip(parts: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return buf.getvalue()


def _docx(document_xml: bytes, extra: dict | None = None) -> bytes:
    return _zip({"[Content_Types].xml": b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
                                        b'package/2006/content-types"/>',
                 "word/document.xml": document_xml, **(extra or {})})


def _xlsx(sheet_xml: bytes, extra: dict | None = None) -> bytes:
    return _zip({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>",
                 "xl/worksheets/sheet1.xml": sheet_xml, **(extra or {})})


def _post(client, url, data: bytes, name: str):
    return client.post(url, data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def _counts(session):
    session.rollback()
    return (session.scalar(select(func.count()).select_from(Plan)),
            session.scalar(select(func.count()).select_from(MetricValue)))


@pytest.fixture
def admin(seeded, client, auth):
    auth.login("admin")
    return client


@pytest.fixture
def police(seeded, client, auth):
    auth.login("police")
    return client


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


@pytest.mark.parametrize("name, data, message", [
    ("plan.docx", _docx(b"<w:document/>", {"word/media/huge.bin": b"\0" * (80 * 1024 * 1024)}), "解压后过大"),
    ("plan.docx", b"MZ\x90\x00\x03\x00\x00\x00 this program cannot be run in DOS mode", "不是有效的 Word"),
    ("plan.docx", b"\x7fELF\x02\x01\x01\x00" + b"\0" * 64, "不是有效的 Word"),
    ("plan.docm", _docx(b"<w:document/>", {"word/vbaProject.bin": b"\0" * 10}), "只能上传"),
    ("plan.exe", b"MZ\x90\x00", "只能上传"),
])
def test_hostile_plan_files_are_refused(admin, session, name, data, message):
    before = _counts(session)
    resp = _post(admin, PLAN_URL, data, name)
    assert resp.status_code in (200, 422) and message in resp.get_data(as_text=True)
    assert _counts(session) == before


def test_entity_expansion_in_a_docx_is_not_expanded(admin, session):
    doc = LAUGHS + (b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
                    b"<w:body><w:p><w:r><w:t>&lol9;</w:t></w:r></w:p></w:body></w:document>")
    before = _counts(session)
    tracemalloc.start()
    resp = _post(admin, PLAN_URL, _docx(doc), "plan.docx")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert resp.status_code in (200, 422)
    assert "lollollollol" not in resp.get_data(as_text=True)
    assert peak < 100 * 1024 * 1024
    assert _counts(session) == before


@pytest.mark.parametrize("name, data, message", [
    ("figures.xlsx", _xlsx(b"\0" * (60 * 1024 * 1024)), "疑似压缩炸弹"),
    ("figures.xlsx", b"MZ\x90\x00\x03\x00\x00\x00 this program cannot be run in DOS mode", "不是有效的 Excel"),
    ("figures.xlsm", _xlsx(b"<worksheet/>", {"xl/vbaProject.bin": b"\0" * 10}), "不接受含宏的工作簿"),
    ("figures.xlsx", _xlsx(b"<worksheet/>", {"xl/vbaProject.bin": b"\0" * 10}), "文件含有宏"),
])
def test_hostile_spreadsheets_are_refused(police, session, name, data, message):
    before = _counts(session)
    tracemalloc.start()
    resp = _post(police, METRICS_URL, data, name)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert resp.status_code == 422 and message in resp.get_data(as_text=True)
    assert peak < 100 * 1024 * 1024
    assert _counts(session) == before


def test_entity_expansion_in_an_xlsx_is_refused_or_inert(police, session):
    sheet = LAUGHS + (b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
                      b'<row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row></sheetData></worksheet>')
    before = _counts(session)
    tracemalloc.start()
    resp = _post(police, METRICS_URL, _xlsx(sheet), "figures.xlsx")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert resp.status_code == 422
    assert "lollollollol" not in resp.get_data(as_text=True)
    assert peak < 100 * 1024 * 1024
    assert _counts(session) == before
