"""Every list in Excel: each page and its 导出Excel file, fetched with the same filters, hold the same rows; the files
have Chinese headers in a frozen first row, dates as dates, numbers as numbers and formula-like text as text; an
officer's file is limited like the officer's page; every export is audited; the export CLI writes the same files and
refuses a bad period with exit code 2.

The district is the demo as `flask --app tracker seed --demo` loads it on 3 December 2026 (reports of August to
November, the demo's meetings, decisions and cards).
"""

from __future__ import annotations

import io
import os
import re
from datetime import date, datetime
from html.parser import HTMLParser

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from tests.conftest import PASSWORD, PG_URL, TEST_AUDIT_KEY, get_unit
from tests.demo_district import app_for_tests
from tracker import clock
from tracker import db as tdb
from tracker.audit.models import AuditEvent


@pytest.fixture(scope="module")
def district(tmp_path_factory, demo_districts):
    """The demo district, copied once for the module (seeded once per run): the tests only read it, apart from the
    audit events their exports add, which they count by actor and action."""
    instance = tmp_path_factory.mktemp("exports-instance")
    saved = {k: os.environ.get(k) for k in ("TRACKER_INSTANCE_PATH", "TRACKER_AUDIT_KEY")}
    os.environ["TRACKER_INSTANCE_PATH"] = str(instance)
    os.environ["TRACKER_AUDIT_KEY"] = TEST_AUDIT_KEY
    if PG_URL:
        url = PG_URL
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('exports') / 'demo.db'}"
    demo_districts.copy_to(url, str(instance / "audit_anchors"), (2026, 12, 3, 9))
    clock.freeze(datetime(2026, 12, 3, 9, tzinfo=clock.CHINA_TZ))
    app = app_for_tests(url)
    yield app
    clock.freeze(None)
    app.extensions["tracker.engine"].dispose()
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture
def session(district):
    with district.app_context():
        yield tdb.session
        tdb.session.rollback()


def login(district, username: str):
    client = district.test_client()
    assert client.post("/login", data={"username": username, "password": PASSWORD}).status_code == 302
    return client


class Tables(HTMLParser):
    """The text of every cell of every <table> of a page: tables[i] is a list of rows, a row a list of cell texts
    (whitespace collapsed)."""

    def __init__(self, html: str):
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self._cell: list[str] | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self.tables[-1].append([])
        elif tag in ("td", "th") and self.tables:
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append(re.sub(r"\s+", " ", "".join(self._cell)).strip())
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def page_tables(client, url: str) -> list[list[list[str]]]:
    resp = client.get(url)
    assert resp.status_code == 200, url
    return Tables(resp.get_data(as_text=True)).tables


def body_rows(table: list[list[str]]) -> list[list[str]]:
    """A table's rows below its header, without the "nothing here" row an empty table shows."""
    return [r for r in table[1:] if len(r) > 1]


def xlsx(client, url: str):
    resp = client.get(url)
    assert resp.status_code == 200, (url, resp.status_code)
    assert resp.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return load_workbook(io.BytesIO(resp.data))


def sheet_rows(ws) -> tuple[list, list[list]]:
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    return rows[0], rows[1:]


def exports_audited(session, name: str, actor: str) -> list[AuditEvent]:
    session.expire_all()
    q = select(AuditEvent).where(AuditEvent.action == f"export.{name}", AuditEvent.actor_name == actor)
    return list(session.scalars(q.order_by(AuditEvent.id)))


# -- the report list ----------------------------------------------------------------------------------------------


