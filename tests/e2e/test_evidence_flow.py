"""In a real browser: an officer on a phone attaches a photo to a report and submits it; the reviewer sees the
photo's thumbnail beside the report, and opening it shows the upright, EXIF-free image."""

from __future__ import annotations

import io

from PIL import Image

from tracker import clock

from ..conftest import get_unit
from ..evidence_files import PDF_WITH_JS, photo
from .conftest import shot, submit


def test_officer_attaches_a_photo_on_a_phone_and_the_reviewer_sees_it(browser, page_for, live_server, session, frozen):
    frozen(2026, 11, 10, 9)
    town = get_unit(session, "青石镇")
    period = f"{clock.today():%Y-%m}"
    session.commit()  # end the test's transaction: the server must not wait for it
    url = f"{live_server}/progress/tasks/3/units/{town.id}/{period}"

    officer = page_for("town1")
    officer.set_viewport_size({"width": 390, "height": 844})
    officer.goto(url)
    camera = officer.locator("input[type=file][capture=environment]")
    assert camera.get_attribute("accept") == "image/*"
    officer.fill("textarea[name=progress]", "在青石镇中心小学开展防诈骗主题班会,发放资料300份")
    officer.fill("textarea[name=completion]", "完成本月进校园宣传")
    # the photo as the phone's camera gives it: 60×40 pixels stored turned (EXIF orientation 6), with GPS
    camera.set_input_files(files=[{"name": "IMG_2031.jpg", "mimeType": "image/jpeg", "buffer": photo(60, 40)}])
    officer.locator("input[type=file][multiple]").set_input_files(
        files=[{"name": "活动通知.pdf", "mimeType": "application/pdf", "buffer": PDF_WITH_JS}]
    )
    submit(officer, "button[value=save]")
    assert "草稿已保存" in officer.content()
    thumb = officer.locator("img[alt='照片:IMG_2031.jpg']")
    thumb.wait_for()
    # the thumbnail is the upright photo: 40 wide, 60 high
    assert officer.evaluate("i => [i.naturalWidth, i.naturalHeight]", thumb.element_handle()) == [40, 60]
    box = officer.locator("section.evidence").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390  # the attachment list fits the phone's width
    shot(officer, "evidence-report-phone")
    submit(officer, "button[value=submit]")
    assert "已报送,等待审核" in officer.content()

    reviewer = page_for("reviewer")
    reviewer.goto(url)
    aside = reviewer.locator(".report-with-evidence aside")
    listed = aside.inner_text()
    assert "佐证材料(2)" in listed and "活动通知.pdf" in listed and "2026年11月10日 09:00" in listed
    img = aside.locator("img[alt='照片:IMG_2031.jpg']")
    img.wait_for()
    assert reviewer.evaluate("i => i.complete && i.naturalWidth", img.element_handle()) == 40
    # the report's text and the attachments stand side by side on a desktop screen
    text_box = reviewer.locator(".report-with-evidence > section").bounding_box()
    aside_box = aside.bounding_box()
    assert aside_box["x"] >= text_box["x"] + text_box["width"] and abs(aside_box["y"] - text_box["y"]) < 2
    shot(reviewer, "evidence-review")
    href = aside.locator("a", has_text="IMG_2031.jpg").get_attribute("href")
    resp = reviewer.request.get(live_server + href)
    served = Image.open(io.BytesIO(resp.body()))
    assert served.size == (40, 60) and served.getexif().get_ifd(0x8825) == {}
    pdf_href = aside.locator("a", has_text="活动通知.pdf").get_attribute("href")
    resp = reviewer.request.get(live_server + pdf_href)
    assert resp.headers["content-disposition"].startswith("attachment;")


def test_rectification_plan_and_feedback_with_photos_on_a_phone(browser, page_for, live_server, session, frozen):
    from datetime import date

    from tracker.assessment import cards
    from tracker.meetings import service as meetings

    from ..conftest import get_user

    frozen(2026, 11, 10, 9)
    town = get_unit(session, "青石镇")
    reviewer_user = get_user(session, "reviewer")
    card = cards.issue_card(
        session, reviewer_user, unit_id=town.id, colour="yellow", reason="宣传工作滞后", period="2026-Q3"
    )
    m = meetings.schedule_meeting(
        session,
        reviewer_user,
        title="第三季度联席会议",
        meeting_date=date(2026, 11, 5),
        convener="区委政法委书记",
        unit_ids=[town.id],
        period="2026-Q3",
    )
    d = meetings.record_decision(
        session, reviewer_user, m.id, text="开展入户宣传", lead_unit_id=town.id, deadline=date(2026, 11, 30)
    )
    session.commit()

    officer = page_for("town1")
    officer.set_viewport_size({"width": 390, "height": 844})
    officer.goto(f"{live_server}/cards/{card.id}")
    officer.fill("textarea[name=text]", "一、开展校园宣讲;二、入户走访")
    officer.locator("input[type=file][capture=environment]").set_input_files(
        files=[{"name": "整改宣讲.jpg", "mimeType": "image/jpeg", "buffer": photo(64, 48, "green", None)}]
    )
    submit(officer, "button:has-text('报送整改方案')")
    assert "已报送,等待审核" in officer.content()
    officer.locator("img[alt='照片:整改宣讲.jpg']").wait_for()
    shot(officer, "evidence-rectification-phone")

    officer.goto(f"{live_server}/meetings/decisions/{d.id}")
    officer.fill("textarea[name=feedback]", "已入户走访320户")
    officer.locator("input[type=file][capture=environment]").set_input_files(
        files=[{"name": "入户.jpg", "mimeType": "image/jpeg", "buffer": photo(48, 64, "blue", None)}]
    )
    submit(officer, "button:has-text('提交反馈')")
    assert "反馈已提交" in officer.content()

    reviewer = page_for("reviewer")
    reviewer.goto(f"{live_server}/cards/{card.id}")
    img = reviewer.locator("img[alt='照片:整改宣讲.jpg']")
    img.wait_for()
    assert reviewer.evaluate("i => i.complete && i.naturalWidth", img.element_handle()) == 64
    reviewer.goto(f"{live_server}/meetings/decisions/{d.id}")
    img = reviewer.locator("img[alt='照片:入户.jpg']")
    img.wait_for()
    assert reviewer.evaluate("i => i.complete && i.naturalWidth", img.element_handle()) == 48
    shot(reviewer, "evidence-feedback-review")
