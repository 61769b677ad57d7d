"""A published quarter is the single source of every figure printed about it: card recommendations, the card
report, the scorecard, the briefing, the unit page and the meeting material read the frozen snapshot; what
changed afterwards is named only in the note 发布后数据有更新; after re-opening they read today's facts again."""

from __future__ import annotations

import io
import json
import re
from datetime import date

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from tracker.assessment import cards, results, scheme
from tracker.assessment.models import Publication
from tracker.audit.models import AuditEvent
from tracker.meetings import service as meetings
from tracker.periods import Period
from tracker.plans.service import active_plan
from tracker.progress import service as progress
from tracker.reports import builders, service

from .assess_helpers import put_figures
from .conftest import get_unit, get_user

Q3 = Period.parse("2026-Q3")
TEXT = {"progress": "开展宣传", "completion": "完成"}


def _flat(text: str) -> str:
    """Page or PDF text without tags and whitespace, so 'rank 6' reads the same in a table cell and a line."""
    return re.sub(r"\s+", "", re.sub(r"<[^>]+>", "", text))


def _pdf_text(data: bytes) -> str:
    return _flat("\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages))


def _cli(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def _recommend(app) -> list[dict]:
    result = _cli(app, "cards", "recommend", "--period", "2026-Q3", "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)["recommendations"]


def _finding(rows, unit, kind_reason_word):
    return next((r for r in rows if r["unit"] == unit and kind_reason_word in r["reason"]), None)


@pytest.fixture
def published(seeded, session, frozen, app):
    """Q3 2026: 青石镇 26 cases (20 a year before), 柳溪镇 10 (40); 青石镇 sends one report on time, not yet
    reviewed when the quarter is published from the command line on 20 October. The scheme scores items with
    nothing due in full (the setting 按满分计), which the arithmetic below follows."""
    settings = scheme.settings(session)
    scheme.update_settings(session, get_user(session, "admin"), settings.version, not_applicable="full")
    session.commit()
    frozen(2026, 9, 20, 9)
    put_figures(session, "2025-07", "青石镇", cases=20)
    put_figures(session, "2026-07", "青石镇", cases=26)
    put_figures(session, "2025-07", "柳溪镇", cases=40)
    put_figures(session, "2026-07", "柳溪镇", cases=10)
    town, officer = get_unit(session, "青石镇"), get_user(session, "town1")
    r = progress.save_draft(session, officer, task_id=3, unit_id=town.id, period="2026-09", fields=TEXT)
    report = progress.submit_report(session, officer, r.id, r.version)  # due 25 September: on time
    session.commit()
    frozen(2026, 10, 20, 9)
    plan = active_plan(session)
    cards.refresh_recommendations(session, get_user(session, "reviewer"), plan, Q3)
    meeting = meetings.schedule_meeting(
        session,
        get_user(session, "reviewer"),
        title="第三季度联席会议",
        meeting_date=date(2026, 10, 28),
        convener="区委政法委",
        unit_ids=[town.id],
        period="2026-Q3",
    )
    session.commit()
    result = _cli(app, "assess", "publish", "--period", "2026-Q3", "--reason", "季度例行发布")
    assert result.exit_code == 0, result.output
    return {"plan": plan, "town": town, "report": report, "meeting": meeting}


def _change_the_facts(session, frozen, report):
    """After publication: 青石镇's July cases corrected from 26 to 150, 柳溪镇's from 10 to 60, and the report
    accepted (on time and accepted now: 1 of 18 due)."""
    frozen(2026, 10, 21, 9)
    put_figures(session, "2026-07", "青石镇", cases=150)
    put_figures(session, "2026-07", "柳溪镇", cases=60)
    reviewer = get_user(session, "reviewer")
    report = session.merge(report)
    progress.review_report(session, reviewer, report.id, report.version, "accept")
    session.commit()


# Frozen scores (towns; 6 member tasks × 3 months = 18 reports due, no lead task, decision or card due):
#   青石镇: outcome 40 × (0 + ½ + ½ + ½)/4 = 15 (cases 26 > 20, the other three without figures count half);
#           lead 20 (none due) + member 15 × 0/18 = 0 + decisions 15 + rectification 10 − overdue min(17, 10) = 50.00
#   柳溪镇: outcome 40 × (1 + 1.5)/4 = 25 (10 < 40) → 25 + 20 + 0 + 15 + 10 − 10 = 60.00, rank 1
#   the four others: outcome 40 × 2/4 = 20 → 55.00, rank 2; so 青石镇 is 6th of 6
# Live after the changes:
#   青石镇: member 15 × 1/18 = 0.83 → 50.83; 柳溪镇: 60 > 40, outcome 15 → 50.00
#   ranks: the four 55.00 share 1st, 青石镇 5th, 柳溪镇 6th
# District cases: frozen 26 + 10 = 36 against 20 + 40 = 60 (−24/60 = −40.0 %); live 150 + 60 = 210


def test_cli_publishes_and_reopens_as_the_system_actor_with_clear_errors(published, session, app):
    pub = results.current_publication(session, Q3)
    assert pub is not None and pub.actor_id is None and pub.reason == "季度例行发布"
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "assessment.publish"))
    assert event.actor_name == "system" and event.after == {"period": "2026-Q3", "reason": "季度例行发布"}
    again = _cli(app, "assess", "publish", "--period", "2026-Q3")
    assert again.exit_code != 0 and "已发布" in again.output
    unfinished = _cli(app, "assess", "publish", "--period", "2026-Q4")
    assert unfinished.exit_code != 0 and "尚未结束" in unfinished.output
    no_reason = _cli(app, "assess", "reopen", "--period", "2026-Q3")
    assert no_reason.exit_code != 0 and "理由" in no_reason.output
    assert results.current_publication(session, Q3) is not None  # nothing changed
    ok = _cli(app, "assess", "reopen", "--period", "2026-Q3", "--reason", "公安分局更正7月数据")
    assert ok.exit_code == 0, ok.output
    session.expire_all()
    assert results.current_publication(session, Q3) is None
    rows = session.scalars(select(Publication).where(Publication.period == "2026-Q3").order_by(Publication.id)).all()
    assert [(p.status, p.actor_id, p.reason) for p in rows] == [
        ("published", None, "季度例行发布"),
        ("reopened", None, "公安分局更正7月数据"),
    ]
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "assessment.reopen"))
    assert event.actor_name == "system" and event.after == {"reason": "公安分局更正7月数据"}
    not_published = _cli(app, "assess", "reopen", "--period", "2026-Q3", "--reason", "再次开放试试")
    assert not_published.exit_code != 0 and "尚未发布" in not_published.output
    # the page shows who published: nobody in particular
    history = results.publication_history(session, Q3)
    assert [h.actor_label for h in history] == ["系统(命令行)", "系统(命令行)"]