def test_report_list_export_has_the_pages_rows(district, session):
    client = login(district, "reviewer")
    url = "?period=2026-10&status=accepted"
    page = body_rows(page_tables(client, "/progress/reports" + url)[0])
    wb = xlsx(client, "/exports/reports.xlsx" + url)
    ws = wb.worksheets[0]
    assert ws.freeze_panes == "A2"
    headers, rows = sheet_rows(ws)
    assert headers == ["月份", "任务编号", "任务", "单位", "状态", "迟报", "报送时间"]
    assert len(page) > 0 and len(rows) == len(page)
    # the page: 月份 (2026年10月), 任务 (短名 + 标题), 单位, 状态 (+迟报), 报送时间, 查看
    for p, x in zip(page, rows, strict=True):
        assert x[0] == "2026-10" and p[0] == "2026年10月"
        assert p[1] == f"{x[1]} {x[2]}" and p[2] == x[3]
        assert p[3] == x[4] + ("迟报" if x[5] else "")
        assert x[4] == "已通过"
        # submitted at: a real date and time, China time as the page shows it (年月日 时:分)
        assert isinstance(x[6], datetime)
        assert p[4] == f"{x[6].year}年{x[6].month}月{x[6].day}日 {x[6]:%H:%M}"
    event = exports_audited(session, "reports", "reviewer")[-1]
    assert event.after == {"list": "reports", "filters": {"period": "2026-10", "status": "accepted"}, "rows": len(page)}
    assert event.actor_name == "reviewer"


def test_an_officers_report_export_is_its_own_units_like_its_page(district, session):
    client = login(district, "town1")
    page = body_rows(page_tables(client, "/progress/reports?period=2026-11")[0])
    headers, rows = sheet_rows(xlsx(client, "/exports/reports.xlsx?period=2026-11").worksheets[0])
    assert len(rows) == len(page) > 0
    assert {r[3] for r in rows} == {"青石镇"}
    # a period typed into the URL that names no month: the page lists nothing, and so does the file, whose name
    # keeps only letters, digits and hyphens
    assert body_rows(page_tables(client, '/progress/reports?period=九月"x')[0]) == []
    resp = client.get('/exports/reports.xlsx?period=九月"x')
    assert resp.headers["Content-Disposition"].startswith('attachment; filename="reports-x.xlsx"')
    assert sheet_rows(load_workbook(io.BytesIO(resp.data)).worksheets[0])[1] == []
    # another unit named in the URL is refused as the page refuses it
    other = get_unit(session, "柳溪镇")
    assert client.get(f"/progress/reports?unit={other.id}").status_code == 403
    assert client.get(f"/exports/reports.xlsx?unit={other.id}").status_code == 403


def cn_date(v) -> str:
    return f"{v.year}年{v.month}月{v.day}日"


# -- the grid of a month ------------------------------------------------------------------------------------------


def test_grid_export_is_the_months_grid(district, session):
    client = login(district, "reviewer")
    page = page_tables(client, "/progress/grid?period=2026-10")[0]
    wb = xlsx(client, "/exports/grid.xlsx?period=2026-10")
    assert wb.sheetnames == ["2026年10月填报情况", "2026年10月各状态数量"]
    ws = wb.worksheets[0]
    assert ws.freeze_panes == "A2"
    headers, rows = sheet_rows(ws)
    # the page's header row: the corner, then every unit; the export: 任务编号, 任务, then the same units
    assert headers[:2] == ["任务编号", "任务"] and headers[2:] == page[0][1:]
    # the six tasks, then the 逾期未报 row: as many rows as the page's body and foot
    assert len(rows) == len(page) - 1 == 7
    for p, x in zip(page[1:-1], rows[:-1], strict=True):
        assert p[0] == x[0]
        for shown, written in zip(p[1:], x[2:], strict=True):
            # the page writes 已通过 with a 牵 (lead) and 催 (urged) mark; the file says (牵头、迟报、已催办N次)
            assert (shown.replace("牵", "").replace("催", "") or None) == (written.split("(")[0] if written else None)
            assert ("牵" in shown) == ("牵头" in (written or ""))
    # the last row: each unit's 逾期未报 of the month, as numbers
    assert rows[-1][0] == "逾期未报" and page[-1][1:] == [str(n) for n in rows[-1][2:]]
    assert all(isinstance(n, int) for n in rows[-1][2:])
    # the counts per state: the numbers above the page's grid
    _h, counts = sheet_rows(wb.worksheets[1])
    assert sum(n for _s, n in counts) == sum(1 for r in rows[:-1] for v in r[2:] if v)


def test_an_officer_gets_no_grid_like_the_page(district):
    client = login(district, "town1")
    assert client.get("/progress/grid?period=2026-10").status_code == 403
    assert client.get("/exports/grid.xlsx?period=2026-10").status_code == 403


# -- decisions and meetings ---------------------------------------------------------------------------------------


