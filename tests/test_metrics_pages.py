"""The 两降两升 pages and charts: titles, escaping, no inline styles or scripts, arrows and sorting hooks."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import date
from decimal import Decimal
from types import SimpleNamespace

import pytest
from markupsafe import Markup, escape

from tracker.metrics import cells
from tracker.metrics.charts import Bar, Series, bar_chart, nice_max, trend_chart
from tracker.metrics.comparisons import Comparison
from tracker.metrics.demo import load as load_demo_figures
from tracker.templating import html_text

from .conftest import get_unit, get_user
from .metrics_util import NOW

SVG = "{http://www.w3.org/2000/svg}"


def _svg(markup) -> ET.Element:
    return ET.fromstring(str(markup))


def test_trend_chart_is_well_formed_escaped_svg_with_gaps():
    m = trend_chart(
        "<script>alert(1)</script>走势",
        ["1月", "2月", "3月", "4月"],
        [Series("去年", [1, 2, 3, 4], dashed=True), Series("今年&", [2, None, Decimal("3.5"), 5])],
        "起",
    )
    root = _svg(m)
    assert root.tag == f"{SVG}svg" and "<script>" not in str(m) and "&lt;script&gt;" in str(m)
    assert "style=" not in str(m)
    paths = [p.get("d") for p in root.iter(f"{SVG}path")]
    assert len(paths) == 2 and paths[1].count("M") == 2  # the missing month breaks the line
    assert len(list(root.iter(f"{SVG}circle"))) == 7


def test_empty_charts_say_so():
    assert "暂无数据" in str(trend_chart("t", ["1月"], [Series("a", [None])]))
    assert "暂无数据" in str(bar_chart("t", [Bar("青石镇", None)]))


def test_bar_chart_has_a_bar_per_town_with_last_year_beneath():
    m = bar_chart("各镇", [Bar("青石镇", 12, 20, "good"), Bar("柳溪<镇>", 30, 10, "bad"), Bar("云岭镇", None, 5)], "起")
    root = _svg(m)
    rects = [r for r in root.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]
    assert len(rects) == 5 and "柳溪&lt;镇&gt;" in str(m) and "style=" not in str(m)
    widths = [Decimal(r.get("width")) for r in rects]
    assert widths[2] == max(widths)  # 30 is the longest bar


@pytest.mark.parametrize(
    "value",
    [
        "",
        "青石镇",
        "a&b<c>\"d'e&amp;",
        7,
        -3,
        Decimal("1.50"),
        2.5,
        None,
        True,
        Markup("<b>&amp;</b>"),
        Markup("x&lt;"),
    ],
)
def test_html_text_is_the_text_of_escape(value):
    assert type(html_text(value)) is str and html_text(value) == str(escape(value))


def test_cells_escape_what_they_are_given_and_keep_the_cells_they_nest():
    ind = SimpleNamespace(name="<b>发案", unit_label="起&<", decimals=1, small_base=10, code="cases")
    worse = Comparison(Decimal("12.5"), Decimal("3"), Decimal("9.5"), None, Decimal("-1"), "abs", False, "down")
    assert str(cells.num(worse.value, ind)) == '12.5<span class="unit">起&amp;&lt;</span>'
    assert str(cells.yoy(worse, ind)) == (
        '<span class="chg bad" title="去年同期基数小于10,按差值比较">+9.5起&amp;&lt;'
        '<span class="judge bad">未向好</span></span>'
    )
    assert str(cells.mom(worse, ind)) == "-1.0起&amp;&lt;"
    arrow = '<span class="arrow bad" title="&lt;b&gt;发案同比未向好">↑</span><span class="judge bad">未向好</span>'
    assert str(cells.arrow(worse, ind)) == arrow
    assert str(cells.verdict("incomplete", {"cases": worse}, [ind])) == (
        '<span class="verdict incomplete" title="有指标缺本期或去年同期数据,暂不能判断">数据不全</span>\n'
        '<span class="arrows"><span class="visually-hidden">四项指标:</span>'
        f'<span class="arrowitem">&lt;b{arrow}</span></span>'
    )
    better = Comparison(Decimal(40), Decimal(80), Decimal(-40), Decimal("-50.0"), None, "pct", True, "down")
    assert str(cells.yoy(better, ind, word=False)) == '<span class="chg good">-50.0%</span>'


def test_town_rows_write_each_town_in_ranking_order_escaped():
    ind = SimpleNamespace(name="发案数", unit_label="起", decimals=0, small_base=10, code="cases")
    worse = Comparison(30, 20, 10, Decimal("50.0"), None, "pct", False, "down")
    unknown = Comparison(None, None, None, None, None, None, None, "down")

    def town(rank, uid, name, c):
        unit = SimpleNamespace(id=uid, name=name, sort_order=uid)
        return SimpleNamespace(rank=rank, unit=unit, comparisons={"cases": c}, improved_count=0, verdict="unmet")

    units = [town(2, 7, "柳溪镇", unknown), town(1, 3, "<b>青石镇</b>", worse)]
    s = SimpleNamespace(town_indicators=[ind], core=[ind], ranked=lambda: sorted(units, key=lambda u: u.rank))
    html = str(cells.town_rows(s, lambda uid: f"/metrics/units/{uid}?period=2026-Q3&x=1"))
    rows = html.split("  </tr>\n")
    assert len(rows) == 3 and rows[2] == "" and "<b>" not in html
    assert rows[0] == (
        '  <tr>\n    <td class="num" data-value="1">1</td>\n'
        '    <td><a href="/metrics/units/3?period=2026-Q3&amp;x=1">&lt;b&gt;青石镇&lt;/b&gt;</a></td>\n'
        f'    <td data-value="0">{cells.verdict("unmet", {"cases": worse}, [ind])}</td>\n'
        '    <td class="num" data-value="30">30<span class="unit">起</span></td>\n'
        f'    <td class="num" data-value="50.0">{cells.yoy(worse, ind)}</td>\n'
    )
    assert '<td class="num" data-value=""><span class="muted">—</span></td>' in rows[1]


@pytest.mark.parametrize(
    "value, whole, top",
    [
        ("0", False, "4"),
        ("7", True, "8"),
        ("9.5", True, "12"),
        ("48", True, "60"),
        ("1178", False, "1200"),
        ("0.4", False, "0.4"),
    ],
)
def test_axis_tops_are_round(value, whole, top):
    assert nice_max(Decimal(value), whole) == Decimal(top)


@pytest.fixture
def demo(seeded, session, frozen):
    frozen(*NOW)
    load_demo_figures(session, get_user(session, "police"), date(*NOW[:3]))
    session.commit()
    return session


def _check_page(html: str, title: str) -> None:
    assert f"<title>{title}" in html
    assert not re.search(r"\sstyle=", html), "inline style attribute"
    assert not re.search(r"<script(?![^>]*\bsrc=)", html), "inline script"


def test_overview_page(demo, client, auth):
    auth.login("reviewer")
    resp = client.get("/metrics/?period=2026-Q3")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    _check_page(html, "两降两升 · 2026年第三季度")
    assert html.count("<svg") == 8  # four district trends, four town bar charts
    assert 'class="data sortable metrics-table"' in html and 'data-value="' in html
    assert "达成" in html and "未达成" in html and 'class="arrow good"' in html and 'class="arrow bad"' in html
    assert '<span class="unit">起</span>' in html and '<span class="unit">万元</span>' in html


def test_town_page_and_rankings(demo, client, auth):
    auth.login("town1")
    town = get_unit(demo, "青石镇")
    html = client.get(f"/metrics/units/{town.id}?period=2026-YTD-11").get_data(as_text=True)
    _check_page(html, "两降两升 · 青石镇 · 2026年1—11月")
    assert "综合排名" in html and "2026年11月" in html
    html = client.get("/metrics/rankings?period=2026-10").get_data(as_text=True)
    _check_page(html, "两降两升排名 · 2026年10月")
    assert "发案数(越低越好)" in html and "抓获数(越高越好)" in html
    assert client.get(f"/metrics/units/{get_unit(demo, '公安分局').id}").status_code == 404


def test_entry_import_and_admin_pages_have_titles(demo, client, auth):
    auth.login("police")
    _check_page(client.get("/metrics/entry?month=2026-10").get_data(as_text=True), "两降两升 · 数据填报 · 2026年10月")
    _check_page(client.get("/metrics/import").get_data(as_text=True), "两降两升 · Excel 导入")
    auth.logout()
    auth.login("admin")
    _check_page(client.get("/metrics/indicators").get_data(as_text=True), "系统管理 · 两降两升指标")


def test_bad_period_falls_back_with_a_message(demo, client, auth):
    auth.login("reviewer")
    html = client.get("/metrics/?period=2026-Q5").get_data(as_text=True)
    assert "无法识别的期间" in html and "两降两升 › 2026年11月" in html


def test_navigation_has_the_area_and_an_empty_district_shows_the_last_month(seeded, client, auth, frozen):
    frozen(*NOW)
    auth.login("town2")
    html = client.get("/metrics/").get_data(as_text=True)
    assert '<a href="/metrics/" class="active" aria-current="page">两降两升</a>' in html
    assert "两降两升 › 2026年10月" in html and "暂无数据" in html
