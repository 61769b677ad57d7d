"""An officer on a phone (390 × 844): the journeys of the demo district's 云岭镇 officer on 10 November 2026, each page
without sideways scrolling and with tap targets of at least 44 × 44 px; tables fold into one block per row, the menu
folds behind a 菜单 button, and the reviewer's month grid scrolls sideways with its task column held in place."""

from __future__ import annotations

from datetime import date

from tracker import db as tdb
from tracker.notify import service as notify

from ..conftest import PASSWORD
from .conftest import NOW, shot, submit

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 900}

# What a finger has to hit: links, buttons and fields of the top bar and the main content. A link inside a sentence
# keeps the line's height (WCAG 2.5.5 excepts it); a checkbox's target is the box and its label. Each miss is
# named with its size.
MEASURE = """() => {
  const root = document.documentElement;
  const sel = "header a[href], header button, main a[href], main button, main input:not([type=hidden]), main select, "
    + "main textarea, main summary";
  const small = [];
  for (const el of document.querySelectorAll(sel)) {
    const style = getComputedStyle(el);
    if (!el.getClientRects().length || style.visibility === "hidden") continue;
    if (el.tagName === "A" && style.display === "inline") {
      let block = el.parentElement;
      while (getComputedStyle(block).display === "inline") block = block.parentElement;
      if (block.textContent.replace(el.textContent, "").trim()) continue;
    }
    let r = el.getBoundingClientRect();
    if ((el.type === "checkbox" || el.type === "radio") && el.labels.length) {
      const l = el.labels[0].getBoundingClientRect();
      const top = Math.min(r.top, l.top), left = Math.min(r.left, l.left);
      r = {width: Math.max(r.right, l.right) - left, height: Math.max(r.bottom, l.bottom) - top};
    }
    if (r.width < 44 || r.height < 44) {
      small.push(el.tagName + " " + (el.textContent || el.name || "").trim().slice(0, 16) + " "
        + Math.round(r.width) + "x" + Math.round(r.height));
    }
  }
  // nothing inside the page scrolls sideways either (a table's box, a long word), but the month grid's own box
  const scrolling = Array.from(document.querySelectorAll("main *")).filter(
    el => el.clientWidth > 1 && el.scrollWidth > el.clientWidth + 1 && !el.closest(".gridwrap")
      && getComputedStyle(el).overflowX !== "visible"
  ).map(el => el.tagName + "." + el.className + " " + (el.scrollWidth - el.clientWidth));
  return {overflow: root.scrollWidth - root.clientWidth, small: small, scrolling: scrolling};
}"""


def _phone(browser, base: str, username: str | None = None):
    ctx = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN")
    page = ctx.new_page()
    page.on("dialog", lambda d: d.accept())
    page.goto(base + "/login")
    if username:
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", PASSWORD)
        submit(page, "button[type=submit]")
    return ctx, page


def _fits(page, name: str, keep: bool = True, matrices: bool = False) -> None:
    """The page fits the phone's width and every control is a 44 px target; keeps a screenshot for the README.
    matrices: the page's figure tables (indicator × month, unit × item) may scroll sideways in their own box."""
    page.wait_for_load_state()
    found = page.evaluate(MEASURE)
    assert found["overflow"] <= 0, f"{name}: {found['overflow']} px wider than the screen"
    scrolling = [s for s in found["scrolling"] if not (matrices and s.startswith("DIV.tablewrap "))]
    assert not scrolling, f"{name}: boxes scrolling sideways: {scrolling}"
    assert not found["small"], f"{name}: tap targets under 44 px: {found['small']}"
    if keep:
        shot(page, name)


def _label(page, selector: str) -> str:
    """The column name a stacked cell shows before its value."""
    return page.eval_on_selector(selector, "td => getComputedStyle(td, '::before').content")


