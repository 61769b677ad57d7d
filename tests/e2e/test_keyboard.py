"""Keyboard only, in a real browser: an officer writes a report and submits it (a refused submission first), a
reviewer returns it, sorts a ranking table and issues a card. No mouse anywhere; at every step the focused element
shows a focus ring (an outline or a box shadow, as computed by the browser)."""

from __future__ import annotations

from ..conftest import PASSWORD, get_unit

FOCUSED = """() => {
  const e = document.activeElement, s = getComputedStyle(e);
  return {tag: e.tagName, text: (e.innerText || '').trim().slice(0, 60), href: e.getAttribute('href') || '',
          name: e.getAttribute('name') || '', value: e.value === undefined ? '' : String(e.value), id: e.id,
          cls: typeof e.className === 'string' ? e.className : '', checked: !!e.checked,
          ring: (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2) || s.boxShadow !== 'none'};
}"""


def focused(page) -> dict:
    f = page.evaluate(FOCUSED)
    assert f["tag"] not in ("BODY", "HTML"), "the focus fell back to the page"
    assert f["ring"], f"no visible focus on {f}"
    return f


def tab_to(page, match, limit: int = 150) -> tuple[dict, int]:
    """Press Tab until the focused element matches; every element passed on the way shows its focus ring. Past the
    page's last element the focus leaves the page once (to the browser) before it starts again at the top."""
    wrapped = False
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        if not wrapped and page.evaluate("document.activeElement === document.body"):
            wrapped = True
            continue
        f = focused(page)
        if match(f):
            return f, presses
    raise AssertionError(f"not reached with {limit} Tab presses")


def follow(page, name: str = "Enter") -> None:
    """Press a key that opens a page (a link, a submit button) and wait for that page."""
    with page.expect_navigation():
        page.keyboard.press(name)


def login(browser, live_server, username: str):
    ctx = browser.new_context(viewport={"width": 1366, "height": 860}, locale="zh-CN")
    page = ctx.new_page()
    page.on("dialog", lambda d: d.accept())  # the confirmation of 报送, 退回, 发牌
    page.goto(live_server + "/login")
    # the login form starts in its first field (autofocus is applied after the load event, at the next frame)
    page.wait_for_function("document.activeElement && document.activeElement.name === 'username'", timeout=5000)
    assert focused(page)["name"] == "username"
    page.keyboard.type(username)
    tab_to(page, lambda f: f["name"] == "password")
    page.keyboard.type(PASSWORD)
    follow(page)
    return ctx, page


def skip_to_main(page) -> None:
    """The first Tab of a page reaches the skip link; Enter puts the focus on the main content."""
    f, presses = tab_to(page, lambda f: True)
    assert (presses, f["text"]) == (1, "跳到主要内容")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


