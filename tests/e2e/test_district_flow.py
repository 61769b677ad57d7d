"""In a real browser: a reviewer imports the month's figures from a spreadsheet, issues a card, downloads the
briefing PDF."""

from __future__ import annotations

import io

from openpyxl import load_workbook
from pypdf import PdfReader

from tracker import clock

from .conftest import shot, submit


def test_import_figures_issue_a_card_and_download_the_briefing(page_for, live_server, session, frozen, tmp_path):
    frozen(2026, 11, 10, 9)
    from ..conftest import get_unit

    qingshi = get_unit(session, "青石镇").id
    session.commit()
    page = page_for("reviewer")
    month = f"{clock.today():%Y-%m}"

    # 1. the template, filled in like the police bureau's spreadsheet
    page.goto(f"{live_server}/metrics/import")
    with page.expect_download() as dl:
        page.click("button:has-text('下载模板')")
    template = tmp_path / "template.xlsx"
    dl.value.save_as(template)
    wb = load_workbook(template)
    ws = wb.active
    headers = [c.value for c in ws[1]]
    cases_col = next(i for i, h in enumerate(headers) if h and str(h).startswith("发案数")) + 1
    month_col = headers.index("月份") + 1
    for row in range(2, ws.max_row + 1):
        ws.cell(row=row, column=month_col, value=month)
        ws.cell(row=row, column=cases_col, value=10 + row)
    filled = tmp_path / "filled.xlsx"
    wb.save(filled)

    page.set_input_files("input[type=file]", str(filled))
    submit(page, "button:has-text('上传并预览')")
    assert "确认导入" in page.content()
    shot(page, "metrics-import-preview")
    page.fill("textarea[name=reason], input[name=reason]", "按公安分局报表更正本月发案数")
    submit(page, "button:has-text('确认导入')")
    assert "导入完成:新增" in page.content(), page.inner_text("main")[:600]
    unit_col = headers.index("单位") + 1
    expected = next(10 + r for r in range(2, ws.max_row + 1) if ws.cell(row=r, column=unit_col).value == "青石镇")
    from tracker.metrics import service as metrics
    from tracker.periods import Period

    session.rollback()
    assert metrics.value(session, "cases", qingshi, Period.parse(month)) == expected
    session.rollback()  # release the database for the server
    page.goto(f"{live_server}/metrics/units/{qingshi}?period={month}")
    shot(page, "metrics-overview")

    # 2. a card of the reviewer's own, with a reason
    page.goto(f"{live_server}/cards/")
    page.click("summary:has-text('审核员直接发牌')")
    page.select_option("select[name=unit_id]", label="柳溪镇")
    page.fill("form.narrow textarea[name=reason]", "反诈宣传进社区工作推进缓慢")
    submit(page, "form.narrow button.primary")
    assert "已向柳溪镇发出黄牌" in page.content()
    shot(page, "card")

    # 3. the briefing, as the joint meeting reads it
    page.goto(f"{live_server}/reports/briefing?period=2026-Q3")
    shot(page, "briefing-preview")
    with page.expect_download() as dl:
        page.click("text=下载PDF")
    pdf = tmp_path / "briefing.pdf"
    dl.value.save_as(pdf)
    reader = PdfReader(io.BytesIO(pdf.read_bytes()))
    text = "".join(p.extract_text() for p in reader.pages).replace(" ", "")
    assert "两降两升" in text and "柳溪镇" in text and len(reader.pages) >= 4