def test_officer_journeys_fit_a_phone(browser, demo_server, app):
    base = demo_server
    with app.app_context():  # the day's reminders, as the worker's daily run makes them: the bell has something
        notify.run_day(tdb.session, date(*NOW[:3]), app.config)
        tdb.session.commit()
    ctx, page = _phone(browser, base)
    _fits(page, "phone-login")
    page.fill("input[name=username]", "town3")
    page.fill("input[name=password]", PASSWORD)
    submit(page, "button[type=submit]")

    # 工作台: the to-do tables are one block per row, each value after its column's name
    assert page.url.endswith("/progress/todo")
    _fits(page, "phone-todo")
    cell = "#main table.data tbody tr:first-child td[data-label='任务']"
    assert page.eval_on_selector(cell, "td => getComputedStyle(td).display") == "block"
    assert _label(page, cell) == '"任务"'
    header = page.locator("#main table.data thead").first.bounding_box()
    assert header["height"] <= 1  # the header row is left to screen readers
    # every row's block lies within the screen: 390 px less the page's margins
    boxes = page.eval_on_selector_all(
        "#main table.data tbody tr", "rows => rows.map(r => r.getBoundingClientRect().right)"
    )
    assert boxes and max(boxes) <= 390

    # the menu folds behind 菜单; opened, its links are rows of 44 px; Escape closes it and the focus goes back
    toggle = page.locator("button.menu-toggle")
    assert toggle.get_attribute("aria-expanded") == "false"
    assert not page.locator("nav.sidenav").is_visible()
    assert not page.locator("header .account").is_visible()
    toggle.click()
    assert toggle.get_attribute("aria-expanded") == "true"
    links = page.locator("nav.sidenav a")
    assert links.count() == 9  # the officer's menu: 工作台 … 宣传台账, 联席会议, 督办事项
    assert all(links.nth(i).bounding_box()["height"] >= 44 for i in range(9))
    _fits(page, "phone-menu")
    page.keyboard.press("Escape")
    assert toggle.get_attribute("aria-expanded") == "false"
    assert page.evaluate("() => document.activeElement.classList.contains('menu-toggle')")
    assert not page.locator("nav.sidenav").is_visible()

    # the monthly report returned for 任务二: edit it and save the draft
    page.click("#main td[data-label=''] a:text('修改')")
    assert "任务二" in page.locator("h1").inner_text()
    _fits(page, "phone-report-form")
    page.fill("textarea[name=completion]", "补充数据:本月开展联合办案培训2场,参训人员46人")
    page.click("button[value=save]")
    assert page.locator("textarea[name=completion]").input_value() == "补充数据:本月开展联合办案培训2场,参训人员46人"
    _fits(page, "phone-report-saved", keep=False)

    # a report already accepted reads as text
    page.goto(base + "/progress/todo")
    page.click("#main tr:has(td[data-label='任务']:text('(一)')) a:text('查看')")
    assert page.locator("form.report-form").count() == 0
    _fits(page, "phone-report", keep=False)

    # the yellow card, its rectification plan waiting for review
    page.goto(base + "/progress/todo")
    page.click("#main a:text('报送整改材料')")
    assert "整改方案 待审核" in page.locator("ol.history").inner_text()
    _fits(page, "phone-card", keep=False)

    # the unit page, from the card
    page.click("dd a:text('云岭镇')")
    assert "单位 › 云岭镇" in page.locator("h1").inner_text()
    _fits(page, "phone-unit")

    # a decision of the joint meeting and its feedback
    page.goto(base + "/progress/todo")
    page.click("#main a:text('反馈')")
    _fits(page, "phone-decision")
    page.fill("textarea[name=feedback]", "已对返乡务工人员开展宣讲3场,发放资料600份。")
    page.click("button:text('提交反馈')")
    assert "已对返乡务工人员开展宣讲3场" in page.locator("ol.history").inner_text()
    _fits(page, "phone-decision-answered", keep=False)

    # the bell in the top bar, without opening the menu, counts the unread notifications; the centre lists them
    unread = int(page.locator("header a.bell .badge").inner_text())
    assert unread >= 1
    page.click("header a.bell")
    assert "通知中心" in page.locator("h1").inner_text()
    _fits(page, "phone-notifications")
    assert page.locator("#main table.notifications tbody tr.unread").count() == unread
    assert _label(page, "#main table.notifications tbody tr:first-child td[data-label='通知']") == '"通知"'
    page.locator("#main tr.unread button:text('打开并标为已读')").first.click()
    page.wait_for_load_state()
    assert page.locator("header a.bell").get_attribute("aria-label") == f"通知(未读 {unread - 1})"

    # the other pages of the officer's menu; the figure tables of 两降两升 and 考评 scroll in their own box
    pages = ("/progress/reports", "/meetings/decisions", "/cards/", "/plan", "/metrics/", "/assessment/")
    for path in pages + ("/publicity/activities", "/publicity/stats", "/publicity/creations"):
        page.goto(base + path)
        _fits(
            page,
            "phone" + path.rstrip("/").replace("/", "-"),
            keep=False,
            matrices=path in ("/metrics/", "/assessment/"),
        )
    ctx.close()

    # 柳溪镇's yellow card, its plan accepted: the officer sends the month's rectification report
    ctx, page = _phone(browser, base, "town2")
    page.click("#main a:text('报送整改材料')")
    page.fill("textarea[name=text]", "十月整改报告:已完成重点村居入户宣传12场,覆盖1,380户。")
    page.click("button:text('报送整改报告')")
    assert "十月整改报告:已完成重点村居入户宣传12场" in page.locator("ol.history").inner_text()
    _fits(page, "phone-card-rectified")
    ctx.close()