def _record_formula_decision(session):
    """A decision whose text starts like a formula, led by 青石镇, due 20 December 2026."""
    from tracker.auth.models import User
    from tracker.meetings import service
    from tracker.meetings.models import Decision, Meeting

    if session.scalar(select(Decision.id).where(Decision.text.startswith("=1+1"))):
        return
    meeting = session.scalars(select(Meeting).where(Meeting.status == "held").order_by(Meeting.date.desc())).first()
    reviewer = session.scalar(select(User).where(User.username == "reviewer"))
    service.record_decision(
        session,
        reviewer,
        meeting.id,
        text="=1+1 核查涉诈电话卡",
        lead_unit_id=get_unit(session, "青石镇").id,
        supporting_unit_ids=[get_unit(session, "公安分局").id],
        deadline=date(2026, 12, 20),
    )
    session.commit()


def test_decisions_export_has_the_pages_rows_and_keeps_formula_text_as_text(district, session):
    _record_formula_decision(session)
    client = login(district, "reviewer")
    page = body_rows(page_tables(client, "/meetings/decisions?status=all")[0])
    wb = xlsx(client, "/exports/decisions.xlsx?status=all")
    ws = wb.worksheets[0]
    assert ws.freeze_panes == "A2"
    headers, rows = sheet_rows(ws)
    assert headers[:8] == ["会议日期", "会议", "序号", "议定事项", "牵头单位", "配合单位", "办结期限", "状态"]
    assert len(rows) == len(page) > 1
    for p, x in zip(page, rows, strict=True):
        # page: 议定事项 (cut at 80 characters), 会议 (date and number), 牵头单位, 配合单位, 办结期限, 状态
        assert p[0].rstrip("…") == x[3][: len(p[0].rstrip("…"))]
        assert p[1] == f"{cn_date(x[0])}会议 第{x[2]}项"
        assert isinstance(x[0], datetime) and isinstance(x[6], datetime) and isinstance(x[2], int)
        assert (p[2], p[4]) == (x[4], cn_date(x[6]))
    formula = next(r for r in rows if r[3].startswith("=1+1"))
    # read back as the text typed, not a formula (openpyxl would give "=1+1 …" as a formula's text too: check the
    # cell's type) and due 20 December 2026
    cell = next(c for c in ws["D"] if c.value == formula[3])
    assert cell.data_type == "s" and cell.quotePrefix
    assert formula[6] == datetime(2026, 12, 20) and formula[4] == "青石镇" and formula[5] == "公安分局"


def test_an_officers_decisions_export_is_its_units_like_its_page(district, session):
    _record_formula_decision(session)
    client = login(district, "town2")
    page = body_rows(page_tables(client, "/meetings/decisions")[0])  # default filter: 待办
    _h, rows = sheet_rows(xlsx(client, "/exports/decisions.xlsx").worksheets[0])
    assert len(rows) == len(page)
    # 青石镇's item is not 柳溪镇's to see, on the page or in the file
    assert not any(r[3].startswith("=1+1") for r in rows)
    assert all("柳溪镇" in (r[4] + (r[5] or "")) for r in rows)
    _h, mine = sheet_rows(xlsx(login(district, "town1"), "/exports/decisions.xlsx?status=all").worksheets[0])
    assert any(r[3].startswith("=1+1") for r in mine)


def test_meetings_export_lists_both_tables_of_the_page(district, session):
    client = login(district, "reviewer")
    tables = page_tables(client, "/meetings/?period=2026")
    page = body_rows(tables[0]) + body_rows(tables[1])
    headers, rows = sheet_rows(xlsx(client, "/exports/meetings.xlsx?period=2026").worksheets[0])
    assert headers[:4] == ["会议日期", "会议名称", "研究期间", "召集人"]
    assert len(rows) == len(page) > 0
    for p, x in zip(page, rows, strict=True):
        assert (p[0], p[1], p[2], p[3]) == (cn_date(x[0]), x[1], x[2], x[3])
        assert p[4] == f"{x[4]}个单位" and isinstance(x[4], int)
    held = [r for r in rows if r[7] == "已召开"]
    assert held and all(isinstance(r[8], int) for r in held)
    # an officer sees the meetings its unit attends or has items of, no more
    officer = login(district, "town6")
    o_tables = page_tables(officer, "/meetings/?period=2026")
    o_page = body_rows(o_tables[0]) + body_rows(o_tables[1])
    _h, o_rows = sheet_rows(xlsx(officer, "/exports/meetings.xlsx?period=2026").worksheets[0])
    assert len(o_rows) == len(o_page)


