"""Excel: the template, the preview's problems row by row, all-or-nothing writes, and refusing unsafe files."""

from __future__ import annotations

import io
import re
import zipfile
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from tracker.audit.models import AuditEvent
from tracker.errors import StaleEdit, ValidationError
from tracker.metrics import exchange, import_stream, importing, service, workbooks
from tracker.metrics.excel import Limits, check_xlsx, read_sheet
from tracker.metrics.models import MetricValue
from tracker.periods import Period

from .conftest import get_unit, get_user
from .metrics_util import NOW, put, series, xlsx

Q, L = "青石镇", "柳溪镇"


@pytest.fixture
def env(seeded, session, frozen):
    frozen(*NOW)
    return session


def _preview(session, data: bytes, actor="police"):
    check_xlsx(data, "f.xlsx")
    return exchange.build_preview(session, get_user(session, actor), read_sheet(data))


def _messages(preview, level=None) -> list[str]:
    return [f"{p.row}|{p.column}|{p.message}" for p in preview.problems if level is None or p.level == level]


def _count(session) -> int:
    return session.scalar(select(func.count()).select_from(MetricValue))


def test_clean_file_previews_every_write(env):
    p = _preview(env, xlsx([[Q, "2026-10", 12, 35.5, 4, 3], [L, "2026-10", 8, "12.25", None, 2]]))
    assert not p.problems and p.can_confirm
    assert (p.inserts, p.updates) == (7, 0)
    assert [c.status for c in p.rows[1].cells] == ["new", "new", "empty", "new"]
    assert p.rows[1].cells[1].new == Decimal("12.25")


def test_unknown_unit(env):
    p = _preview(env, xlsx([["黑水镇", "2026-10", 1, 1, 1, 1]]))
    assert _messages(p, "error") == ["2|单位|未知单位“黑水镇”(应为镇(街道)名称或“全区”)"]
    assert not p.writes


def test_department_is_not_a_town_and_aliases_are_known(env):
    p = _preview(env, xlsx([["公安分局", "2026-10", 1, 1, 1, 1], ["青石", "2026-10", 1, 1, 1, 1]]))
    assert _messages(p, "error") == ["2|单位|“公安分局”是部门,不是镇(街道);全区数据请填“全区”"]
    assert {w.unit_id for w in p.writes} == {get_unit(env, Q).id}


@pytest.mark.parametrize(
    "month, message",
    [
        ("2026-13", "月份“2026-13”无效,应为 YYYY-MM(如 2026-10)"),
        ("十月", "月份“十月”无法识别,应为 YYYY-MM(如 2026-10)"),
        (None, "缺少月份"),
        ("2027-01", "2027-01尚未到来,不能导入未来月份的数据"),
    ],
)
def test_bad_month(env, month, message):
    p = _preview(env, xlsx([[Q, month, 1, 1, 1, 1]]))
    assert _messages(p, "error") == [f"2|月份|{message}"]


def test_months_of_2000_and_2001_import_like_any_other(env):
    """The 24 months before 2000-01 … 2001-12 reach back before 2000: an empty window, not a refusal."""
    series(env, Q, "cases", "2000-01", [8, 9, 10, 7, 9, 11, 12, 8])
    p = _preview(env, xlsx([[Q, "2001-12", 90, None, None, None], [L, "2000-01", 4, "2.5", None, None]]))
    assert not p.errors
    assert _messages(p, "warning") == ["2|发案数(起)|90起远超该单位近两年的最高值(12起),请核对"]
    importing.apply_import(env, get_user(env, "police"), p)
    env.flush()
    stored = {(v.month, v.count, v.amount) for v in env.scalars(select(MetricValue).where(MetricValue.month < "2002"))}
    assert {("2001-12", 90, None), ("2000-01", 4, None), ("2000-01", None, Decimal("2.5000"))} <= stored
    assert _count(env) == 8 + 3


@pytest.mark.parametrize("period, label", [("2000-01", "2000年1月"), ("2000-Q1", "2000年第一季度"), ("2000", "2000年")])
def test_the_figures_of_2000_are_shown_with_no_link_to_1999(env, client, auth, period, label):
    series(env, Q, "cases", "2000-01", [8, 9])
    env.commit()
    auth.login("reviewer")
    resp = client.get(f"/metrics/?period={period}")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and f"两降两升 · {label}" in html
    assert "period=1999" not in html and "‹" not in html