def test_reviewers_grid_scrolls_sideways_with_the_task_column_held(browser, demo_server):
    ctx, page = _phone(browser, demo_server, "reviewer")
    page.goto(demo_server + "/progress/grid")
    assert page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0
    wrap = page.locator(".gridwrap")
    # 16 unit columns of at least 44 px are 704 px, over 300 px wider than the 390 px screen: the grid's box scrolls
    assert wrap.evaluate("w => w.scrollWidth > w.clientWidth + 300")
    before = page.locator("table.grid tbody th.task").first.bounding_box()
    wrap.evaluate("w => { w.scrollLeft = w.scrollWidth; }")
    after = page.locator("table.grid tbody th.task").first.bounding_box()
    assert wrap.evaluate("w => w.scrollLeft") > 300
    assert abs(after["x"] - before["x"]) < 1  # the task column stayed where it was
    # the last unit's column is now on screen, right of the task column
    last = page.locator("table.grid thead th.unit").last.bounding_box()
    assert after["x"] + after["width"] <= last["x"] and last["x"] + last["width"] <= 390
    # a grid cell is a 44 px target too
    cell = page.locator("table.grid td.cell a").first.bounding_box()
    assert cell["height"] >= 44 and cell["width"] >= 44
    wrap.evaluate("w => { w.scrollLeft = 0; }")
    shot(page, "phone-grid")
    ctx.close()


def test_desktop_keeps_its_side_menu_and_tables(browser, demo_server):
    ctx = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    page = ctx.new_page()
    page.goto(demo_server + "/login")
    page.fill("input[name=username]", "town3")
    page.fill("input[name=password]", PASSWORD)
    submit(page, "button[type=submit]")
    assert not page.locator("button.menu-toggle").is_visible()
    assert page.locator("nav.sidenav").is_visible() and page.locator("header .account").is_visible()
    nav = page.locator("nav.sidenav").bounding_box()
    assert nav["width"] == 150 and nav["x"] == 0  # the side column of 150 px
    # the to-do table keeps its header row and one line per row
    assert page.locator("#main table.data thead").first.bounding_box()["height"] > 20
    cell = "#main table.data tbody tr:first-child td[data-label='任务']"
    assert page.eval_on_selector(cell, "td => getComputedStyle(td).display") == "table-cell"
    assert page.eval_on_selector(cell, "td => getComputedStyle(td, '::before').content") == "none"
    ctx.close()


def test_without_script_the_phone_menu_stays_open(browser, demo_server):
    ctx = browser.new_context(viewport=PHONE, is_mobile=True, java_script_enabled=False, locale="zh-CN")
    page = ctx.new_page()
    page.goto(demo_server + "/login")
    page.fill("input[name=username]", "town3")
    page.fill("input[name=password]", PASSWORD)
    submit(page, "button[type=submit]")
    # no button that could not open anything; the menu's 9 links and the account line show as rows of 44 px
    assert not page.locator("button.menu-toggle").is_visible()
    assert page.locator("header .account").is_visible()
    links = page.locator("nav.sidenav a")
    assert [links.nth(i).is_visible() for i in range(links.count())] == [True] * 9
    assert min(links.nth(i).bounding_box()["height"] for i in range(8)) >= 44
    assert page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0
    ctx.close()
