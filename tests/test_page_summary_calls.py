"""The quarter's 两降两升 summary is computed once per request on the pages that show it (metrics overview, meeting
page, briefing preview), and a published quarter's figures and district trend are read from its snapshot: only the
note 发布后数据有更新 asks for today's figures, once (then kept for the next pages until a write may change it,
`assessment.note_memo`), and never for today's trend."""

from __future__ import annotations

from collections import Counter

import pytest

from tracker.assessment import scheme
from tracker.metrics import service as metrics

from .assess_helpers import flat, put_figures, q3_meeting_for_qingshi
from .conftest import get_user


@pytest.fixture
def counted(monkeypatch):
    """Counts the calls of the summary and of the district's monthly trend, however deep they are made."""
    calls: Counter = Counter()
    for name in ("summary", "trends"):
        original = getattr(metrics, name)

        def counting(*args, _original=original, _name=name, **kwargs):
            calls[_name] += 1
            return _original(*args, **kwargs)

        monkeypatch.setattr(metrics, name, counting)
    return calls


@pytest.fixture
def quarter(seeded, session, frozen, app):
    """Q3 2026 with 青石镇 26 cases in July (20 a year before) and 柳溪镇 10 (40), a meeting on it for 青石镇."""
    return q3_meeting_for_qingshi(session, frozen, 柳溪镇=(40, 10))


def _publish(app, session, frozen):
    settings = scheme.settings(session)
    scheme.update_settings(session, get_user(session, "admin"), settings.version, not_applicable="full")
    session.commit()
    result = app.test_cli_runner().invoke(args=["assess", "publish", "--period", "2026-Q3"])
    assert result.exit_code == 0, result.output
    # after publication 青石镇's July is corrected from 26 to 150: the pages keep 26 and name the change
    frozen(2026, 10, 21, 9)
    put_figures(session, "2026-07", "青石镇", cases=150)


def _get(client, counted, url) -> str:
    counted.clear()
    resp = client.get(url)
    assert resp.status_code == 200, url
    return flat(resp.get_data(as_text=True))


def test_unpublished_quarter_pages_compute_the_summary_once(quarter, client, auth, counted):
    auth.login("reviewer")
    overview = _get(client, counted, "/metrics/?period=2026-Q3")
    assert counted == {"summary": 1}
    # district cases 26 + 10 = 36 against 20 + 40 = 60
    assert "36" in overview and "60" in overview
    page = _get(client, counted, f"/meetings/{quarter}")
    # the live results: one summary for the scores and the figures, one trend for the material's chart
    assert counted == {"summary": 1, "trends": 1}
    assert "36" in page
    _get(client, counted, "/reports/briefing?period=2026-Q3")
    assert counted == {"summary": 1, "trends": 1}


def test_published_quarter_pages_read_the_snapshot_and_compute_today_once(
    quarter, client, auth, counted, app, session, frozen
):
    _publish(app, session, frozen)
    auth.login("reviewer")
    page = _get(client, counted, f"/meetings/{quarter}")
    # frozen figures and trend from the snapshot; today's summary once, for the note only; today's trend never
    assert counted == {"summary": 1}
    assert "发布后数据有更新" in page and "青石镇发案数冻结26/现为150" in page
    # the next page reads the kept note: nothing was written since
    preview = _get(client, counted, "/reports/briefing?period=2026-Q3")
    assert counted == {}
    assert "青石镇发案数冻结26/现为150" in preview
    # the metrics pages stay live: months are never published (150 + 10 = 160 cases now)
    overview = _get(client, counted, "/metrics/?period=2026-Q3")
    assert counted == {"summary": 1}
    assert "160" in overview