@pytest.mark.parametrize("month", ["1999-12", "2101-01"])
def test_a_month_outside_the_years_periods_take_is_refused_naming_the_range(env, month):
    p = _preview(env, xlsx([[Q, "2026-10", 1, None, None, None], [Q, month, 1, None, None, None]]))
    assert _messages(p, "error") == [f"3|月份|月份“{month}”超出范围,年份须在2000至2100年之间"]


def test_month_forms_people_type(env):
    from datetime import datetime

    p = _preview(
        env,
        xlsx(
            [
                [Q, "2026/9", 1, None, None, None],
                [Q, "2026年8月", 1, None, None, None],
                [Q, datetime(2026, 7, 1), 1, None, None, None],
                [Q, "202606", 1, None, None, None],
            ]
        ),
    )
    assert not p.errors and sorted(w.month for w in p.writes) == ["2026-06", "2026-07", "2026-08", "2026-09"]


@pytest.mark.parametrize(
    "cells, column, message",
    [
        ([-1, None, None, None], "发案数(起)", "不能为负数"),
        (["很多", None, None, None], "发案数(起)", "“很多”不是数字"),
        ([2.5, None, None, None], "发案数(起)", "须为整数"),
        ([None, 1.234, None, None], "损失金额(万元)", "最多保留2位小数"),
        ([None, "-0.5", None, None], "损失金额(万元)", "不能为负数"),
    ],
)
def test_bad_values(env, cells, column, message):
    p = _preview(env, xlsx([[Q, "2026-10", *cells]]))
    assert _messages(p, "error") == [f"2|{column}|{message}"]
    assert p.rows[0].cells[[None, "发案数(起)", "损失金额(万元)"].index(column) - 1].status == "error"


def test_loss_that_looks_like_yuan(env):
    series(env, Q, "losses", "2026-01", ["30.5", "28", "41.2"])
    p = _preview(env, xlsx([[Q, "2026-10", None, 305000, None, None]]))
    [w] = _messages(p, "warning")
    assert w.startswith("2|损失金额(万元)|305000.00 万元明显偏大,疑似按“元”填写")
    # without history a town's month of more than 1 亿元 is suspicious too
    p = _preview(env, xlsx([[L, "2026-10", None, 125000, None, None]]))
    assert "疑似按“元”填写" in _messages(p, "warning")[0]


def test_jump_far_outside_the_units_history(env):
    series(env, Q, "cases", "2025-10", [8, 9, 10, 7, 9, 11, 12, 8])
    p = _preview(env, xlsx([[Q, "2026-10", 90, None, None, None], [L, "2026-10", 90, None, None, None]]))
    assert _messages(p, "warning") == ["2|发案数(起)|90起远超该单位近两年的最高值(12起),请核对"]


def test_duplicate_rows(env):
    p = _preview(env, xlsx([[Q, "2026-10", 1, None, None, None], ["青石", "2026-10", 2, None, None, None]]))
    assert _messages(p, "error") == ["3||与第2行重复(同一单位、同一月份)"]


def test_overwrite_is_shown_old_to_new(env):
    put(env, "2026-10", {(Q, "cases"): 5, (Q, "losses"): "10.00"})
    p = _preview(env, xlsx([[Q, "2026-10", 6, "10", None, None]]))
    assert _messages(p, "warning") == ["2|发案数(起)|将覆盖已有数据:5 → 6"]
    cases, losses = p.rows[0].cells[:2]
    assert (cases.status, cases.old, cases.new) == ("update", 5, 6)
    assert losses.status == "same"  # 10 is 10.00: nothing to write
    assert (p.inserts, p.updates) == (0, 1)


@pytest.mark.parametrize(
    "headers, message",
    [
        (["单位", "月份", "发案数(起)", "作案手法"], "0|作案手法|无法识别的列(不是在用的指标),请使用下载的模板"),
        (["单位", "月份", "损失金额(元)"], "0|损失金额(元)|表头单位“元”与指标的计量单位“万元”不一致"),
        (["单位", "月份", "止付冻结金额(万元)"], "0|止付冻结金额(万元)|指标“止付冻结金额”已停用,不能导入"),
        (["月份", "发案数(起)"], "0|单位|缺少“单位”列"),
        (["单位", "月份", "发案数(起)", "发案数"], "0|发案数|与列“发案数(起)”重复"),
    ],
)
def test_bad_headers(env, headers, message):
    p = _preview(env, xlsx([[Q, "2026-10", 1, 1]], headers))
    assert message in _messages(p, "error")
    assert not p.can_confirm


def test_district_figure_of_a_town_indicator_is_refused(env):
    p = _preview(env, xlsx([["全区", "2026-10", 100, None, None, None]]))
    assert _messages(p, "error") == ["2|发案数(起)|该指标按镇(街道)填报,全区数由各镇(街道)汇总,不能直接填写"]


