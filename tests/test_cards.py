"""Red and yellow cards: each rule at its threshold, issuing and dismissing, rectification, working-day deadlines,
escalation and lifting."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import event, select

from tracker.assessment import card_rules, cards, lifting
from tracker.assessment.calendar import add_working_days, calendar
from tracker.assessment.calendar import load as load_calendar
from tracker.assessment.models import CardColour, CardRule, Recommendation
from tracker.errors import PermissionDenied, ValidationError, WorkflowError
from tracker.periods import Period
from tracker.plans.service import active_plan

from .assess_helpers import put_figures
from .conftest import get_unit, get_user

Q3 = Period.parse("2026-Q3")


@pytest.fixture
def plan(seeded, session, frozen):
    frozen(2026, 10, 20, 9)
    return active_plan(session)


def _fired(session, plan, kind, period=Q3):
    return [f for f in card_rules.evaluate(session, plan, period) if f.rule.kind == kind]


def _only_rule(session, kind):
    for r in session.scalars(select(CardRule)):
        r.is_active = r.kind == kind
    session.commit()


def _quarter(session, year, town, cases):
    put_figures(session, f"{year}-07", town, cases=cases)


def test_cases_surge_fires_at_fifty_percent_and_not_below(plan, session):
    _only_rule(session, "cases_surge")
    _quarter(session, 2025, "青石镇", 20)
    _quarter(session, 2026, "青石镇", 30)  # +50 %
    _quarter(session, 2025, "柳溪镇", 20)
    _quarter(session, 2026, "柳溪镇", 29)  # +45 %
    fired = _fired(session, plan, "cases_surge")
    assert [f.unit.name for f in fired] == ["青石镇"]
    assert fired[0].colour == "red" and "50" in fired[0].reason
    assert fired[0].figures["cases"]["value"] == "30" and fired[0].figures["cases"]["last_year"] == "20"


def test_small_base_is_not_judged_by_percentage(plan, session):
    _only_rule(session, "cases_surge")
    _quarter(session, 2025, "青石镇", 2)
    _quarter(session, 2026, "青石镇", 4)  # +100 % but below the base of 10
    assert _fired(session, plan, "cases_surge") == []


def test_cases_up_while_district_down(plan, session):
    _only_rule(session, "cases_up_while_district_down")
    _quarter(session, 2025, "青石镇", 20)
    _quarter(session, 2026, "青石镇", 24)  # +20 %
    _quarter(session, 2025, "柳溪镇", 100)
    _quarter(session, 2026, "柳溪镇", 50)  # the district falls overall
    assert [f.unit.name for f in _fired(session, plan, "cases_up_while_district_down")] == ["青石镇"]
    put_figures(session, "2026-07", "柳溪镇", cases=120)  # now the district rises: the rule stays silent
    assert _fired(session, plan, "cases_up_while_district_down") == []


def test_cases_up_in_consecutive_months(plan, session):
    _only_rule(session, "cases_up_consecutive_months")
    for town, aug, sep in (("青石镇", 12, 13), ("柳溪镇", 9, 13)):
        put_figures(session, "2025-08", town, cases=10)
        put_figures(session, "2025-09", town, cases=10)
        put_figures(session, "2026-08", town, cases=aug)
        put_figures(session, "2026-09", town, cases=sep)
    fired = _fired(session, plan, "cases_up_consecutive_months")
    assert [f.unit.name for f in fired] == ["青石镇"]
    assert set(fired[0].figures["months"]) == {"2026-08", "2026-09"}


def test_overdue_count_threshold(plan, session, frozen):
    _only_rule(session, "overdue_count")
    fired = _fired(session, plan, "overdue_count")
    # no town has reported anything in Q3: 18 overdue each
    assert len(fired) == 6 and fired[0].figures["overdue_reports"] == 18
    rule = session.scalar(select(CardRule).where(CardRule.kind == "overdue_count"))
    rule.params = {"n": 19}
    session.commit()
    assert _fired(session, plan, "overdue_count") == []


def test_rank_bottom_names_the_last_three(plan, session):
    _only_rule(session, "rank_bottom")
    for town, (last, now) in {"青石镇": (20, 10), "柳溪镇": (20, 12), "云岭镇": (20, 14)}.items():
        _quarter(session, 2025, town, last)
        _quarter(session, 2026, town, now)
    fired = _fired(session, plan, "rank_bottom")
    assert {f.unit.name for f in fired} == {"白沙镇", "东湖街道", "南山街道"}
    assert all(f.figures["rank"] >= 4 for f in fired)


def test_yellow_not_lifted_and_second_yellow(plan, session, frozen):
    reviewer = get_user(session, "reviewer")
    town = get_unit(session, "青石镇")
    frozen(2026, 7, 1, 9)
    old = cards.issue_card(session, reviewer, unit_id=town.id, colour="yellow", reason="宣传滞后", period="2026-Q2")
    session.commit()
    frozen(2026, 10, 20, 9)
    _only_rule(session, "yellow_not_lifted")
    fired = _fired(session, plan, "yellow_not_lifted")
    assert [(f.unit.name, f.escalates_card_id) for f in fired] == [("青石镇", old.id)]
    # a new yellow condition within six months of the first yellow card: red
    for r in session.scalars(select(CardRule)):
        r.is_active = r.kind in ("cases_surge", "cases_up_while_district_down", "second_yellow")
    session.commit()
    _quarter(session, 2025, "青石镇", 20)
    _quarter(session, 2026, "青石镇", 26)
    _quarter(session, 2025, "柳溪镇", 100)
    _quarter(session, 2026, "柳溪镇", 50)
    kinds = {(f.unit.name, f.rule.kind) for f in card_rules.evaluate(session, plan, Q3)}
    assert ("青石镇", "second_yellow") in kinds


def test_recommendations_are_stored_then_issued_or_dismissed(plan, session):
    _only_rule(session, "overdue_count")
    reviewer = get_user(session, "reviewer")
    recs = cards.refresh_recommendations(session, reviewer, plan, Q3)
    session.commit()
    assert len(recs) == 6
    card = cards.issue_recommended(session, reviewer, recs[0].id, recs[0].version)
    dismissed = cards.dismiss(session, reviewer, recs[1].id, recs[1].version, "该镇已在整改期内")
    session.commit()
    assert card.rule.kind == "overdue_count" and card.figures == recs[0].figures
    assert dismissed.status == "dismissed" and dismissed.dismiss_reason == "该镇已在整改期内"
    with pytest.raises(ValidationError):
        cards.dismiss(session, reviewer, recs[2].id, recs[2].version, "  ")
    with pytest.raises(WorkflowError):
        cards.issue_recommended(session, reviewer, recs[0].id, recs[0].version)
    again = cards.refresh_recommendations(session, reviewer, plan, Q3)  # decided ones stay decided
    assert len(again) == 4
    statuses = sorted(r.status for r in session.scalars(select(Recommendation)))
    assert statuses == ["dismissed", "issued"] + ["pending"] * 4


def test_plan_due_counts_working_days_and_deadline_skips_holidays(plan, session, frozen):
    exceptions = calendar(session)
    # Friday 25 September 2026 is 中秋; 1–7 October are holidays, 10 October a working Saturday
    assert add_working_days(date(2026, 9, 25), 5, exceptions) == date(2026, 10, 9)
    assert add_working_days(date(2026, 11, 27), 5, exceptions) == date(2026, 12, 4)
    frozen(2026, 9, 25, 9)
    card = cards.issue_card(
        session,
        get_user(session, "reviewer"),
        unit_id=get_unit(session, "青石镇").id,
        colour="yellow",
        reason="宣传滞后",
        period="2026-Q3",
    )
    assert card.plan_due == date(2026, 10, 9)
    assert card.deadline == date(2026, 10, 26)  # 30 days is Sunday 25 October: the next working day


def test_escalation_at_the_deadline(plan, session, frozen):
    reviewer = get_user(session, "reviewer")
    frozen(2026, 9, 25, 9)
    yellow = cards.issue_card(
        session, reviewer, unit_id=get_unit(session, "青石镇").id, colour="yellow", reason="宣传滞后", period="2026-Q3"
    )
    session.commit()
    assert cards.escalate_overdue(session, reviewer, date(2026, 10, 26)) == []  # on the deadline: not yet
    made = cards.escalate_overdue(session, reviewer, date(2026, 10, 27))
    assert [r.escalates_card_id for r in made] == [yellow.id] and made[0].colour == "red"
    assert cards.escalate_overdue(session, reviewer, date(2026, 10, 28)) == []  # once per card
    assert cards.card_state(yellow, date(2026, 10, 27))[1] == "逾期未整改"
    frozen(2026, 10, 28, 9)
    red = cards.issue_recommended(session, reviewer, made[0].id, made[0].version)
    session.commit()
    assert red.colour == "red" and red.escalated_from_id == yellow.id and yellow.status == "escalated"


def test_escalate_cli(plan, session, app, frozen):
    frozen(2026, 9, 25, 9)
    cards.issue_card(
        session,
        get_user(session, "reviewer"),
        unit_id=get_unit(session, "青石镇").id,
        colour="yellow",
        reason="宣传滞后",
        period="2026-Q3",
    )
    session.commit()
    result = app.test_cli_runner().invoke(args=["cards", "escalate", "--today", "2026-10-27"])
    assert result.exit_code == 0 and "1 escalation(s)" in result.output


def test_recommend_cli_prints_rule_and_figures(plan, session, app):
    _only_rule(session, "cases_surge")
    _quarter(session, 2025, "青石镇", 20)
    _quarter(session, 2026, "青石镇", 40)
    result = app.test_cli_runner().invoke(args=["cards", "recommend", "--period", "2026-Q3", "--json"])
    import json

    data = json.loads(result.output)
    first = data["recommendations"][0]
    assert first["rule"] == "R3" and first["figures"]["cases"]["value"] == "40"


def test_rectification_and_lifting_a_yellow_card(plan, session, frozen):
    reviewer, officer, other = get_user(session, "reviewer"), get_user(session, "town1"), get_user(session, "town2")
    frozen(2026, 10, 20, 9)
    card = cards.issue_card(
        session, reviewer, unit_id=get_unit(session, "青石镇").id, colour="yellow", reason="宣传滞后", period="2026-Q3"
    )
    with pytest.raises(PermissionDenied):
        cards.submit_rectification(session, other, card.id, "plan", "别人的方案")
    with pytest.raises(WorkflowError, match="整改方案通过"):
        cards.submit_rectification(session, officer, card.id, "report", "先报报告")
    with pytest.raises(WorkflowError, match="摘牌条件"):
        cards.lift(session, reviewer, card.id, card.version, "同意")
    plan_ = cards.submit_rectification(session, officer, card.id, "plan", "一、二、三")
    with pytest.raises(PermissionDenied):
        cards.review_rectification(session, officer, plan_.id, plan_.version, "accept")
    cards.review_rectification(session, reviewer, plan_.id, plan_.version, "accept")
    with pytest.raises(PermissionDenied):
        cards.lift(session, officer, card.id, card.version, "自己摘")
    lifted = cards.lift(session, reviewer, card.id, card.version, "整改到位")
    assert lifted.status == "lifted" and cards.card_state(lifted)[1] == "已摘牌"


def test_red_card_lifting_conditions(plan, session, frozen):
    reviewer, officer = get_user(session, "reviewer"), get_user(session, "town1")
    town = get_unit(session, "青石镇")
    frozen(2026, 7, 10, 9)
    red = cards.issue_card(session, reviewer, unit_id=town.id, colour="red", reason="案件高发", period="2026-Q2")
    r = cards.submit_rectification(session, officer, red.id, "plan", "整改方案")
    cards.review_rectification(session, reviewer, r.id, r.version, "accept")
    session.commit()
    frozen(2026, 8, 28, 9)  # the August report, due on the month's last working day (Monday 31 August)
    aug = cards.submit_rectification(session, officer, red.id, "report", "八月整改进展")
    cards.review_rectification(session, reviewer, aug.id, aug.version, "accept")
    session.commit()
    frozen(2026, 9, 20, 9)
    conds = {c.label: c.ok for c in lifting.lift_conditions(session, red)}
    assert conds == {
        "整改方案已审核认可": True,
        "挂牌满3个月": False,
        "连续2个月发案同比下降": False,
        "整改事项全部办结": True,
    }
    for day, text in ((date(2026, 9, 29), "九月整改进展"), (date(2026, 10, 29), "十月整改进展")):
        frozen(day.year, day.month, day.day, 9)
        rep = cards.submit_rectification(session, officer, red.id, "report", text)
        cards.review_rectification(session, reviewer, rep.id, rep.version, "accept")
        session.commit()
    frozen(2026, 11, 12, 9)
    for m, (last, now) in {"07": (20, 15), "08": (20, 16), "09": (20, 12), "10": (20, 11)}.items():
        put_figures(session, f"2025-{m}", "青石镇", cases=last)
        put_figures(session, f"2026-{m}", "青石镇", cases=now)
    report = cards.submit_rectification(session, officer, red.id, "report", "十一月整改进展")
    conds = {c.label: c.ok for c in lifting.lift_conditions(session, red)}
    assert conds["挂牌满3个月"] and conds["连续2个月发案同比下降"] and not conds["整改事项全部办结"]
    cards.review_rectification(session, reviewer, report.id, report.version, "accept")
    assert all(c.ok for c in lifting.lift_conditions(session, red))
    cards.lift(session, reviewer, red.id, red.version, "挂牌期满,发案连续下降,同意摘牌")


def test_card_pages_and_permissions(plan, session, client, auth, frozen):
    reviewer = get_user(session, "reviewer")
    card = cards.issue_card(
        session, reviewer, unit_id=get_unit(session, "青石镇").id, colour="yellow", reason="宣传滞后", period="2026-Q3"
    )
    session.commit()
    auth.login("town2")
    assert client.get(f"/cards/{card.id}").status_code == 403
    assert "宣传滞后" not in client.get("/cards/").get_data(as_text=True)
    auth.logout()
    auth.login("town1")
    html = client.get(f"/cards/{card.id}").get_data(as_text=True)
    assert "宣传滞后" in html and "报送整改方案" in html
    resp = client.post(f"/cards/{card.id}/rectify", data={"kind": "plan", "text": "整改方案正文"})
    assert resp.status_code == 302
    assert (
        client.post("/cards/issue", data={"unit_id": card.unit_id, "colour": "red", "reason": "x"}).status_code == 403
    )
    auth.logout()
    auth.login("reviewer")
    board = client.get("/cards/").get_data(as_text=True)
    assert "青石镇" in board and "黄牌" in board
    resp = client.post(
        "/cards/issue",
        data={"unit_id": get_unit(session, "柳溪镇").id, "colour": "yellow", "reason": "", "period": "2026-Q3"},
    )
    assert resp.status_code == 302
    assert "请填写理由" in client.get("/cards/").get_data(as_text=True)


def test_carded_unit_sees_the_card_on_its_to_do(plan, session, client, auth):
    card = cards.issue_card(
        session,
        get_user(session, "reviewer"),
        unit_id=get_unit(session, "青石镇").id,
        colour="red",
        reason="案件高发,挂牌整治",
        period="2026-Q3",
    )
    session.commit()
    auth.login("town1")
    html = client.get("/progress/todo").get_data(as_text=True)
    assert "红黄牌整改(1)" in html and "案件高发,挂牌整治" in html and f"/cards/{card.id}" in html
    auth.logout()
    auth.login("town2")
    assert "红黄牌整改" not in client.get("/progress/todo").get_data(as_text=True)


# -- rules a reviewer trusts -----------------------------------------------------------------------------------


def test_small_base_town_is_judged_by_the_increase_in_cases(plan, session):
    for r in session.scalars(select(CardRule)):
        r.is_active = r.kind in ("cases_surge", "cases_up_while_district_down")
    session.commit()
    _quarter(session, 2025, "青石镇", 3)
    _quarter(session, 2026, "青石镇", 9)  # 3 → 9: +6 cases, last year under the base of 10
    _quarter(session, 2025, "柳溪镇", 3)
    _quarter(session, 2026, "柳溪镇", 7)  # 3 → 7: +4 cases: Y2 (+3) yes, R3 (+5) no
    _quarter(session, 2025, "云岭镇", 100)
    _quarter(session, 2026, "云岭镇", 50)  # the district falls: 106 → 66
    fired = {(f.unit.name, f.rule.code) for f in card_rules.evaluate(session, plan, Q3)}
    assert fired == {("青石镇", "R3"), ("青石镇", "Y2"), ("柳溪镇", "Y2")}
    r3 = next(f for f in _fired(session, plan, "cases_surge"))
    assert "增加6起" in r3.reason and "不足10起" in r3.reason and "增加5起以上" in r3.reason
    # the threshold is the district's to set: +7 cases needed, and 3 → 9 no longer fires R3
    rule = session.scalar(select(CardRule).where(CardRule.code == "R3"))
    rule.params = {**rule.params, "abs": 7}
    session.commit()
    assert _fired(session, plan, "cases_surge") == []


def test_small_base_thresholds_on_the_rules_settings_page(plan, session, client, auth):
    auth.login("admin")
    html = client.get("/assessment/scheme").get_data(as_text=True)
    assert "小基数(去年同期少于几起)" in html and "小基数时增加(起)" in html
    rule = session.scalar(select(CardRule).where(CardRule.code == "Y2"))
    resp = client.post(
        f"/assessment/scheme/rules/{rule.id}",
        data={"version": rule.version, "pct": 20, "small_base": 8, "abs": 4, "is_active": "y"},
    )
    assert resp.status_code == 302
    session.expire_all()
    assert session.get(CardRule, rule.id).params == {"pct": 20, "small_base": 8, "abs": 4}


def test_consecutive_months_look_across_the_quarter_boundary(plan, session, frozen):
    _only_rule(session, "cases_up_consecutive_months")
    for m, (last, now) in {"06": (10, 12), "07": (10, 11), "08": (10, 9), "09": (10, 8)}.items():
        put_figures(session, f"2025-{m}", "青石镇", cases=last)
        put_figures(session, f"2026-{m}", "青石镇", cases=now)
    # mid-August, Q3 still running: the last two complete months are June (Q2) and July (Q3), both up
    frozen(2026, 8, 15, 9)
    fired = _fired(session, plan, "cases_up_consecutive_months")
    assert [f.unit.name for f in fired] == ["青石镇"]
    assert set(fired[0].figures["months"]) == {"2026-06", "2026-07"}
    # after the quarter: August and September fell, so nothing fires
    frozen(2026, 10, 20, 9)
    assert _fired(session, plan, "cases_up_consecutive_months") == []


def test_three_consecutive_months_reach_into_the_previous_quarter(plan, session):
    _only_rule(session, "cases_up_consecutive_months")
    rule = session.scalar(select(CardRule).where(CardRule.code == "Y3"))
    rule.params = {"months": 4}
    session.commit()
    for m in ("06", "07", "08", "09"):  # June to September: four months up, one of them in Q2
        put_figures(session, f"2025-{m}", "青石镇", cases=10)
        put_figures(session, f"2026-{m}", "青石镇", cases=11)
    fired = _fired(session, plan, "cases_up_consecutive_months")
    assert sorted(fired[0].figures["months"]) == ["2026-06", "2026-07", "2026-08", "2026-09"]


def test_ties_at_the_bottom_are_all_flagged(plan, session):
    _only_rule(session, "rank_bottom")
    # three pairs with identical figures. Every town has 18 member reports due and none sent (0 of 15, overdue
    # −10 capped); lead tasks, decisions and cards are not applicable, so the maximum is 40 + 15 = 55:
    #   cases fell:              outcome 40 × 1/1 = 40 → 100 × 40/55 = 72.73 − 10 = 62.73
    #   cases fell, losses rose: outcome 40 × 1/2 = 20 → 100 × 20/55 = 36.36 − 10 = 26.36
    #   cases rose:              outcome 0              → 0 − 10, never below 0 = 0.00
    # -> ranks 1,1,3,3,5,5; the third from the bottom holds rank 3
    for town in ("青石镇", "柳溪镇"):
        _quarter(session, 2025, town, 20)
        _quarter(session, 2026, town, 10)
    for town in ("云岭镇", "白沙镇"):
        put_figures(session, "2025-07", town, cases=20, losses="10.00")
        put_figures(session, "2026-07", town, cases=10, losses="12.00")
    for town in ("东湖街道", "南山街道"):
        _quarter(session, 2025, town, 20)
        _quarter(session, 2026, town, 25)
    fired = _fired(session, plan, "rank_bottom")
    assert sorted((f.figures["rank"], f.figures["score"]) for f in fired) == [
        (3, "26.36"),
        (3, "26.36"),
        (5, "0.00"),
        (5, "0.00"),
    ]
    assert {f.unit.name for f in fired} == {"云岭镇", "白沙镇", "东湖街道", "南山街道"}
    assert "并列" in fired[0].reason


def test_no_second_card_for_the_same_rule_and_figures(plan, session, client, auth):
    _only_rule(session, "overdue_count")
    reviewer = get_user(session, "reviewer")
    q3 = cards.refresh_recommendations(session, reviewer, plan, Q3)
    first = next(r for r in q3 if r.unit.name == "青石镇")
    card = cards.issue_recommended(session, reviewer, first.id, first.version)
    session.commit()
    # Q2 has the same count of overdue reports for 青石镇 (no reports at all): the same figures
    q2 = cards.refresh_recommendations(session, reviewer, plan, Period.parse("2026-Q2"))
    session.commit()
    again = next(r for r in q2 if r.unit.name == "青石镇")
    assert again.figures == card.figures
    with pytest.raises(WorkflowError, match=f"#{card.id}.*在整改中"):
        cards.issue_recommended(session, reviewer, again.id, again.version)
    session.rollback()
    auth.login("reviewer")
    html = client.get("/cards/").get_data(as_text=True)
    assert f"已在整改中(#{card.id})" in html
    # the other towns' recommendations keep their button: 2 quarters x 6 towns - 1 issued - 1 in progress
    assert html.count('data-confirm="向') == 10
    # the pages find them for all 11 pending recommendations at once, as same_active_card does one by one
    pending = cards.pending(session)
    one_by_one = {r.id: c for r in pending if (c := cards.same_active_card(session, r.unit_id, r.rule, r.figures))}
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(session.get_bind(), "before_cursor_execute", count)
    try:
        found = cards.in_progress(session, pending)
    finally:
        event.remove(session.get_bind(), "before_cursor_execute", count)
    assert len(pending) == 11 and found == one_by_one == {again.id: card}
    assert len(statements) == 1


# -- red-card timing -------------------------------------------------------------------------------------------


def test_red_card_deadline_is_never_before_the_earliest_lifting_day(plan, session):
    wc = load_calendar(session)
    red = session.get(CardColour, "red")
    day, before = date(2026, 1, 1), 0
    while day.year == 2026:
        _, deadline = cards.deadlines(session, "red", day, wc)
        if deadline < lifting.earliest_lifting(red, day):
            before += 1
        day += timedelta(days=1)
    assert before == 0  # of 365 issue dates (91 days alone, moved to a working day, fell before it on 144)
    # 10 July: 91 days is Friday 9 October, the listing ends Saturday 10 October, a 调休 working day
    assert cards.deadlines(session, "red", date(2026, 7, 10), wc)[1] == date(2026, 10, 10)
    # 31 January: listing ends 30 April; 91 days is Saturday 2 May, 3 May Sunday, 4-5 May 劳动节: Wednesday 6 May
    assert cards.deadlines(session, "red", date(2026, 1, 31), wc)[1] == date(2026, 5, 6)


def test_a_deadline_before_the_listing_ends_is_refused(plan, session, frozen):
    reviewer = get_user(session, "reviewer")
    frozen(2026, 7, 10, 9)
    kwargs = dict(unit_id=get_unit(session, "青石镇").id, colour="red", reason="案件高发", period="2026-Q3")
    with pytest.raises(ValidationError, match="不能早于最早摘牌日2026年10月10日"):
        cards.issue_card(session, reviewer, deadline=date(2026, 10, 9), **kwargs)
    red = cards.issue_card(session, reviewer, deadline=date(2026, 10, 12), **kwargs)
    assert red.deadline == date(2026, 10, 12)
    with pytest.raises(ValidationError, match="最早摘牌日"):
        cards.edit_card(session, reviewer, red.id, red.version, reason="案件高发", deadline=date(2026, 9, 30))


def test_monthly_rectification_reports_are_tracked(plan, session, frozen, client, auth):
    reviewer, officer = get_user(session, "reviewer"), get_user(session, "town1")
    frozen(2026, 7, 10, 9)
    red = cards.issue_card(
        session, reviewer, unit_id=get_unit(session, "青石镇").id, colour="red", reason="案件高发", period="2026-Q2"
    )
    p = cards.submit_rectification(session, officer, red.id, "plan", "整改方案")
    cards.review_rectification(session, reviewer, p.id, p.version, "accept")
    session.commit()
    frozen(2026, 8, 20, 9)
    cards.submit_rectification(session, officer, red.id, "report", "八月")  # by Monday 31 August: on time
    session.commit()
    frozen(2026, 10, 9, 9)
    cards.submit_rectification(session, officer, red.id, "report", "九月")  # after Wednesday 30 September: late
    session.commit()
    frozen(2026, 11, 12, 9)
    m = lifting.monthly_reports(session, red)
    # due: 31 Aug (Mon), 30 Sep (Wed), 30 Oct (Fri, 31 Oct is a Saturday); 30 Nov (Mon) still to come
    assert [(r.due, r.state) for r in m.rows] == [
        (date(2026, 8, 31), "on_time"),
        (date(2026, 9, 30), "late"),
        (date(2026, 10, 30), "overdue"),
        (date(2026, 11, 30), "pending"),
    ]
    assert (m.due_count, m.filed, m.late, m.overdue) == (3, 2, 1, 1)
    done = next(c for c in lifting.lift_conditions(session, red) if c.label == "整改事项全部办结")
    assert not done.ok and "应报3份,已报2份,逾期未报1份" in done.detail
    auth.login("reviewer")
    assert "整改报告逾期1份" in client.get("/cards/").get_data(as_text=True)
    page = client.get(f"/cards/{red.id}").get_data(as_text=True)
    assert "逾期未报1份" in page and "迟报" in page and "2026年11月30日前" in page
    with pytest.raises(WorkflowError, match="应报3份,已报2份"):
        cards.lift(session, reviewer, red.id, red.version, "同意")


def test_lifting_text_never_shows_none(plan, session, frozen):
    frozen(2026, 7, 10, 9)
    red = cards.issue_card(
        session,
        get_user(session, "reviewer"),
        unit_id=get_unit(session, "青石镇").id,
        colour="red",
        reason="案件高发",
        period="2026-Q2",
    )
    frozen(2026, 11, 12, 9)  # no figures entered for September and October
    text = ";".join(c.detail for c in lifting.lift_conditions(session, red))
    assert "None" not in text and "2026年9月未录入" in text


def test_a_published_quarter_keeps_the_overdue_count_its_scores_used(plan, session, frozen):
    """Y4 after publication reads the count the published scorecard deducted for, not what was filed since."""
    from tracker.assessment import publishing, results
    from tracker.progress import service as progress

    _only_rule(session, "overdue_count")
    reviewer, officer, town = get_user(session, "reviewer"), get_user(session, "town1"), get_unit(session, "青石镇")
    # Q3 published on 2026-10-20 with nothing filed: 6 tasks × 3 months = 18 overdue reports for 青石镇
    publishing.publish(session, reviewer, plan, Q3)
    session.commit()
    assert results.quarter_results(session, plan, Q3).row(town.id)["overdue"] == {"reports": 18, "decisions": 0}

    # then the officer files 16 of them late: live, 2 would remain (16 = 6 tasks in July and August + 4 in September)
    frozen(2026, 10, 22, 9)
    for month in ("2026-07", "2026-08", "2026-09"):
        for task in plan.tasks if month != "2026-09" else plan.tasks[:4]:
            r = progress.save_draft(
                session,
                officer,
                task_id=task.id,
                unit_id=town.id,
                period=month,
                fields={"progress": "补报", "completion": "已完成"},
            )
            progress.submit_report(session, officer, r.id, r.version)
    session.commit()

    fired = {f.unit.name: f for f in _fired(session, plan, "overdue_count")}
    assert fired["青石镇"].figures["overdue_reports"] == 18 and "逾期未报报告18份" in fired["青石镇"].reason

    # re-opened, the quarter is live again: 18 − 16 = 2 still overdue, which still reaches the threshold of 2
    publishing.reopen(session, reviewer, Q3, "补报后重新核算")
    session.commit()
    fired = {f.unit.name: f for f in _fired(session, plan, "overdue_count")}
    assert fired["青石镇"].figures["overdue_reports"] == 2 and "逾期未报报告2份" in fired["青石镇"].reason


def test_card_page_offers_the_next_rectification_step_only(plan, session, frozen, client, auth):
    """No plan yet: the form files the plan. Plan waiting for review: no form (a report would be refused with
    整改方案通过审核后再报送整改报告), a note instead. Plan accepted: the form files a monthly report."""
    reviewer, officer = get_user(session, "reviewer"), get_user(session, "town1")
    frozen(2026, 10, 20, 9)
    card = cards.issue_card(
        session, reviewer, unit_id=get_unit(session, "青石镇").id, colour="yellow", reason="宣传滞后", period="2026-Q3"
    )
    session.commit()
    auth.login("town1")
    page = client.get(f"/cards/{card.id}").get_data(as_text=True)
    assert "报送整改方案</button>" in page and "整改方案已报送" not in page
    plan_ = cards.submit_rectification(session, officer, card.id, "plan", "一、二、三")
    session.commit()
    page = client.get(f"/cards/{card.id}").get_data(as_text=True)
    assert "整改方案已报送,待审核" in page
    assert "报送整改报告</button>" not in page and "报送整改方案</button>" not in page
    cards.review_rectification(session, reviewer, plan_.id, plan_.version, "accept")
    session.commit()
    page = client.get(f"/cards/{card.id}").get_data(as_text=True)
    assert "报送整改报告</button>" in page and "整改方案已报送" not in page
