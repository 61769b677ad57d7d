"""The Word version of the reports: the same sections as the PDF, Word heading styles, Word tables, charts as
pictures, the official document's page setup, 草稿 in its properties; LibreOffice opens and converts it."""

from __future__ import annotations

import io
import shutil
import subprocess

import pytest
from docx import Document
from pypdf import PdfReader

from tracker.periods import Period
from tracker.reports import builders, service

from .conftest import get_unit
from .test_reports import district  # noqa: F401  (the fixture)

Q3 = Period.parse("2026-Q3")


def _docx(body: bytes):
    return Document(io.BytesIO(body))


def test_briefing_docx_has_the_pdfs_sections_as_word_styles_and_tables(district, session, app, client, auth):  # noqa: F811
    auth.login("reviewer")
    page = client.get("/reports/briefing?period=2026-Q3").get_data(as_text=True)
    assert "下载Word版" in page and "/reports/briefing.docx?period=2026-Q3" in page
    resp = client.get("/reports/briefing.docx?period=2026-Q3")
    assert resp.status_code == 200 and resp.mimetype.endswith("wordprocessingml.document")
    doc = _docx(resp.data)
    props = doc.core_properties
    assert props.content_status == "草稿" and "草稿" in props.title
    section = doc.sections[0]
    # GB/T 9704: A4, top 37 mm, binding side 28 mm, so the type area is 210 - 28 - 26 = 156 mm wide
    size = [round(x.mm) for x in (section.page_width, section.page_height, section.top_margin, section.left_margin)]
    assert size + [round(section.right_margin.mm)] == [210, 297, 37, 28, 26]
    assert doc.settings.odd_and_even_pages_header_footer
    headings = [p.text for p in doc.paragraphs if p.style.name == "Heading 1"]
    assert headings == [
        "一、两降两升",
        "二、重点任务推进情况",
        "三、逾期与催办",
        "四、考评得分与排名",
        "五、红黄牌",
        "六、前期议定事项落实情况",
        "七、宣传教育",
    ]
    subheads = [p.text for p in doc.paragraphs if p.style.name == "Heading 2"]
    assert "（一）全区情况" in subheads and "（二）各镇(街道)情况与综合排名" in subheads
    title = [p.text for p in doc.paragraphs if p.style.name == "Title"]
    assert title == ["2026年第三季度\n打击治理电信网络诈骗工作通报"]
    texts = [p.text for p in doc.paragraphs]
    assert "开发区打击治理电信网络诈骗犯罪工作联席会议办公室" in texts
    assert "反诈联办〔2026〕\u3000号" in texts
    # the district's figures table: 青石镇 31 cases against 20 a year before, 柳溪镇 12 (18), 云岭镇 22 (25):
    # 31 + 12 + 22 = 65 against 20 + 18 + 25 = 63
    first = doc.tables[0]
    assert [c.text for c in first.rows[0].cells] == ["指标", "本期", "去年同期", "同比"]
    cases = [c.text for c in first.rows[1].cells]
    assert cases[:3] == ["发案数(起)", "65", "63"]
    assert doc.inline_shapes, "charts as pictures"


def test_report_cli_writes_docx_and_libreoffice_converts_it(district, app, session, tmp_path):  # noqa: F811
    runner = app.test_cli_runner()
    out = tmp_path / "b.docx"
    result = runner.invoke(args=["report", "briefing", "--period", "2026-Q3", "--format", "docx", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert _docx(out.read_bytes()).core_properties.content_status == "草稿"
    town = get_unit(session, "青石镇")
    card = tmp_path / "s.docx"
    result = runner.invoke(
        args=["report", "scorecard", "--unit", town.name, "--period", "2026-Q3", "--format", "docx", "-o", str(card)]
    )
    assert result.exit_code == 0, result.output
    assert "青石镇2026年第三季度考评记分卡" in [p.text for p in _docx(card.read_bytes()).paragraphs]
    office = shutil.which("soffice") or shutil.which("libreoffice")
    if office is None:
        pytest.skip("LibreOffice is not installed (Debian: libreoffice-writer-nogui)")
    subprocess.run(
        [
            office,
            "--headless",
            f"-env:UserInstallation=file://{tmp_path}/lo",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(out),
        ],
        check=True,
        capture_output=True,
        timeout=240,
    )
    text = "".join(p.extract_text() for p in PdfReader(tmp_path / "b.pdf").pages)
    assert "打击治理电信网络诈骗工作通报" in text and "一、两降两升" in text and "— 1 —" in text


def test_card_report_docx_from_the_same_data(district, app, session):  # noqa: F811
    with app.test_request_context():
        data = builders.card_report(session, Q3, app.config["DISTRICT_NAME"])
        doc = _docx(service.to_docx("cards", data))
    headings = [p.text for p in doc.paragraphs if p.style.name == "Heading 1"]
    assert headings[0] == "一、规则研判与决定" and len(headings) == 5