# -- scores -------------------------------------------------------------------------------------------------------


def test_scores_export_is_the_ranking_with_breakdowns(district, session):
    client = login(district, "reviewer")
    tables = page_tables(client, "/assessment/?period=2026-Q4")
    wb = xlsx(client, "/exports/scores.xlsx?period=2026-Q4")
    assert wb.sheetnames == ["镇(街道)排名", "部门排名", "2026年第四季度得分明细"]
    breakdown_headers, breakdown = sheet_rows(wb.worksheets[2])
    assert breakdown_headers == ["分组", "单位", "考评项目", "计分方法", "满分", "适用", "得分", "依据", "说明"]
    for table, ws in zip(tables[:2], wb.worksheets[:2], strict=True):
        assert ws.freeze_panes == "A2"
        headers, rows = sheet_rows(ws)
        page = body_rows(table)
        assert headers[:4] == ["名次", "单位", "总分", "适用满分"] and headers[-1] == "扣分/加分"
        assert len(rows) == len(page) > 0
        for p, x in zip(page, rows, strict=True):
            # page: 名次, 单位, "72.50 分", 适用满分, item points …, 扣分/加分 ("+0.00" style or —)
            assert (p[0], p[1]) == (str(x[0]), x[1])
            assert isinstance(x[2], (int, float)) and p[2] == f"{x[2]:.2f} 分"
            assert p[3] == f"{x[3]:.2f}"
            for shown, written in zip(p[4:-1], x[4:-1], strict=True):
                assert shown == (written if isinstance(written, str) else f"{written:.2f}")
            assert p[-1] == ("—" if x[-1] is None else f"{x[-1]:+.2f}")
            # every unit's items are in the breakdown, as many as the table's item columns
            assert sum(1 for b in breakdown if b[1] == x[1] and b[4] is not None) == len(headers) - 5
    # 办公室 on 3 December: 100 × 66.67 ÷ 70 = 95.24 (lead 50 × 2/2 = 50, member 20 × 5/6 = 16.67; decisions and
    # cards not applicable), ranked 2nd of the departments, its decision and card items 不适用 in the breakdown
    _h, departments = sheet_rows(wb.worksheets[1])
    office = next(r for r in departments if r[1] == "办公室")
    assert (office[0], office[2], office[3]) == (2, 95.24, 70.0)
    office_items = {b[2]: b for b in breakdown if b[1] == "办公室" and b[4] is not None}
    assert sum(1 for b in office_items.values() if b[6] == "不适用" and b[5] == "否") == 2
    assert sum(b[6] for b in office_items.values() if not isinstance(b[6], str)) == pytest.approx(66.67)


def test_an_officers_scores_export_has_its_own_score_and_no_rank_before_publication(district, session):
    client = login(district, "town1")
    tables = page_tables(client, "/assessment/?period=2026-Q4")
    wb = xlsx(client, "/exports/scores.xlsx?period=2026-Q4")
    # not published: the officer's page shows only its own row, no 名次 column; so does the file
    assert wb.sheetnames == ["镇(街道)得分", "部门得分", "2026年第四季度得分明细"]
    headers, rows = sheet_rows(wb.worksheets[0])
    assert "名次" not in headers and [r[0] for r in rows] == ["青石镇"]
    assert [r[0] for r in body_rows(tables[0])] == ["青石镇"]
    assert sheet_rows(wb.worksheets[1])[1] == []
    _h, breakdown = sheet_rows(wb.worksheets[2])
    assert {b[1] for b in breakdown} == {"青石镇"}
    # a rank-based item reads 考评结果发布后公布, as on the page
    assert all("名次" not in (b[7] or "") and "第" not in (b[7] or "")[:2] for b in breakdown)
    assert any("考评结果发布后公布" in (b[7] or "") for b in breakdown) or not any(
        b[3] == "按指标排名计分" for b in breakdown
    )


# -- cards --------------------------------------------------------------------------------------------------------


