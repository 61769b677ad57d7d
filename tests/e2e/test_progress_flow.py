"""In a real browser: write, submit, return, fix, resubmit, accept — and the grid cell turns green."""

from __future__ import annotations

from tracker import clock

from ..conftest import get_unit
from .conftest import shot, submit


def test_report_round_trip_turns_the_cell_green(page_for, live_server, session, frozen):
    frozen(2026, 11, 10, 9)
    town = get_unit(session, "青石镇")
    period = f"{clock.today():%Y-%m}"
    session.commit()  # end the test's transaction: the server must not wait for it
    url = f"{live_server}/progress/tasks/3/units/{town.id}/{period}"

    officer = page_for("town1")
    assert "青石镇待办" in officer.content()
    shot(officer, "todo-officer")
    officer.goto(url)
    officer.fill("textarea[name=progress]", "张贴防骗海报120张,覆盖图书馆、食堂和教学楼")
    officer.fill("textarea[name=completion]", "完成本月宣传计划的80%")
    submit(officer, "button[value=submit]")
    assert "已报送,等待审核" in officer.content()

    reviewer = page_for("reviewer")
    reviewer.goto(url)
    reviewer.fill("textarea[name=comment]", "请补充讲座场次和听众人数")
    submit(reviewer, "button[value=return]")
    assert "已退回" in reviewer.content()

    officer.goto(f"{live_server}/progress/todo")
    assert "请补充讲座场次和听众人数" in officer.content()
    officer.goto(url)
    officer.fill("textarea[name=completion]", "完成本月宣传计划;开展讲座2场,听众230人")
    submit(officer, "button[value=submit]")
    assert "已报送,等待审核" in officer.content()

    reviewer.goto(url)
    shot(reviewer, "report-review")
    submit(reviewer, "button[value=accept]")
    assert "已审核通过" in reviewer.content()
    reviewer.goto(f"{live_server}/progress/grid?period={period}")
    cell = reviewer.locator(f"td.cell a[href$='/progress/tasks/3/units/{town.id}/{period}']")
    assert cell.inner_text().startswith("已通过")
    assert "state-accepted" in cell.locator("xpath=..").get_attribute("class")
    shot(reviewer, "grid-reviewer")
    reviewer.goto(f"{live_server}/plan")
    shot(reviewer, "plan")