def test_every_consumer_reads_the_frozen_quarter_and_names_later_changes_apart(
    published, session, frozen, app, client, auth
):
    _change_the_facts(session, frozen, published["report"])
    town, meeting = published["town"], published["meeting"]

    # cards recommend: the published score and rank, and the frozen cases
    rows = _recommend(app)
    bottom = _finding(rows, "青石镇", "排名")
    assert bottom is not None and "得分50.00分" in bottom["reason"] and "排名第6" in bottom["reason"]
    assert bottom["figures"] == {"score": "50.00", "rank": 6, "of": 6}
    assert _finding(rows, "柳溪镇", "排名") is None  # live it would be 6th
    up = _finding(rows, "青石镇", "全区发案同比下降")
    assert up is not None and "发案26起,去年同期20起,同比上升30.0%" in up["reason"]
    assert "(-40.0%)" in up["reason"] and up["figures"]["cases"]["value"] == "26"
    assert not [r for r in rows if "案件高发" in r["rule_name"]]  # 150 against 20 would be +650 %

    # the reviewer re-runs the rules: the stored recommendations quote the same frozen figures
    with app.test_request_context():
        cards.refresh_recommendations(session, get_user(session, "reviewer"), published["plan"], Q3)
        session.commit()
        report = builders.card_report(session, Q3)
        pdf = _pdf_text(service.to_pdf("cards", report))
    assert report.published is True
    assert "发案26起" in pdf and "得分50.00分" in pdf and "排名第6" in pdf
    assert "发布后数据有更新" in pdf and "青石镇发案数冻结26/现为150" in pdf

    auth.login("reviewer")
    # scorecard: frozen score, rank and 两降两升 figures; the note names this unit's changes
    html = client.get(f"/reports/scorecard?unit={town.id}&period=2026-Q3").get_data(as_text=True)
    flat = _flat(html)
    assert "总分50.00分" in flat and "排名第6名" in flat
    assert "发案数(起)2620" in flat  # this quarter 26, a year before 20
    assert "发布后数据有更新" in flat
    for line in ("青石镇发案数冻结26/现为150", "青石镇得分冻结50.00分/现为50.83分", "青石镇排名冻结第6名/现为第5名"):
        assert line in flat
    assert "150" not in flat.split("发布后数据有更新")[0]  # the live figure only in the note

    # briefing: the figures table, the ranking and the scores are the frozen ones
    with app.test_request_context():
        data = service.briefing_data(session, Q3)
    mine = next(u for u in data.summary.units if u.unit.name == "青石镇")
    assert mine.comparisons["cases"].value == 26 and data.summary.district["cases"].value == 36
    row = next(r for r in data.scores["groups"]["township"] if r["unit"] == "青石镇")
    assert (row["total"], row["rank"]) == ("50.00", 6)
    html = _flat(client.get("/reports/briefing?period=2026-Q3").get_data(as_text=True))
    assert "6青石镇50.00" in html and "1柳溪镇60.00" in html
    assert "柳溪镇发案数冻结10/现为60" in html and "全区发案数冻结36/现为210" in html
    assert "210" not in html.split("发布后数据有更新")[0]

    # unit page
    html = _flat(client.get(f"/assessment/units/{town.id}?period=2026-Q3").get_data(as_text=True))
    assert "总分50.00分" in html and "排名第6名" in html and "26(去年同期20)" in html
    assert "青石镇发案数冻结26/现为150" in html and "柳溪镇" not in html.split("发布后数据有更新")[1]
    auth.logout()
    auth.login("town1")  # the unit's officer reads the frozen results; the note is for those who may re-open
    html = _flat(client.get(f"/assessment/units/{town.id}?period=2026-Q3").get_data(as_text=True))
    assert "总分50.00分" in html and "排名第6名" in html and "发布后数据有更新" not in html
    auth.logout()
    auth.login("reviewer")

    # meeting material: the district's frozen figures, the frozen recommendations, the note
    html = _flat(client.get(f"/meetings/{meeting.id}").get_data(as_text=True))
    assert "发案数36起" in html and "发案26起" in html and "得分50.00分" in html
    assert "全区发案数冻结36/现为210" in html
    assert "发案数210" not in html.split("发布后数据有更新")[0]


