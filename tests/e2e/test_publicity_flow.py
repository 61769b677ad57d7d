"""In a real browser: an officer on a phone (390 × 844) records a publicity activity; the reviewer finds it in the
list, and the quarter's statistics count it."""

from __future__ import annotations

from ..conftest import get_unit
from ..evidence_files import photo
from .conftest import shot, submit


def _phone(browser, live_server, username: str):
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True, has_touch=True)
    page = ctx.new_page()
    page.goto(live_server + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "demo-2026")
    submit(page, "button[type=submit]")
    return ctx, page


def _no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_officer_records_an_activity_on_a_phone(browser, page_for, live_server, session, frozen):
    frozen(2026, 9, 20, 9)
    town = get_unit(session, "青石镇")
    session.commit()
    ctx, phone = _phone(browser, live_server, "town1")
    try:
        phone.goto(f"{live_server}/publicity/communities")
        phone.fill("textarea[name=names]", "青石村\n石桥村\n新街社区")
        submit(phone, "form.activity-form button[type=submit]")
        assert "村(社区)名单已保存" in phone.content()
        phone.goto(f"{live_server}/publicity/activities/new")
        _no_sideways_scroll(phone)
        phone.fill("input[name=held_on]", "2026-09-18")
        phone.fill("input[name=community]", "青石村")
        phone.fill("input[name=place]", "青石村村委会广场")
        phone.select_option("select[name=target_id]", label="农村")
        phone.select_option("select[name=form_id]", label="发放资料")
        phone.get_by_label("刷单返利").check()
        phone.get_by_label("冒充公检法").check()
        phone.fill("input[name=audience]", "180")
        phone.fill("input[name=materials]", "360")
        phone.fill("input[name=apps]", "45")
        # every control of the form can be tapped: at least 44 px tall
        heights = phone.eval_on_selector_all(
            ".activity-form input:not([type=hidden]):not([type=checkbox]), .activity-form select, "
            ".activity-form button",
            "els => els.map(e => e.getBoundingClientRect().height)",
        )
        assert heights and min(heights) >= 44
        # two photos: one taken with the camera, one chosen from the album
        phone.locator("input[type=file][capture=environment]").set_input_files(
            files=[{"name": "IMG_0918.jpg", "mimeType": "image/jpeg", "buffer": photo(60, 40)}]
        )
        phone.locator("input[type=file][multiple]").set_input_files(
            files=[{"name": "宣传现场.jpg", "mimeType": "image/jpeg", "buffer": photo(80, 60, "blue", None)}]
        )
        shot(phone, "activity-phone-form")
        submit(phone, "form.activity-form button.primary")
        assert "宣传活动已登记" in phone.content()
        # the activity's page shows both photos as thumbnails
        assert "活动照片与材料(2)" in phone.content()
        assert phone.locator(".evidence-list img").count() == 2
        _no_sideways_scroll(phone)
        phone.goto(f"{live_server}/publicity/activities")
        _no_sideways_scroll(phone)
        # the table stacks: each cell shows its column's name
        label = phone.locator("td[data-label=覆盖人数]").first
        assert label.inner_text().strip() == "180"
        shot(phone, "activity-phone-list")
    finally:
        ctx.close()

    reviewer = page_for("reviewer")
    reviewer.goto(f"{live_server}/publicity/activities?unit={town.id}")
    assert "青石村村委会广场" in reviewer.content() and "共 1 场,覆盖 180 人次" in reviewer.content()
    assert reviewer.locator("td[data-label=照片与材料]").first.inner_text().strip() == "2"
    submit(reviewer, "text=2026年9月18日")
    assert reviewer.locator(".evidence-list img").count() == 2  # the reviewer sees both photos
    shot(reviewer, "activity-photos-review")
    reviewer.goto(f"{live_server}/publicity/stats?period=2026-Q3")
    content = reviewer.content()
    assert "开展宣传活动 <strong>1</strong> 场,覆盖 <strong>180</strong> 人次" in content
    assert "青石镇(登记村(社区)3个)未覆盖:石桥村、新街社区" in content
    shot(reviewer, "publicity-stats")
