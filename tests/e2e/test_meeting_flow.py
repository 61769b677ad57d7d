"""In a real browser: the office schedules a joint meeting, marks it held and records its decisions; the lead town
answers one; the office closes it (销号); the next meeting's agenda follows both decisions up."""

from __future__ import annotations

from .conftest import shot, submit


def _schedule(page, live_server, *, title, on, period, units=(), pick=None):
    page.goto(f"{live_server}/meetings/new")
    page.fill("input[name=title]", title)
    page.fill("input[name=date]", on)
    page.fill("input[name=period]", period)
    page.fill("input[name=convener]", "区委政法委书记")
    if pick:
        page.click(f"fieldset button:has-text('{pick}')")
    for name in units:
        page.locator("fieldset").get_by_label(name, exact=True).check()
    page.fill("input[name=location]", "区委第一会议室")
    submit(page, "button:has-text('安排会议')")
    assert title in page.inner_text("h1"), page.inner_text("main")[:600]
    return page.url


def _decide(page, text, lead, deadline):
    page.click("a:has-text('录入议定事项')")
    page.fill("textarea[name=text]", text)
    page.select_option("select[name=lead_unit]", label=lead)
    page.fill("input[name=deadline]", deadline)
    submit(page, "button[value=done]")
    assert text in page.content()


def test_hold_a_meeting_follow_up_its_decisions_and_see_them_on_the_next_agenda(page_for, live_server, frozen):
    frozen(2026, 11, 10, 9)
    office = page_for("reviewer")

    # 1. the third-quarter meeting: scheduled, held, two decisions recorded
    first = _schedule(
        office,
        live_server,
        title="第三季度打击治理电信网络诈骗联席会议",
        on="2026-10-20",
        period="2026-Q3",
        units=["青石镇", "柳溪镇", "公安分局"],
    )
    submit(office, "button:has-text('标记已召开')")  # the confirmation dialog is accepted
    assert "确认召开" in office.inner_text("main")
    _decide(office, "青石镇在辖区村(社区)开展老年人反诈入户宣传全覆盖", "青石镇", "2026-11-30")
    office.goto(first)
    _decide(office, "柳溪镇建立涉诈高风险人员劝阻回访台账", "柳溪镇", "2026-12-31")

    # 2. the lead town answers its item
    town = page_for("town1")
    town.goto(f"{live_server}/meetings/decisions")
    town.locator("tr", has_text="老年人反诈入户宣传").locator("a:has-text('反馈')").click()
    town.fill("textarea[name=feedback]", "已完成12个村(社区)入户宣传,覆盖老年人2,300人,附宣传台账。")
    submit(town, "button:has-text('提交反馈')")
    assert "待审核" in town.inner_text("main") or "已反馈" in town.inner_text("main")

    # 3. the office closes it, on time
    office.goto(first)
    office.locator("tr", has_text="老年人反诈入户宣传").locator("a:has-text('审核')").click()
    office.fill("textarea[name=comment]", "材料齐全,同意销号")
    submit(office, "button[value=close]")
    main = office.inner_text("main")
    assert "按期办结" in main, main[:600]

    # 4. the next meeting's agenda follows up the third-quarter meeting's decisions where they stand
    # every town and street in one click, and the police bureau by hand
    office.goto(f"{live_server}/meetings/new")
    office.click("fieldset button:has-text('全选部门')")
    units = office.locator("fieldset")
    assert units.get_by_label("公安分局", exact=True).is_checked()
    assert units.get_by_label("法院", exact=True).is_checked()
    assert not units.get_by_label("青石镇", exact=True).is_checked()
    office.click("fieldset button:has-text('清空')")
    assert office.locator("fieldset input:checked").count() == 0
    _schedule(
        office,
        live_server,
        title="十月份工作调度会",
        on="2026-11-20",
        period="2026-10",
        pick="全选镇(街道)",
        units=["公安分局"],
    )
    assert "公安分局、青石镇、柳溪镇、云岭镇、白沙镇、东湖街道、南山街道(7个)" in office.inner_text("main")
    agenda = office.inner_text("section.agenda")
    assert "前期议定事项落实情况(2项)" in agenda
    assert "前次会议“第三季度打击治理电信网络诈骗联席会议”(2026年10月20日)的全部议定事项" in agenda
    assert "老年人反诈入户宣传" in agenda and "劝阻回访台账" in agenda
    office.goto(first)
    shot(office, "meeting")
