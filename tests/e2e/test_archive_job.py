"""In a real browser: marking a meeting held returns at once with 通报生成中; the archived briefing and its SHA-256
appear on the page by themselves once the queue's worker has rendered it."""

from __future__ import annotations

import threading
from datetime import date

from tracker.meetings import service as meetings
from tracker.reports import service as reports

from ..conftest import get_unit, get_user
from .conftest import submit


def test_marking_a_meeting_held_does_not_wait_for_the_briefing(page_for, live_server, session, frozen, monkeypatch):
    frozen(2026, 11, 10, 9)
    m = meetings.schedule_meeting(
        session,
        get_user(session, "reviewer"),
        title="第三季度联席会议",
        meeting_date=date(2026, 10, 20),
        convener="区委政法委",
        unit_ids=[get_unit(session, "青石镇").id],
        period="2026-Q3",
    )
    session.commit()
    render = reports.to_pdf
    gate = threading.Event()

    def held_render(*args, **kwargs):
        gate.wait(timeout=60)  # the render is held back until the page has answered
        return render(*args, **kwargs)

    monkeypatch.setattr(reports, "to_pdf", held_render)
    page = page_for("reviewer")
    page.goto(f"{live_server}/meetings/{m.id}")
    try:
        # a request that waited for the render would not answer while it is held back: the click would time out
        submit(page, "button:has-text('标记已召开')", timeout=15000)
        assert "通报生成中" in page.inner_text("main")
    finally:
        gate.set()
    page.wait_for_selector("text=SHA-256", timeout=30000)
    main = page.inner_text("main")
    assert "第1版" in main and "下载存档通报" in main and "通报生成中" not in main
