"""A published quarter is scored live (for the note 发布后数据有更新) only when something its scores or figures read
has been written since publication: nothing written, no note and no scoring; one figure of the quarter corrected,
the note names it; writes to later months or to what scores do not read leave it alone."""

from __future__ import annotations

import pytest

from tracker.assessment import results
from tracker.periods import Period
from tracker.plans.service import active_plan
from tracker.progress import service as progress

from .assess_helpers import flat, put_figures, q3_meeting_for_qingshi
from .conftest import get_unit, get_user

Q3 = Period.parse("2026-Q3")
TEXT = {"progress": "开展宣传", "completion": "完成"}


@pytest.fixture
def published(seeded, session, frozen, app):
    """Q3 2026 with 青石镇 26 cases in July (20 a year before), a meeting on it, published on 20 October."""
    meeting_id = q3_meeting_for_qingshi(session, frozen)
    result = app.test_cli_runner().invoke(args=["assess", "publish", "--period", "2026-Q3"])
    assert result.exit_code == 0, result.output
    frozen(2026, 10, 21, 9)
    return meeting_id


def _meeting_page(client, meeting_id) -> str:
    resp = client.get(f"/meetings/{meeting_id}")
    assert resp.status_code == 200
    return flat(resp.get_data(as_text=True))


def test_nothing_written_since_publication_no_note_and_no_scoring(published, client, auth, scored, session):
    auth.login("reviewer")
    page = _meeting_page(client, published)
    assert "发布后数据有更新" not in page and scored == []
    preview = flat(client.get("/reports/briefing?period=2026-Q3").get_data(as_text=True))
    assert "发布后数据有更新" not in preview and scored == []
    # one figure of the quarter corrected: scored once per page, and the note names it (frozen 26, now 150)
    put_figures(session, "2026-07", "青石镇", cases=150)
    page = _meeting_page(client, published)
    assert scored == ["2026-Q3"]
    assert "发布后数据有更新" in page and "青石镇发案数冻结26/现为150" in page


def test_writes_outside_the_quarter_leave_it_alone(published, client, auth, scored, session, frozen):
    town, officer = get_unit(session, "青石镇"), get_user(session, "town1")
    # after publication: October's figures, an October report saved and submitted, a page exported
    put_figures(session, "2026-10", "青石镇", cases=99)
    r = progress.save_draft(session, officer, task_id=1, unit_id=town.id, period="2026-10", fields=TEXT)
    progress.submit_report(session, officer, r.id, r.version)
    session.commit()
    auth.login("reviewer")
    assert client.get("/exports/decisions.xlsx").status_code == 200
    page = _meeting_page(client, published)
    assert "发布后数据有更新" not in page and scored == []
    # September's report of the same task, first submitted now (late): one of the quarter's facts changed, so the
    # quarter is scored again for the note. 青石镇 scored 0.00 (nothing accepted; 18 overdue reports, −10 at the
    # cap) and still does (17 overdue, −10; one late, −0.50; never below 0): nothing differs, no note
    r = progress.save_draft(session, officer, task_id=1, unit_id=town.id, period="2026-09", fields=TEXT)
    progress.submit_report(session, officer, r.id, r.version)
    session.commit()
    page = _meeting_page(client, published)
    assert scored == ["2026-Q3"]
    assert "发布后数据有更新" not in page
    assert results.quarter_results(session, active_plan(session), Q3).changes == []


def test_the_publication_event_is_what_later_writes_are_measured_from(published, session):
    from tracker.assessment.results import current_publication
    from tracker.assessment.since import publication_event_id, written_since
    from tracker.periods import Period

    q3 = Period.parse("2026-Q3")
    pub = current_publication(session, q3)
    assert publication_event_id(session, pub) is not None
    assert not written_since(session, pub, q3)
    put_figures(session, "2026-08", "青石镇", cases=3)
    assert written_since(session, pub, q3)