def test_after_reopening_every_consumer_reads_todays_facts(published, session, frozen, app, client, auth):
    _change_the_facts(session, frozen, published["report"])
    result = _cli(app, "assess", "reopen", "--period", "2026-Q3", "--reason", "公安分局更正7月数据")
    assert result.exit_code == 0, result.output
    town, meeting = published["town"], published["meeting"]
    session.expire_all()

    rows = _recommend(app)
    # live: 青石镇 50.83 is 5th, 柳溪镇 50.00 6th; both in the last three
    assert "得分50.83分" in _finding(rows, "青石镇", "排名")["reason"]
    assert "排名第6" in _finding(rows, "柳溪镇", "排名")["reason"]
    surge = _finding(rows, "青石镇", "案件高发")
    assert surge is not None and "发案150起,去年同期20起,同比上升650.0%" in surge["reason"]

    auth.login("reviewer")
    flat = _flat(client.get(f"/reports/scorecard?unit={town.id}&period=2026-Q3").get_data(as_text=True))
    assert "总分50.83分" in flat and "排名第5名" in flat and "发案数(起)15020" in flat
    assert "发布后数据有更新" not in flat and "未发布" in flat
    html = _flat(client.get("/reports/briefing?period=2026-Q3").get_data(as_text=True))
    assert "5青石镇50.83" in html and "6柳溪镇50.00" in html and "发布后数据有更新" not in html
    html = _flat(client.get(f"/assessment/units/{town.id}?period=2026-Q3").get_data(as_text=True))
    assert "总分50.83分" in html and "排名第5名" in html and "150(去年同期20)" in html
    html = _flat(client.get(f"/meetings/{meeting.id}").get_data(as_text=True))
    # re-opening re-stated the pending recommendations from today's facts
    assert "发案数210起" in html and "发案150起" in html and "发布后数据有更新" not in html
    with app.test_request_context():
        pdf = _pdf_text(service.to_pdf("cards", builders.card_report(session, Q3)))
    assert "发案150起" in pdf and "发布后数据有更新" not in pdf


def test_a_quarter_published_before_figures_were_kept_says_its_figures_are_todays(
    published, session, frozen, client, auth
):
    pub = results.current_publication(session, Q3)
    pub.snapshot = {k: v for k, v in pub.snapshot.items() if k != "figures"}  # as publications made before
    session.commit()
    _change_the_facts(session, frozen, published["report"])
    auth.login("reviewer")
    flat = _flat(client.get(f"/reports/scorecard?unit={published['town'].id}&period=2026-Q3").get_data(as_text=True))
    # the score and rank stay frozen (50.00, 6th); the 两降两升 table can only show today's 150, and says so
    assert "总分50.00分" in flat and "排名第6名" in flat and "发案数(起)15020" in flat
    assert "发布时未冻结两降两升数据" in flat and "青石镇得分冻结50.00分/现为50.83分" in flat
