"""In a real browser: an officer sees the bell's unread count, opens the notification centre and follows a notice to
its report (which marks it read); the reviewer's workbench lists what waits in 待我处理. Screenshots of the three."""

from __future__ import annotations

from datetime import date

from tracker.notify import service
from tracker.progress import service as progress

from ..conftest import get_unit, get_user
from .conftest import SHOTS, shot


def test_bell_centre_and_reviewer_panel(page_for, live_server, session, seeded, frozen):
    town1, reviewer = get_user(session, "town1"), get_user(session, "reviewer")
    qingshi = get_unit(session, "青石镇")
    frozen(2026, 11, 20, 8)
    report = progress.save_draft(
        session,
        town1,
        task_id=1,
        unit_id=qingshi.id,
        period="2026-11",
        fields={"progress": "张贴海报", "completion": "完成"},
    )
    progress.submit_report(session, town1, report.id, report.version)
    progress.urge(session, reviewer, task_id=2, unit_id=qingshi.id, period="2026-11")
    session.commit()
    frozen(2026, 11, 22, 9)
    service.run_day(session, date(2026, 11, 22), seeded.config)
    session.commit()

    page = page_for("town1")
    bell = page.locator("header a.bell")
    # two unread: the reviewer's urge (20 Nov) and "due in 3 days" (22 Nov = 25 − 3)
    assert bell.get_attribute("aria-label") == "通知(未读 2)"
    assert bell.inner_text().replace(" ", "") == "通知2"
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.locator("header").screenshot(path=str(SHOTS / "notify-bell.png"))
    bell.click()
    page.wait_for_load_state()
    main = page.inner_text("main")
    assert "通知中心" in main and main.count("未读") >= 2
    assert "催办:青石镇 任务二 2026年11月进展报告" in main
    assert "青石镇:2026年11月进展报告3天后截止" in main
    shot(page, "notify-centre")
    page.locator("tr:has-text('催办') button:has-text('打开并标为已读')").click()
    page.wait_for_load_state()
    assert page.url.endswith(f"/progress/tasks/2/units/{qingshi.id}/2026-11")
    assert page.locator("header a.bell").get_attribute("aria-label") == "通知(未读 1)"

    desk = page_for("reviewer")
    desk.goto(live_server + "/")
    panel = desk.locator("section.review-queue")
    text = panel.inner_text()
    assert text.startswith("待我处理")
    assert "青石镇" in text and "任务一" in text  # the report submitted on 20 Nov waits for review
    shot(desk, "review-panel")