def test_cards_export_lists_the_boards_cards_and_their_rectification(district, session):
    from tracker.assessment.models import Card, Rectification

    client = login(district, "reviewer")
    tables = page_tables(client, "/cards/")
    # the board's last two tables: cards in force, then the history
    page = body_rows(tables[-2]) + body_rows(tables[-1])
    wb = xlsx(client, "/exports/cards.xlsx")
    assert wb.sheetnames == ["红黄牌", "整改材料"]
    headers, rows = sheet_rows(wb.worksheets[0])
    assert headers[:10] == [
        "编号",
        "牌色",
        "单位",
        "规则",
        "所属期间",
        "理由",
        "发牌时间",
        "整改方案期限",
        "整改期限",
        "状态",
    ]
    assert len(rows) == len(page) == session.scalar(select(func.count()).select_from(Card)) > 0
    for p, x in zip(page, rows, strict=True):
        # page: #编号, 牌色, 单位, 规则, 发牌日, 整改期限, 状态 (with 整改报告逾期N份)
        assert (p[0], p[1], p[2], p[3]) == (f"#{x[0]}", x[1], x[2], x[3])
        assert isinstance(x[6], datetime) and p[4] == cn_date(x[6])
        assert isinstance(x[8], datetime) and p[5] == cn_date(x[8])
        assert p[6].startswith(x[9])
    _h, material = sheet_rows(wb.worksheets[1])
    assert len(material) == session.scalar(select(func.count()).select_from(Rectification))
    assert all(isinstance(m[0], int) and isinstance(m[3], datetime) for m in material)
    # an officer's board and file: its own unit's cards only
    officer = login(district, "town1")
    o_tables = page_tables(officer, "/cards/")
    o_page = body_rows(o_tables[-2]) + body_rows(o_tables[-1])
    _h, o_rows = sheet_rows(xlsx(officer, "/exports/cards.xlsx").worksheets[0])
    assert len(o_rows) == len(o_page) and {r[2] for r in o_rows} <= {"青石镇"}


# -- the audit log ------------------------------------------------------------------------------------------------


def test_audit_export_holds_the_filtered_log_and_records_itself(district, session):
    client = login(district, "admin")
    page = body_rows(page_tables(client, "/audit?action=report.")[0])
    wb = xlsx(client, "/exports/audit.xlsx?action=report.")
    headers, rows = sheet_rows(wb.worksheets[0])
    assert headers == ["序号", "时间", "操作人", "操作", "对象", "摘要", "修改前", "修改后"]
    total = session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action.startswith("report.")))
    # the page shows the newest 100 (then 下一页); the file every matching event, the page's first
    assert total > 100 and len(page) == 100 and len(rows) == total
    for p, x in zip(page, rows[:100], strict=True):
        assert (p[1], p[2]) == (x[2], x[3]) and isinstance(x[1], datetime)
    event = exports_audited(session, "audit", "admin")[-1]
    assert event.after == {"list": "audit", "filters": {"action": "report."}, "rows": total}
    # an officer may read neither
    officer = login(district, "town1")
    assert officer.get("/audit").status_code == 403 and officer.get("/exports/audit.xlsx").status_code == 403


def test_every_export_is_audited(district, session):
    client = login(district, "reviewer")
    for name in ("reports", "grid", "decisions", "scores", "cards", "meetings", "audit"):
        before = len(exports_audited(session, name, "reviewer"))
        xlsx(client, f"/exports/{name}.xlsx")
        assert len(exports_audited(session, name, "reviewer")) == before + 1, name


# -- the command line ---------------------------------------------------------------------------------------------