def test_user_may_only_import_what_they_may_enter(env):
    p = _preview(env, xlsx([[Q, "2026-10", 1, None, None, None]]), actor="town1")
    assert _messages(p, "error") == ["2|发案数(起)|您无权填报青石镇的发案数"]


def test_one_bad_row_writes_nothing(env, client, auth):
    before = _count(env)
    rows = [[t.name, "2026-10", 5, "1.5", 2, 2] for t in service.towns(env)]
    rows[3][4] = -2
    p = _preview(env, xlsx(rows))
    assert len(p.errors) == 1 and len(p.writes) == 23
    with pytest.raises(ValidationError):
        importing.apply_import(env, get_user(env, "police"), p)
    assert _count(env) == before
    # and through the pages: the preview offers no confirm
    auth.login("police")
    resp = client.post(
        "/metrics/import", data={"file": (io.BytesIO(xlsx(rows)), "bad.xlsx")}, content_type="multipart/form-data"
    )
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "文件有错误,不能导入" in html and "确认导入" not in html
    assert "第5行" in html and "抓获数(人)" in html
    assert _count(env) == before


def test_import_is_one_audit_event_per_month(env):
    before = env.scalar(select(func.count()).select_from(AuditEvent))
    rows = [[t.name, m, 5, "1.5", 2, 2] for t in service.towns(env) for m in ("2026-09", "2026-10")]
    p = _preview(env, xlsx(rows))
    result = importing.apply_import(env, get_user(env, "police"), p, filename="police.xlsx")
    assert (result.inserted, result.updated, result.months) == (48, 0, 2)
    events = env.scalars(select(AuditEvent).where(AuditEvent.id > 0).order_by(AuditEvent.id.desc()).limit(2)).all()
    assert env.scalar(select(func.count()).select_from(AuditEvent)) == before + 2
    assert {e.action for e in events} == {"metrics.import"} and all("police.xlsx" in e.summary for e in events)
    assert service.value(env, "losses", None, Period.parse("2026-Q3")) == Decimal("9.00")


def test_changed_since_preview_fails_as_a_whole(env):
    put(env, "2026-10", {(Q, "cases"): 5})
    p = _preview(env, xlsx([[Q, "2026-10", 6, None, None, None], [L, "2026-10", 7, None, None, None]]))
    put(env, "2026-10", {(Q, "cases"): 9})  # someone else, between preview and confirm
    with pytest.raises(StaleEdit):
        importing.apply_import(env, get_user(env, "police"), p)


def test_reviewer_import_is_a_correction_and_needs_a_reason(env):
    p = _preview(env, xlsx([[Q, "2026-10", 6, None, None, None]]), actor="reviewer")
    assert p.is_correction
    with pytest.raises(ValidationError, match="更正原因"):
        importing.apply_import(env, get_user(env, "reviewer"), p)
    importing.apply_import(env, get_user(env, "reviewer"), p, reason="补录")
    row = env.scalar(select(MetricValue).where(MetricValue.month == "2026-10"))
    assert (row.count, row.source, row.note) == (6, "correction", "补录")


