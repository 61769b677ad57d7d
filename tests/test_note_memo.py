"""The note 发布后数据有更新 is kept between requests until a write may change it (`assessment.note_memo`): pages read
after a correction score the quarter once, not once each; an export or a later month's figures leave the kept note
standing; a second correction of the quarter, made by another worker on the same database, is in the next page's
note; a new day writes the note again."""

from __future__ import annotations

import pytest

from tracker import create_app
from tracker import db as tdb
from tracker.assessment import note_memo
from tracker.assessment.note_memo import _Kept
from tracker.periods import Period

from .assess_helpers import flat, put_figures, q3_meeting_for_qingshi

Q3 = Period.parse("2026-Q3")


@pytest.fixture
def corrected(seeded, session, frozen, app, auth):
    """Q3 2026 published on 20 October with 青石镇 26 cases in July; corrected to 150 on the 21st."""
    meeting_id = q3_meeting_for_qingshi(session, frozen)
    result = app.test_cli_runner().invoke(args=["assess", "publish", "--period", "2026-Q3"])
    assert result.exit_code == 0, result.output
    frozen(2026, 10, 21, 9)
    put_figures(session, "2026-07", "青石镇", cases=150)
    auth.login("reviewer")
    return meeting_id


def _pages(client, meeting_id) -> list[str]:
    out = []
    for url in (f"/meetings/{meeting_id}", "/reports/briefing?period=2026-Q3", "/assessment/?period=2026-Q3"):
        resp = client.get(url)
        assert resp.status_code == 200, url
        out.append(flat(resp.get_data(as_text=True)))
    return out


def test_pages_after_a_correction_score_the_quarter_once(corrected, client, scored, session):
    for _ in range(2):
        for page in _pages(client, corrected):
            assert "发布后数据有更新" in page and "青石镇发案数冻结26/现为150" in page
    assert scored == ["2026-Q3"]
    # writes that cannot touch the quarter: an export, October's figures; the kept note stands
    assert client.get("/exports/decisions.xlsx").status_code == 200
    put_figures(session, "2026-10", "青石镇", cases=99)
    meeting = _pages(client, corrected)[0]
    assert "青石镇发案数冻结26/现为150" in meeting and scored == ["2026-Q3"]
    # one more correction of July: written again, once
    put_figures(session, "2026-07", "青石镇", cases=160)
    for page in _pages(client, corrected):
        assert "青石镇发案数冻结26/现为160" in page and "现为150" not in page
    assert scored == ["2026-Q3", "2026-Q3"]


def test_a_write_by_another_worker_reaches_the_kept_note(corrected, client, scored, app, session):
    assert "现为150" in _pages(client, corrected)[0]
    session.commit()  # this worker reads nothing meanwhile (SQLite lets one writer past no reader)
    # a second app on the same database: another worker process of the same server
    other = create_app({**app.config, "SERVER_NAME": "localhost"})
    try:
        with other.app_context():
            put_figures(tdb.session, "2026-07", "青石镇", cases=170)
    finally:
        other.extensions["tracker.engine"].dispose()
    page = _pages(client, corrected)[0]
    assert "青石镇发案数冻结26/现为170" in page
    assert scored == ["2026-Q3", "2026-Q3"]


def test_a_correction_taken_back_clears_the_note(corrected, client, scored, session):
    assert "发布后数据有更新" in _pages(client, corrected)[1]
    put_figures(session, "2026-07", "青石镇", cases=26)  # back to the published figure
    preview = _pages(client, corrected)[1]
    assert "发布后数据有更新" not in preview
    assert scored == ["2026-Q3", "2026-Q3"]


def test_a_new_day_writes_the_note_again(corrected, client, scored, frozen):
    _pages(client, corrected)
    frozen(2026, 10, 22, 9)
    assert "现为150" in _pages(client, corrected)[0]
    assert scored == ["2026-Q3", "2026-Q3"]


def test_a_kept_note_whose_event_left_the_chain_is_not_trusted(corrected, session):
    """A database put back from a backup can hold other events under the kept ids: the kept event's hash must still
    be the one in the chain."""
    head = session.execute(note_memo._newest_event()).first()
    assert note_memo._still_holds(session, _Kept(head.id, head.hash, ()), head, Q3)
    assert not note_memo._still_holds(session, _Kept(head.id, "0" * 64, ()), head, Q3)
    assert not note_memo._still_holds(session, _Kept(head.id - 1, "0" * 64, ()), head, Q3)
    assert not note_memo._still_holds(session, _Kept(head.id + 1, head.hash, ()), head, Q3)