def test_cli_writes_the_same_rows_as_the_reviewers_files(district, session, tmp_path):
    runner = district.test_cli_runner()
    client = login(district, "reviewer")

    out = tmp_path / "reports.xlsx"
    result = runner.invoke(args=["export", "reports", "--period", "2026-11", "-o", str(out)])
    assert result.exit_code == 0, result.output
    _h, rows = sheet_rows(load_workbook(out).worksheets[0])
    _h, web = sheet_rows(xlsx(client, "/exports/reports.xlsx?period=2026-11").worksheets[0])
    assert rows == web and len(rows) > 0
    assert f"wrote {len(rows)} row(s)" in result.output

    # a quarter of the monthly grid: one grid and one count sheet per month, October to December
    out = tmp_path / "grid.xlsx"
    assert runner.invoke(args=["export", "grid", "--period", "2026-Q4", "-o", str(out)]).exit_code == 0
    wb = load_workbook(out)
    assert wb.sheetnames[::2] == ["2026年10月填报情况", "2026年11月填报情况", "2026年12月填报情况"]
    assert all(ws.freeze_panes == "A2" for ws in wb.worksheets)
    _h, october = sheet_rows(wb.worksheets[0])
    _h, web = sheet_rows(xlsx(client, "/exports/grid.xlsx?period=2026-10").worksheets[0])
    assert october == web

    # scores: a month stands for its quarter; the system actor sees every unit and the ranks, like the reviewer
    out = tmp_path / "scores.xlsx"
    assert runner.invoke(args=["export", "scores", "--period", "2026-11", "-o", str(out)]).exit_code == 0
    cli_wb, web_wb = load_workbook(out), xlsx(client, "/exports/scores.xlsx?period=2026-Q4")
    assert cli_wb.sheetnames == web_wb.sheetnames
    for a, b in zip(cli_wb.worksheets, web_wb.worksheets, strict=True):
        assert sheet_rows(a) == sheet_rows(b)

    for name in ("decisions", "cards", "meetings"):
        out = tmp_path / f"{name}.xlsx"
        result = runner.invoke(args=["export", name, "--period", "2026", "-o", str(out)])
        assert result.exit_code == 0, result.output
        assert load_workbook(out).worksheets[0].freeze_panes == "A2"
    out = tmp_path / "audit.xlsx"
    assert runner.invoke(args=["export", "audit", "--action", "export.", "-o", str(out)]).exit_code == 0
    _h, events = sheet_rows(load_workbook(out).worksheets[0])
    # the CLI's own exports above are in the log, by the system actor
    assert sum(1 for e in events if e[2] == "system" and e[3].startswith("export.")) >= 6
    assert exports_audited(session, "scores", "system")[-1].after == {
        "list": "scores",
        "filters": {"period": "2026-Q4"},
        "rows": len(sheet_rows(web_wb.worksheets[0])[1]) + len(sheet_rows(web_wb.worksheets[1])[1]),
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["reports", "--period", "2026-13"], "月份应为1至12,收到 13"),
        (["decisions", "--period", "九月"], "无法识别的期间“九月”"),
        (["grid", "--period", "2026"], "此列表只接受月份 2026-09、季度 2026-Q3"),
        (["scores", "--period", "Q3"], "not a period"),
        (["cards", "--period", "2026-YTD-10"], "this list takes month, quarter, year"),
        (["reports", "--unit", "不存在镇"], "没有名为“不存在镇”的单位"),
    ],
)
def test_cli_refuses_bad_input_with_exit_code_2_and_writes_nothing(district, tmp_path, args, message):
    out = tmp_path / "x.xlsx"
    result = district.test_cli_runner().invoke(args=["export", *args, "-o", str(out)])
    assert result.exit_code == 2
    assert message in result.output
    assert not out.exists()


# -- the 导出Excel buttons ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("page", "export"),
    [
        ("/progress/reports?period=2026-10&status=accepted", "/exports/reports.xlsx?period=2026-10&status=accepted"),
        ("/progress/grid?period=2026-09", "/exports/grid.xlsx?period=2026-09"),
        ("/meetings/decisions?status=overdue&due=2026-Q4", "/exports/decisions.xlsx?status=overdue&due=2026-Q4"),
        ("/meetings/?period=2026-Q3", "/exports/meetings.xlsx?period=2026-Q3"),
        ("/assessment/?period=2026-Q3", "/exports/scores.xlsx?period=2026-Q3"),
        ("/cards/", "/exports/cards.xlsx"),
        ("/audit?action=report.&page=2", "/exports/audit.xlsx?action=report."),
    ],
)
def test_each_list_has_an_export_button_carrying_its_filters(district, page, export):
    client = login(district, "reviewer")
    html = client.get(page).get_data(as_text=True)
    (href,) = re.findall(r'<a class="button export" href="([^"]+)">导出Excel</a>', html)
    path, _, query = href.replace("&amp;", "&").partition("?")
    want_path, _, want_query = export.partition("?")
    assert path.removeprefix("http://localhost") == want_path
    assert sorted(query.split("&")) == sorted(want_query.split("&")) if want_query else not query
    assert xlsx(client, href.replace("&amp;", "&")).worksheets[0].freeze_panes == "A2"