def test_template_download_fill_upload_preview_confirm(env, client, auth):
    put(env, "2026-10", {(Q, "cases"): 5})
    env.commit()
    auth.login("police")
    resp = client.get("/metrics/template?month=2026-10")
    assert resp.status_code == 200 and resp.mimetype.endswith("spreadsheetml.sheet")
    wb = load_workbook(io.BytesIO(resp.data))
    ws = wb["数据"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == ("单位", "月份", "发案数(起)", "损失金额(万元)", "抓获数(人)", "破案数(起)")
    assert [r[0] for r in rows[1:]] == [t.name for t in service.towns(env)]
    assert rows[1][:3] == (Q, "2026-10", 5)  # today's figures are filled in
    assert "说明" in wb.sheetnames
    for i in range(2, ws.max_row + 1):
        ws.cell(i, 3, 10 + i)
        ws.cell(i, 4, Decimal("12.34"))
        ws.cell(i, 5, 3)
        ws.cell(i, 6, 2)
    buf = io.BytesIO()
    wb.save(buf)
    preview = client.post(
        "/metrics/import", data={"file": (io.BytesIO(buf.getvalue()), "十月.xlsx")}, content_type="multipart/form-data"
    )
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "两降两升 › Excel 导入 › 预览" in html
    assert "将覆盖已有数据:5 → 12" in html and "确认导入" in html
    form = dict(re.findall(r'name="(ticket|digest)" type="hidden" value="([^"]+)"', html))
    refused = client.post("/metrics/import/confirm", data=form)  # warnings not acknowledged
    assert refused.status_code == 422 and "勾选确认框" in refused.get_data(as_text=True)
    assert _count(env) == 1
    done = client.post("/metrics/import/confirm", data={**form, "accept_warnings": "y"})
    assert done.status_code == 302
    env.expire_all()
    assert _count(env) == 24
    assert service.value(env, "cases", get_unit(env, Q).id, Period.parse("2026-10")) == 12
    assert service.value(env, "losses", None, Period.parse("2026-10")) == Decimal("74.04")
    # the stored upload is gone: confirming twice does nothing
    again = client.post("/metrics/import/confirm", data={**form, "accept_warnings": "y"})
    assert again.status_code == 302 and _count(env) == 24


def _preview_form(client) -> dict:
    """Upload a file setting 青石镇's October cases to 6; the confirm form's ticket and digest from its preview."""
    html = client.post(
        "/metrics/import",
        data={"file": (io.BytesIO(xlsx([[Q, "2026-10", 6, None, None, None]])), "a.xlsx")},
        content_type="multipart/form-data",
    ).get_data(as_text=True)
    return dict(re.findall(r'name="(ticket|digest)" type="hidden" value="([^"]+)"', html))


def test_confirm_revalidates_and_refuses_a_changed_situation(env, client, auth):
    auth.login("police")
    form = _preview_form(client)
    put(env, "2026-10", {(Q, "cases"): 4}, actor=get_user(env, "police"))
    env.commit()
    resp = client.post("/metrics/import/confirm", data=form)
    assert resp.status_code == 409 and "预览之后数据已发生变化" in resp.get_data(as_text=True)
    assert "将覆盖已有数据:4 → 6" in resp.get_data(as_text=True)
    env.expire_all()
    assert service.value(env, "cases", get_unit(env, Q).id, Period.parse("2026-10")) == 4


def test_a_confirm_meeting_a_constraint_writes_nothing_and_keeps_the_preview(env, client, auth, monkeypatch):
    """A concurrent import wrote the same figures between the check and the commit, so the write meets a unique
    constraint: the confirm is answered as a stale edit (409, the preview again with the stale message), nothing of
    the file is written, and the upload is kept, so confirming again once the other import is done writes it."""
    auth.login("police")
    form = _preview_form(client)
    original = importing.write_months

    def write_then_collide(session, *args, **kwargs):
        original(session, *args, **kwargs)
        session.flush()  # the figure is written in this transaction ...
        raise IntegrityError("INSERT INTO metric_values", {}, Exception("UNIQUE constraint failed"))  # ... then

    # both ways of writing meet it: the confirm in one pass (which then answers as the other) and after the preview
    monkeypatch.setattr(importing, "write_months", write_then_collide)
    monkeypatch.setattr(import_stream, "write_months", write_then_collide)
    resp = client.post("/metrics/import/confirm", data={**form, "accept_warnings": "y"})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 409
    assert "导入时发现数据已被他人修改,本次未写入任何数据,请重新上传核对。" in page and "确认导入" in page
    env.expire_all()
    assert _count(env) == 0
    monkeypatch.setattr(importing, "write_months", original)
    monkeypatch.setattr(import_stream, "write_months", original)
    assert client.post("/metrics/import/confirm", data={**form, "accept_warnings": "y"}).status_code == 302
    env.expire_all()
    assert service.value(env, "cases", get_unit(env, Q).id, Period.parse("2026-10")) == 6


def test_another_users_upload_cannot_be_confirmed(env, seeded):
    a, b = seeded.test_client(), seeded.test_client()
    a.post("/login", data={"username": "police", "password": "demo-2026"})
    b.post("/login", data={"username": "reviewer", "password": "demo-2026"})
    form = _preview_form(a)
    resp = b.post("/metrics/import/confirm", data={**form, "reason": "x"}, follow_redirects=True)
    assert "上传记录无效或已过期" in resp.get_data(as_text=True) and _count(env) == 0
    forged = a.post(
        "/metrics/import/confirm", data={**form, "ticket": form["ticket"][:-2] + "xx"}, follow_redirects=True
    )
    assert "上传记录无效或已过期" in forged.get_data(as_text=True) and _count(env) == 0


def test_export_then_import_changes_nothing(env):
    put(env, "2026-09", {(Q, "cases"): 5, (L, "losses"): "3.25"})
    put(env, "2026-10", {(Q, "cases"): 6})
    data = workbooks.export_file(env, Period.parse("2026-01"), Period.parse("2026-10"))
    sheet = read_sheet(data)
    assert sheet.headers == ["单位", "月份", "发案数(起)", "损失金额(万元)", "抓获数(人)", "破案数(起)"]
    assert [r[1][:2] for r in sheet.rows] == [(Q, "2026-09"), (Q, "2026-10"), (L, "2026-09")]
    p = exchange.build_preview(env, get_user(env, "police"), sheet)
    assert not p.errors and not p.writes


# -- unsafe files ---------------------------------------------------------------------------------


def _zip(parts: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return buf.getvalue()


GOOD_PARTS = {"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>"}


@pytest.mark.parametrize(
    "data, name, message",
    [
        (b"\xd0\xcf\x11\xe0 old excel", "a.xls", "不支持旧版 .xls 格式"),
        (xlsx([]), "a.xlsm", "不接受含宏的工作簿"),
        (b"name,month\n", "a.csv", "请上传 .xlsx 格式"),
        (b"this is not a zip", "a.xlsx", "文件不是有效的 Excel(.xlsx)文件"),
        (b"PK\x03\x04broken", "a.xlsx", "文件已损坏"),
        (_zip({**GOOD_PARTS, "xl/vbaProject.bin": b"\x00" * 10}), "a.xlsx", "文件含有宏"),
        (
            _zip(
                {
                    "[Content_Types].xml": b"application/vnd.ms-excel.sheet.macroEnabled.main+xml",
                    "xl/workbook.xml": b"<workbook/>",
                }
            ),
            "a.xlsx",
            "文件含有宏",
        ),
        (_zip({**GOOD_PARTS, "xl/worksheets/sheet1.xml": b"\x00" * (30 * 1024 * 1024)}), "a.xlsx", "疑似压缩炸弹"),
        (_zip({"word/document.xml": b"<doc/>"}), "a.xlsx", "文件不是有效的 Excel(.xlsx)文件"),
        (b"", "a.xlsx", "上传的文件是空的"),
    ],
)
def test_unsafe_or_wrong_files_are_refused_before_parsing(data, name, message):
    with pytest.raises(ValidationError, match=re.escape(message)):
        check_xlsx(data, name)


def test_size_limits():
    data = xlsx([[Q, "2026-10", 1, 1, 1, 1]])
    check_xlsx(data, "a.xlsx")
    with pytest.raises(ValidationError, match="文件过大"):
        check_xlsx(data, "a.xlsx", Limits(max_bytes=1000))
    with pytest.raises(ValidationError, match="解压后过大"):
        check_xlsx(data, "a.xlsx", Limits(max_uncompressed=1000))
    with pytest.raises(ValidationError, match="数据行过多"):
        read_sheet(xlsx([[Q, "2026-10", 1]] * 5), Limits(max_rows=3))


def test_refused_upload_says_why_on_the_page(env, client, auth):
    auth.login("police")
    resp = client.post(
        "/metrics/import", data={"file": (io.BytesIO(b"MZ\x90\x00"), "virus.xlsx")}, content_type="multipart/form-data"
    )
    assert resp.status_code == 422 and "文件不是有效的 Excel(.xlsx)文件" in resp.get_data(as_text=True)
    none = client.post("/metrics/import", data={}, content_type="multipart/form-data")
    assert none.status_code == 422 and "请选择要上传的 Excel 文件" in none.get_data(as_text=True)


def test_xml_is_parsed_safely():
    from openpyxl.xml import DEFUSEDXML

    assert DEFUSEDXML  # openpyxl hands its XML to defusedxml: no entity expansion, no external entities


def test_preview_page_lists_the_first_thousand_rows_and_counts_them_all(env, client, auth):
    months = [Period.month(2002 + n // 12, n % 12 + 1).code for n in range(296)]  # 2002-01 … 2026-08
    towns = [t.name for t in service.towns(env)][:4]
    data = xlsx([[town, m, 1, 2, 1, 1] for m in months for town in towns])
    auth.login("police")
    upload = {"file": (io.BytesIO(data), "f.xlsx")}
    resp = client.post("/metrics/import", data=upload, content_type="multipart/form-data")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200, re.findall(r"flash[^>]*>([^<]*)", html)
    assert f"{len(towns) * 296} 行数据,将新增 <strong>{len(towns) * 296 * 4}</strong> 项" in html
    assert html.count('<tr class="row-write">') == 1000
    assert f"共 {len(towns) * 296} 行,此处列出前 1000 行" in html