def test_report_review_sort_and_card_by_keyboard_alone(browser, live_server, session, frozen):
    frozen(2026, 11, 10, 9)
    town = get_unit(session, "青石镇")
    session.commit()
    report_path = f"/progress/tasks/3/units/{town.id}/2026-11"

    # 1. the officer: from the to-do list to the report of 任务三 in a few presses, not dozens
    ctx, officer = login(browser, live_server, "town1")
    assert "青石镇待办" in officer.inner_text("h1")
    skip_to_main(officer)
    _, presses = tab_to(officer, lambda f: f["href"].endswith(report_path))
    assert presses == 4, presses  # 查看 (the earlier months 逾期未报), then the links of 任务一, 任务二, 任务三
    follow(officer)
    tab_to(officer, lambda f: f["name"] == "progress")
    officer.keyboard.type("张贴防骗海报120张,覆盖图书馆、食堂和教学楼")

    # Enter on a measure's checkbox ticks it and submits nothing
    box, _ = tab_to(officer, lambda f: f["name"] == "measures")
    assert not box["checked"]
    officer.keyboard.press("Enter")
    assert focused(officer)["checked"] is True
    assert officer.url.endswith(report_path) and officer.locator(".flash").count() == 0

    # 报送 without 完成情况: refused; the focus lands on the error summary, which names the field and links to it
    tab_to(officer, lambda f: f["tag"] == "BUTTON" and f["value"] == "submit")
    follow(officer)
    summary = focused(officer)
    assert "error-summary" in summary["cls"]
    assert officer.get_attribute(".error-summary", "role") == "alert"
    assert "完成情况:报送前必须填写" in officer.inner_text(".error-summary")
    completion = officer.locator("#completion")
    assert completion.get_attribute("aria-invalid") == "true"
    assert officer.inner_text("#" + completion.get_attribute("aria-describedby")) == "报送前必须填写"
    # nothing typed is lost
    assert officer.input_value("#progress") == "张贴防骗海报120张,覆盖图书馆、食堂和教学楼"
    assert officer.locator("input[name=measures]").first.is_checked()
    tab_to(officer, lambda f: f["href"] == "#completion")
    officer.keyboard.press("Enter")
    assert focused(officer)["id"] == "completion"
    officer.keyboard.type("完成本月宣传计划的80%")
    tab_to(officer, lambda f: f["tag"] == "BUTTON" and f["value"] == "submit")
    follow(officer)
    assert "已报送,等待审核" in officer.inner_text("main")
    ctx.close()

    # 2. the reviewer returns it, from 待我处理 on the home page, which lists the submitted report first
    ctx, reviewer = login(browser, live_server, "reviewer")
    skip_to_main(reviewer)
    cell, _ = tab_to(reviewer, lambda f: f["href"].endswith(report_path))
    assert cell["text"] == "青石镇 任务三 2026年11月"
    follow(reviewer)
    tab_to(reviewer, lambda f: f["name"] == "comment")
    reviewer.keyboard.type("请补充讲座场次和听众人数")
    tab_to(reviewer, lambda f: f["tag"] == "BUTTON" and f["value"] == "return")
    follow(reviewer)
    assert "已退回,单位将收到退回意见" in reviewer.inner_text("main")

    # 3. the menu to 考评; the towns' ranking sorted by name, both ways, by the header's button
    _, presses = tab_to(reviewer, lambda f: f["text"] == "考评" and f["tag"] == "A")
    follow(reviewer)
    assert reviewer.get_attribute("nav a[aria-current=page]", "href") == "/assessment/"
    towns = reviewer.locator("section", has_text="镇(街道)排名").locator("table")
    tab_to(reviewer, lambda f: f["tag"] == "BUTTON" and f["text"].startswith("单位"))
    reviewer.keyboard.press("Enter")
    header = towns.locator("th", has=reviewer.locator("button", has_text="单位"))
    assert header.get_attribute("aria-sort") == "ascending"
    # by pinyin: bai, dong, liu, nan, qing, yun
    names = ["白沙镇", "东湖街道", "柳溪镇", "南山街道", "青石镇", "云岭镇"]
    assert towns.locator("tbody tr td:nth-child(2)").all_inner_texts() == names
    reviewer.keyboard.press("Enter")
    assert header.get_attribute("aria-sort") == "descending"
    assert towns.locator("tbody tr td:nth-child(2)").all_inner_texts() == names[::-1]
    assert focused(reviewer)["text"].startswith("单位")

    # 4. a yellow card for 柳溪镇 from the card board's own form
    tab_to(reviewer, lambda f: f["text"] == "红黄牌" and f["tag"] == "A")
    follow(reviewer)
    tab_to(reviewer, lambda f: f["tag"] == "SUMMARY" and "审核员直接发牌" in f["text"])
    reviewer.keyboard.press("Enter")  # opens the form
    tab_to(reviewer, lambda f: f["name"] == "unit_id")
    for _ in range(20):
        if reviewer.evaluate("document.activeElement.selectedOptions[0].text") == "柳溪镇":
            break
        reviewer.keyboard.press("ArrowDown")
    tab_to(reviewer, lambda f: f["name"] == "reason")
    reviewer.keyboard.type("反诈宣传进社区工作推进缓慢")
    tab_to(reviewer, lambda f: f["tag"] == "BUTTON" and f["text"] == "发牌")
    follow(reviewer)
    assert "已向柳溪镇发出黄牌" in reviewer.inner_text("main")
    ctx.close()
