"""Assessment: each formula kind with hand-computed numbers, adjustments, ranking, publishing and re-opening."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from tracker.assessment import publishing, results, scoring
from tracker.assessment.models import SchemeItem
from tracker.audit.models import AuditEvent
from tracker.errors import PermissionDenied, ValidationError, WorkflowError
from tracker.meetings import service as meetings
from tracker.periods import Period
from tracker.plans.service import active_plan
from tracker.progress import service as progress

from .assess_helpers import make_decision, put_figures
from .conftest import get_unit, get_user

Q3 = Period.parse("2026-Q3")
TEXT = {"progress": "开展宣传", "completion": "完成"}


def _row(scores, town):
    return next(s for s in scores if s.unit.name == town)


def _item(score, code):
    return next(i for i in score.items if i.code == code)


@pytest.fixture
def q3(seeded, session, frozen):
    frozen(2026, 10, 20, 9)
    return active_plan(session)


def test_metric_yoy_counts_the_share_of_indicators_that_improved(q3, session, frozen):
    put_figures(session, "2025-07", "青石镇", cases=30, losses="10.00", arrests=5, solved=6)
    put_figures(session, "2026-07", "青石镇", cases=20, losses="12.00", arrests=8, solved=6)
    s = _row(scoring.compute(session, q3, Q3), "青石镇")
    item = _item(s, "outcome")
    # cases down (good), losses up (bad), arrests up (good), solved flat (not improved): 40 × 2/4
    assert item.points == Decimal("20.00")
    assert any("发案数" in f.label and "达标" in f.value for f in item.facts)
    # a town with no figures at all: no indicator can be compared, the item does not apply to it
    none = _item(_row(scoring.compute(session, q3, Q3), "柳溪镇"), "outcome")
    assert (none.applicable, none.points, none.note) == (False, None, "各项指标均无同期数据,不适用")
    # only cases compared for 白沙镇 (fell): the three without figures leave the share, 40 × 1/1
    put_figures(session, "2025-07", "白沙镇", cases=30)
    put_figures(session, "2026-07", "白沙镇", cases=20)
    one = _item(_row(scoring.compute(session, q3, Q3), "白沙镇"), "outcome")
    assert one.points == Decimal("40.00") and one.note == "1项可比指标中向好1项,按比例计分(3项无同期数据,不计入)"


def test_report_share_on_time_and_accepted_over_due(q3, session, frozen):
    town, officer, reviewer = get_unit(session, "青石镇"), get_user(session, "town1"), get_user(session, "reviewer")
    # July: three reports on time and accepted, one late and accepted
    frozen(2026, 7, 20, 9)
    for task in (1, 2, 3):
        r = progress.save_draft(session, officer, task_id=task, unit_id=town.id, period="2026-07", fields=TEXT)
        r = progress.submit_report(session, officer, r.id, r.version)
        progress.review_report(session, reviewer, r.id, r.version, "accept")
    frozen(2026, 7, 28, 9)
    r = progress.save_draft(session, officer, task_id=4, unit_id=town.id, period="2026-07", fields=TEXT)
    r = progress.submit_report(session, officer, r.id, r.version)
    progress.review_report(session, reviewer, r.id, r.version, "accept")
    session.commit()
    frozen(2026, 10, 20, 9)
    s = _row(scoring.compute(session, q3, Q3), "青石镇")
    member = _item(s, "member_reports")
    # towns are members of all six tasks: 6 × 3 months = 18 due, 3 on time and accepted: 15 × 3/18
    assert member.points == Decimal("2.50")
    lead = _item(s, "lead_reports")  # leads nothing: not applicable, said so
    assert (lead.applicable, lead.points, lead.note) == (False, None, "本期无应报报告,不适用")
    adj = {a.code: a for a in s.adjustments}
    assert adj["late"].count == 1 and adj["late"].points == Decimal("-0.50")
    assert adj["overdue"].count == 14 and adj["overdue"].points == Decimal("-10.00")  # capped at 10


def test_decision_share_closed_on_time_over_due(q3, session, frozen):
    officer, reviewer = get_user(session, "town1"), get_user(session, "reviewer")
    frozen(2026, 7, 10, 9)
    on_time = make_decision(session, "青石镇", date(2026, 8, 10), "甲")
    late = make_decision(session, "青石镇", date(2026, 8, 20), "乙")
    make_decision(session, "青石镇", date(2026, 9, 20), "丙")  # never closed: overdue by 10-20
    session.commit()
    frozen(2026, 8, 5, 9)
    d = meetings.answer_decision(session, officer, on_time.id, on_time.version, "已完成")
    meetings.review_decision(session, reviewer, d.id, d.version, "close", "同意销号")
    frozen(2026, 8, 25, 9)
    d = meetings.answer_decision(session, officer, late.id, late.version, "已完成")
    meetings.review_decision(session, reviewer, d.id, d.version, "close", "同意销号")
    session.commit()
    frozen(2026, 10, 20, 9)
    s = _row(scoring.compute(session, q3, Q3), "青石镇")
    item = _item(s, "decisions")
    assert item.points == Decimal("5.00")  # 15 × 1/3
    assert {f.label: f.value for f in item.facts}["逾期未销号"] == "1 项"
    adj = {a.code: a for a in s.adjustments}
    assert adj["decision_overdue"].count == 1


def test_rectification_of_own_cards(q3, session, frozen):
    from tracker.assessment import cards

    reviewer, officer = get_user(session, "reviewer"), get_user(session, "town1")
    town = get_unit(session, "青石镇")
    frozen(2026, 7, 1, 9)
    card = cards.issue_card(session, reviewer, unit_id=town.id, colour="yellow", reason="宣传滞后", period="2026-Q2")
    session.commit()
    frozen(2026, 10, 20, 9)
    # no plan by its due date, deadline passed, not lifted: 0 of 1
    assert _item(_row(scoring.compute(session, q3, Q3), "青石镇"), "rectification").points == Decimal("0.00")
    frozen(2026, 7, 3, 9)
    r = cards.submit_rectification(session, officer, card.id, "plan", "整改方案")
    cards.review_rectification(session, reviewer, r.id, r.version, "accept")
    frozen(2026, 7, 20, 9)
    cards.lift(session, reviewer, card.id, card.version, "整改到位")
    session.commit()
    frozen(2026, 10, 20, 9)
    item = _item(_row(scoring.compute(session, q3, Q3), "青石镇"), "rectification")
    assert item.points == Decimal("10.00")
    assert item.facts[0].link == {"endpoint": "cards.show", "args": {"card_id": card.id}}


def test_target_and_rank_formulas(q3, session, frozen):
    session.add(
        SchemeItem(
            code="app",
            name="反诈APP注册率",
            formula="target",
            weight_township=Decimal(10),
            weight_department=Decimal(0),
            params={"indicator": "cases", "target": "40"},
            sort_order=90,
        )
    )
    session.add(
        SchemeItem(
            code="rank",
            name="综合排名",
            formula="rank",
            weight_township=Decimal(12),
            weight_department=Decimal(0),
            params={},
            sort_order=91,
        )
    )
    session.commit()
    put_figures(session, "2026-07", "青石镇", cases=30)
    scores = scoring.compute(session, q3, Q3)
    a = _row(scores, "青石镇")
    assert _item(a, "app").points == Decimal("7.50")  # 10 × 30/40
    assert _item(_row(scores, "柳溪镇"), "app").points == Decimal("0.00")  # no figure
    ranks = {s.unit.name: _item(s, "rank").points for s in scores if s.unit.kind == "township"}
    assert set(ranks.values()) <= {Decimal(x) for x in ("0.00", "2.40", "4.80", "7.20", "9.60", "12.00")}


def test_departments_and_towns_ranked_separately_with_ties(q3, session):
    scores = scoring.compute(session, q3, Q3)
    towns = [s for s in scores if s.unit.kind == "township"]
    depts = [s for s in scores if s.unit.kind == "department"]
    assert sorted(s.rank for s in towns)[0] == 1 and sorted(s.rank for s in depts)[0] == 1
    # with no facts at all, every town has the same total and shares rank 1
    assert {s.rank for s in towns} == {1}
    assert all(_item(s, "lead_reports").weight == Decimal("50.00") for s in depts)
    assert all(not any(i.code == "outcome" for i in s.items) for s in depts)


def test_only_quarters_are_scored(q3, session):
    with pytest.raises(ValidationError, match="季度"):
        scoring.compute(session, q3, Period.parse("2026-10"))


def test_published_quarter_is_frozen_against_later_edits(q3, session, frozen, client, auth):
    reviewer = get_user(session, "reviewer")
    put_figures(session, "2025-07", "青石镇", cases=30, losses="10.00", arrests=5, solved=6)
    put_figures(session, "2026-07", "青石镇", cases=20, losses="12.00", arrests=8, solved=6)
    pub = publishing.publish(session, reviewer, q3, Q3)
    session.commit()
    frozen_total = next(r for r in pub.snapshot["groups"]["township"] if r["unit"] == "青石镇")["total"]
    put_figures(session, "2026-07", "青石镇", cases=45)  # the data changes afterwards
    live = _row(scoring.compute(session, q3, Q3), "青石镇").total
    assert str(live) != frozen_total
    snap, current = results.results(session, q3, Q3)
    assert current is not None
    assert next(r for r in snap["groups"]["township"] if r["unit"] == "青石镇")["total"] == frozen_total
    auth.login("town2")  # after publishing every unit sees the ranking
    html = client.get("/assessment/?period=2026-Q3").get_data(as_text=True)
    assert "青石镇" in html and "已发布" in html
    with pytest.raises(WorkflowError):
        publishing.publish(session, reviewer, q3, Q3)


def test_reopen_needs_a_reason_and_is_audited(q3, session):
    reviewer = get_user(session, "reviewer")
    publishing.publish(session, reviewer, q3, Q3)
    session.commit()
    with pytest.raises(ValidationError, match="理由"):
        publishing.reopen(session, reviewer, Q3, "")
    publishing.reopen(session, reviewer, Q3, "公安分局更正了7月数据")
    session.commit()
    assert results.current_publication(session, Q3) is None
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "assessment.reopen"))
    assert event.after["reason"] == "公安分局更正了7月数据"


def test_only_reviewers_publish_and_units_see_only_their_own_before(q3, session, client, auth):
    with pytest.raises(PermissionDenied):
        publishing.publish(session, get_user(session, "admin"), q3, Q3)
    with pytest.raises(PermissionDenied):
        publishing.publish(session, get_user(session, "town1"), q3, Q3)
    auth.login("town1")
    html = client.get("/assessment/?period=2026-Q3").get_data(as_text=True)
    assert "青石镇" in html and "柳溪镇" not in html
    assert client.get(f"/assessment/units/{get_unit(session, '柳溪镇').id}?period=2026-Q3").status_code == 403


def test_unfinished_quarter_cannot_be_published(q3, session):
    with pytest.raises(WorkflowError, match="尚未结束"):
        publishing.publish(session, get_user(session, "reviewer"), q3, Period.parse("2026-Q4"))


def test_year_is_the_mean_of_its_quarters(q3, session, frozen):
    frozen(2027, 1, 5, 9)
    data = results.year_scores(session, q3, 2026)
    assert data["quarters"] == ["2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"]
    row = data["groups"]["township"][0]
    qs = [Decimal(v) for v in row["quarters"].values()]
    assert Decimal(row["mean"]) == (sum(qs) / 4).quantize(Decimal("0.01"))


def test_assess_cli_prints_scores(q3, app):
    result = app.test_cli_runner().invoke(args=["assess", "--period", "2026-Q3", "--json"])
    assert result.exit_code == 0, result.output
    import json

    data = json.loads(result.output)
    assert data["period"] == "2026-Q3" and data["groups"]["township"][0]["items"]
