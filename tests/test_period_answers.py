"""One period in the URL, one answer: every page reads it through periods.period_arg, so a bad value gets the same
Chinese message everywhere (flashed over the page's default on lists, the reason on the error page where the period is
the page's address)."""

from __future__ import annotations

import pytest

from .conftest import get_unit

UNREADABLE = "无法识别的期间“九月”,应为 2026-10、2026-Q3、2026 或 2026-YTD-10"


def flashed(html: str, message: str) -> bool:
    return f'<div class="flash flash-error" role="alert" tabindex="-1">{message}</div>' in html


@pytest.fixture
def reviewer(seeded, frozen, client, auth):
    frozen(2026, 11, 10, 9)
    auth.login("reviewer")
    return client


@pytest.mark.parametrize(
    "url, message",
    [
        ("/metrics/?period=九月", UNREADABLE),
        ("/assessment/?period=九月", UNREADABLE),
        ("/publicity/stats?period=九月", UNREADABLE),
        ("/progress/grid?period=九月", UNREADABLE),
        # the meeting lists filter by month, quarter or year: the same message names only those (before, it named
        # 2026-YTD-10 too, which the list then refused)
        ("/meetings/?period=九月", "无法识别的期间“九月”,应为 2026-10、2026-Q3 或 2026"),
        ("/meetings/decisions?due=九月", "无法识别的期间“九月”,应为 2026-10、2026-Q3 或 2026"),
        # the register's month filter: a month only (before, silently ignored)
        ("/publicity/activities?month=九月", "无法识别的期间“九月”,应为 2026-10"),
    ],
)
def test_an_unreadable_period_gets_one_message_on_every_page(reviewer, url, message):
    resp = reviewer.get(url)
    assert resp.status_code == 200 and flashed(resp.get_data(as_text=True), message)


def test_the_meeting_lists_name_a_kind_they_do_not_filter_by_and_drop_it(reviewer):
    message = "期间应为月份、季度或年份(如 2026-10、2026-Q3 或 2026),收到“2026-YTD-10”"
    for url in ("/meetings/?period=2026-YTD-10", "/meetings/decisions?due=2026-YTD-10"):
        html = reviewer.get(url).get_data(as_text=True)
        assert flashed(html, message), url
    html = reviewer.get("/meetings/?period=2026-YTD-10").get_data(as_text=True)
    assert 'name="period" value=""' in html and "清除筛选" not in html  # no filter applied
    # a good one is applied as written in its code: 2026-q3 is 2026-Q3
    html = reviewer.get("/meetings/?period=2026-q3").get_data(as_text=True)
    assert 'name="period" value="2026-Q3"' in html and "清除筛选" in html and "flash-error" not in html


def test_a_bad_period_of_the_briefing_is_refused_saying_why(reviewer):
    """Before, the 400 page said only 请求无效; it now gives the reason every page gives."""
    resp = reviewer.get("/reports/briefing?period=九月")
    assert resp.status_code == 400 and f"400 · {UNREADABLE}" in resp.get_data(as_text=True)


def test_a_report_page_is_a_months_and_any_other_segment_is_404_saying_why(reviewer, session):
    town = get_unit(session, "青石镇")
    base = f"/progress/tasks/3/units/{town.id}"
    assert reviewer.get(f"{base}/2026-10").status_code == 200
    for segment, message in (
        ("九月", "无法识别的期间“九月”,应为 2026-10"),
        # before, a quarter opened a report page whose save was then refused (报告期间须为月份)
        ("2026-Q3", "期间应为月份(如 2026-10),收到“2026-Q3”"),
        ("2026-13", "月份应为1至12,收到 13"),
    ):
        resp = reviewer.get(f"{base}/{segment}")
        assert resp.status_code == 404 and f"404 · {message}" in resp.get_data(as_text=True), segment


def test_a_scorecard_for_a_month_is_refused_saying_it_is_made_per_quarter(reviewer, session):
    town = get_unit(session, "青石镇")
    resp = reviewer.get(f"/reports/scorecard?unit={town.id}&period=2026-10")
    assert resp.status_code == 400
    assert "400 · 记分卡按季度生成,请选择季度(如 2026-Q3)" in resp.get_data(as_text=True)


def test_a_page_that_needs_the_plan_says_none_is_loaded(app):
    """Before a plan is loaded, a page built on it answers 404 with the reason and where to load one."""
    from werkzeug.exceptions import HTTPException

    from tracker.plans.current import current_plan

    with app.test_request_context("/progress/grid"):
        with pytest.raises(HTTPException) as raised:
            current_plan()
    resp = raised.value.get_response()
    assert resp.status_code == 404
    assert "尚未载入实施方案,请管理员先在“导入方案”中载入方案" in resp.get_data(as_text=True)