# -- the workbook writer ------------------------------------------------------------------------------------------


def test_workbook_keeps_types_and_writes_formula_like_text_as_text():
    from datetime import UTC
    from decimal import Decimal

    from tracker.xlsx import Sheet, workbook

    row = [
        '=HYPERLINK("http://x","y")',
        "+86 138",
        "-整改",
        "@SUM(A1)",
        date(2026, 9, 30),
        datetime(2026, 9, 30, 16, 30, tzinfo=UTC),  # 00:30 on 1 October in China
        Decimal("72.50"),
        -3,
        None,
        True,
    ]
    headers = ["公式", "加号", "减号", "at", "日期", "时间", "得分", "扣分", "空", "是否"]
    wb = load_workbook(io.BytesIO(workbook([Sheet("测试[1]", headers, [row])])))
    ws = wb.worksheets[0]
    assert ws.title == "测试_1_" and ws.freeze_panes == "A2"
    values = [c.value for c in ws[2]]
    assert values[:4] == row[:4]
    assert all(c.data_type == "s" and c.quotePrefix for c in ws[2][:4])
    assert values[4] == datetime(2026, 9, 30) and ws["E2"].number_format == "yyyy-mm-dd"
    assert values[5] == datetime(2026, 10, 1, 0, 30) and ws["F2"].number_format == "yyyy-mm-dd hh:mm"
    assert values[6] == 72.5 and ws["G2"].number_format == "0.00"
    assert values[7] == -3 and ws["H2"].data_type == "n"
    assert values[8] is None and values[9] == "是"
    # widths: the contents' display width + 2, a CJK character counting two, at least 6:
    # '=HYPERLINK("http://x","y")' is 26 characters -> 28; 日期 10 -> 12; 时间 16 -> 18; "是" 2 and "是否" 4 -> 6
    widths = {k: v.width for k, v in ws.column_dimensions.items()}
    assert (widths["A"], widths["E"], widths["F"], widths["J"]) == (28, 12, 18, 6)


def test_an_officers_decisions_button_drops_the_unit_filter_the_page_drops(district, session):
    client = login(district, "town1")
    other = get_unit(session, "柳溪镇")
    html = client.get(f"/meetings/decisions?unit={other.id}&status=all").get_data(as_text=True)
    (href,) = re.findall(r'<a class="button export" href="([^"]+)">导出Excel</a>', html)
    assert f"unit={other.id}" not in href and "status=all" in href


def test_cli_status_filters_take_the_states_the_pages_take(district, tmp_path):
    """Every state the report list and the decision list filter by (?status=draft, ?status=overdue) is the one the
    command line takes, written the same way (before, the stored states were offered as DRAFT, OPEN … and
    `--status draft` was refused)."""
    from tracker.meetings import service as meetings_service
    from tracker.progress import service as progress_service

    runner = district.test_cli_runner()
    for command, states in (
        ("reports", progress_service.LIST_STATES),
        ("decisions", meetings_service.FILTERS),
    ):
        help_text = runner.invoke(args=["export", command, "--help"]).output
        for state in states:
            assert str(state) in help_text and str(state).upper() not in help_text, (command, state)
            out = tmp_path / f"{command}-{state}.xlsx"
            result = runner.invoke(args=["export", command, "--status", str(state), "-o", str(out)])
            assert result.exit_code == 0, (command, state, result.output)
            assert out.exists()


def test_the_export_group_help_imports_no_model_service_or_spreadsheet_writer(tmp_path):
    """`export --help` lists the lists from the command module alone: the services, models and openpyxl are imported
    by the command that runs (before, its --status choices imported the progress and meetings models)."""
    from tests.test_startup import MODELS, _imported

    services = ("tracker.progress.service", "tracker.meetings.service", "tracker.exports.lists", "sqlalchemy.orm")
    imported, out = _imported(tmp_path, "export", "--help", modules=(*MODELS, *services, "openpyxl"))
    assert "reports" in out and "decisions" in out and "audit" in out
    assert imported == []
