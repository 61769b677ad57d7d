"""The plan's period, the one definition of a report's state, and the month the meeting agenda shows.

Every expected figure is worked out by hand in a comment next to it. The seed plan has six tasks; every town is a
member of all six (各镇(街道)) and leads none; a month has 62 (task, unit) pairs across the district.
"""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import func, select

from tracker.assessment import card_rules, scoring
from tracker.audit.models import AuditEvent
from tracker.errors import ValidationError
from tracker.meetings import service as meetings
from tracker.periods import Period
from tracker.plans.service import active_plan, update_period
from tracker.progress import service as progress
from tracker.progress.models import Urge

from .conftest import get_unit, get_user

TEXT = {"progress": "开展入户宣传", "completion": "完成本月计划"}


@pytest.fixture
def world(seeded, session):
    return {
        "plan": active_plan(session),
        "town": get_unit(session, "青石镇"),
        "officer": get_user(session, "town1"),
        "reviewer": get_user(session, "reviewer"),
        "admin": get_user(session, "admin"),
    }


def _submit(session, w, task, period, *, review=None):
    r = progress.save_draft(session, w["officer"], task_id=task, unit_id=w["town"].id, period=period, fields=TEXT)
    r = progress.submit_report(session, w["officer"], r.id, r.version)
    if review:
        r = progress.review_report(session, w["reviewer"], r.id, r.version, review, "请补充数据")
    session.commit()
    return r


def _draft(session, w, task, period):
    r = progress.save_draft(session, w["officer"], task_id=task, unit_id=w["town"].id, period=period, fields=TEXT)
    session.commit()
    return r


def _set_period(session, w, start, end):
    plan = w["plan"]
    session.refresh(plan)
    update_period(session, w["admin"], plan.id, plan.version, start_month=start, end_month=end)
    session.commit()


def _unit_counts(html: str) -> tuple[int, ...]:
    """应报, 按时, 迟报, 逾期未报, 已通过, 被退回待改 as the unit page's table shows them."""
    row = re.search(r"<tbody><tr>(.*?)</tr></tbody>", html, re.S)[1]
    return tuple(int(n) for n in re.findall(r"(\d+) 份", row))


def _grid_footer(html: str, unit_name: str) -> int:
    return int(re.search(rf'data-unit="{unit_name}"><a [^>]*>(\d+)</a>', html)[1])


def _list_total(html: str) -> int:
    return int(re.search(r"共 (\d+) 份", html)[1])


# -- point 1: the plan's period ------------------------------------------------------------------------------------


def test_administrator_sets_the_period_with_checks_conflicts_and_an_audit_event(world, session, client, auth, frozen):
    frozen(2026, 12, 1, 9)
    plan = w_plan = world["plan"]
    assert (plan.start_month, plan.end_month) == ("2026-01", "2026-12")  # the seed plan's year
    auth.login("admin")
    page = client.get("/admin/plan").get_data(as_text=True)
    assert "方案期" in page and "当前:2026年1月—2026年12月" in page

    def post(start, end, version=None):
        return client.post(
            "/admin/plan/period",
            data={"version": w_plan.version if version is None else version, "start_month": start, "end_month": end},
        )

    for start, end, message in [
        ("2026/11", "2026-12", "起始月份须为“年-月”格式,如2026-11,收到“2026/11”"),
        ("2026-13", "2026-12", "起始月份的月份须为01至12,收到“2026-13”"),
        ("2026-12", "2026-11", "起始月份(2026年12月)不能晚于截止月份(2026年11月)"),
    ]:
        resp = post(start, end)
        html = resp.get_data(as_text=True)
        assert resp.status_code == 422 and message in html
        assert f'value="{start}"' in html  # what was typed is shown back
    stale = post("2026-11", "2026-12", version=w_plan.version - 1 if w_plan.version > 1 else 99)
    assert stale.status_code == 409 and "已被他人修改" in stale.get_data(as_text=True)
    session.refresh(plan)
    assert (plan.start_month, plan.end_month) == ("2026-01", "2026-12")  # nothing saved by a refused edit
    resp = post("2026-11", "2026-12")
    assert resp.status_code == 302
    session.refresh(plan)
    assert (plan.start_month, plan.end_month) == ("2026-11", "2026-12")
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "plan.period"))
    assert event.before["start_month"] == "2026-01" and event.after["start_month"] == "2026-11"
    assert event.summary == "修改方案期:2026年11月—2026年12月"
    # officers may not change it
    auth.logout()
    auth.login("town1")
    assert post("2026-01", "2026-12").status_code == 403
    with pytest.raises(ValidationError, match="不能晚于"):
        update_period(session, world["admin"], plan.id, plan.version, start_month="2027-01", end_month="2026-12")


def test_a_plan_starting_in_november_owes_nothing_before_it(world, session, client, auth, frozen):
    w = world
    plan = w["plan"]
    # a draft written in October, while the plan still ran over the whole year: kept, but counted nowhere
    frozen(2026, 10, 20, 9)
    october_draft = _draft(session, w, 1, "2026-10")
    _set_period(session, w, "2026-11", "2026-12")
    # November (due 25 November): task 1 on time, task 2 late, task 3 a draft only, tasks 4-6 nothing
    frozen(2026, 11, 20, 9)
    _submit(session, w, 1, "2026-11")
    _draft(session, w, 3, "2026-11")
    frozen(2026, 11, 27, 9)
    late = _submit(session, w, 2, "2026-11")
    assert late.is_late
    frozen(2026, 12, 20, 9)
    today = date(2026, 12, 20)
    town = w["town"]

    # January to October owe nothing: no due report, no 逾期, for any unit
    jan_to_oct = [Period.month(2026, m) for m in range(1, 11)]
    assert progress.timeliness(session, plan, jan_to_oct, today) == {}
    # the whole year counts November only (December is due on the 25th): 6 due = 1 on time + 1 late + 4 overdue
    t = progress.timeliness(session, plan, Period.ytd(2026, 12).months(), today)[town.id]
    assert (t.due, t.on_time, t.late, t.overdue) == (6, 1, 1, 4)

    # the card rule Y4 (2 or more overdue) reads 4 for the fourth quarter, and nothing at all in the third
    findings = card_rules.evaluate(session, plan, Period.parse("2026-Q4"), today)
    y4 = next(f for f in findings if f.rule.code == "Y4" and f.unit.id == town.id)
    assert y4.figures["overdue_reports"] == 4 and "逾期未报报告4份" in y4.reason
    assert not [f for f in card_rules.evaluate(session, plan, Period.parse("2026-Q3"), today) if f.rule.code == "Y4"]

    # the score's member-report item: 6 due in the quarter (October is outside the plan), 4 overdue
    score = next(s for s in scoring.compute(session, plan, Period.parse("2026-Q4"), today) if s.unit.id == town.id)
    facts = {f.label: f.value for f in next(i for i in score.items if i.code == "member_reports").facts}
    assert facts["应报"] == "6 份" and facts["逾期未报"] == "4 份"
    assert next(a for a in score.adjustments if a.code == "overdue").count == 4

    auth.login("reviewer")
    october = client.get("/progress/grid?period=2026-10").get_data(as_text=True)
    assert "2026年10月不在方案期内(2026年11月—2026年12月),无应报报告" in october
    assert "cell state-" not in october
    november = client.get("/progress/grid?period=2026-11").get_data(as_text=True)
    # 62 pairs: 青石镇's tasks 1 and 2 submitted, the other 60 overdue (青石镇's draft among them)
    assert '<span class="n">60</span> 逾期未报' in november and '<span class="n">2</span> 已报送' in november
    assert _grid_footer(november, "青石镇") == 4
    unit_page = client.get(f"/units/{town.id}").get_data(as_text=True)
    assert "方案期2026年11月—2026年12月" in unit_page
    assert _unit_counts(unit_page) == (6, 1, 1, 4, 0, 0)
    # urging a month outside the plan is refused and nothing is recorded
    resp = client.post(
        "/progress/urge",
        data={"task_id": 4, "unit_id": town.id, "period": "2026-10", "next": "/progress/grid"},
        follow_redirects=True,
    )
    assert "2026年10月不在方案期内(2026年11月—2026年12月),不能催办" in resp.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(Urge)) == 0
    report_page = client.get(f"/progress/tasks/1/units/{town.id}/2026-10").get_data(as_text=True)
    assert "不在方案期内" in report_page and "逾期未报" not in report_page
    auth.logout()

    # the officer's to-do: November's four overdue, the October draft not among them
    auth.login("town1")
    todo = client.get("/", follow_redirects=True).get_data(as_text=True)
    assert "应报 <strong>6</strong> 份:按时 <strong>1</strong> 份,迟报 <strong>1</strong> 份" in todo
    assert "逾期未报 <strong>4</strong> 份" in todo
    assert "以前月份逾期未报(4份,方案期内本月以前)" in todo
    assert "2026年10月" not in todo
    listing = client.get("/progress/reports?status=out_of_plan").get_data(as_text=True)
    assert _list_total(listing) == 1 and "不在方案期内" in listing
    with pytest.raises(ValidationError, match="2026年10月不在方案期内"):
        progress.save_draft(
            session,
            w["officer"],
            task_id=1,
            unit_id=town.id,
            period="2026-10",
            fields=TEXT,
            version=october_draft.version,
        )


# -- point 12: one definition of a report's state, the same counts on every page ----------------------------------


def test_dashboard_unit_page_grid_and_report_list_count_alike(world, session, client, auth, frozen):
    w = world
    town = w["town"]
    _set_period(session, w, "2026-10", "2026-12")
    # October (due 25 October): task 1 on time and accepted, task 2 first submitted on the 28th (迟报), 3-6 nothing
    frozen(2026, 10, 20, 9)
    _submit(session, w, 1, "2026-10", review="accept")
    frozen(2026, 10, 28, 9)
    _submit(session, w, 2, "2026-10")
    # November: task 3 on time and returned, task 1 a draft never submitted, 2, 4, 5, 6 nothing
    frozen(2026, 11, 20, 9)
    _submit(session, w, 3, "2026-11", review="return")
    _draft(session, w, 1, "2026-11")
    # December: task 1 on time, the rest nothing; today, 27 December, December's due day has passed too
    frozen(2026, 12, 20, 9)
    _submit(session, w, 1, "2026-12")
    frozen(2026, 12, 27, 9)
    # overdue: October 4 (tasks 3-6) + November 5 (the draft of task 1, tasks 2, 4, 5, 6) + December 5 (tasks 2-6)
    #   = 14; due 3 months x 6 = 18 = on time 3 (Oct 1, Nov 3, Dec 1) + late 1 (Oct 2) + overdue 14
    # earlier than December: 4 + 5 = 9; accepted 1 (Oct 1), returned awaiting a fix 1 (Nov 3)

    # the officer's 工作台 (the to-do)
    auth.login("town1")
    todo = client.get("/", follow_redirects=True).get_data(as_text=True)
    assert "应报 <strong>18</strong> 份:按时 <strong>3</strong> 份,迟报 <strong>1</strong> 份" in todo
    assert "逾期未报 <strong>14</strong> 份" in todo
    assert "以前月份逾期未报(9份,方案期内本月以前)" in todo
    assert todo.count("(草稿已存)") == 1  # November's task 1
    own_list = client.get("/progress/reports?status=overdue").get_data(as_text=True)
    assert _list_total(own_list) == 14
    auth.logout()

    auth.login("reviewer")
    # the unit page: 应报, 按时, 迟报, 逾期未报, 已通过, 被退回待改
    assert _unit_counts(client.get(f"/units/{town.id}").get_data(as_text=True)) == (18, 3, 1, 14, 1, 1)
    # the grid, month by month: 4 + 5 + 5 = 14; November's draft is 逾期未报 there too
    footers = [
        _grid_footer(client.get(f"/progress/grid?period=2026-{m}").get_data(as_text=True), "青石镇")
        for m in ("10", "11", "12")
    ]
    assert footers == [4, 5, 5] and sum(footers) == 14
    november = client.get("/progress/grid?period=2026-11").get_data(as_text=True)
    assert "任务一 · 青石镇 · 逾期未报" in november
    # the reviewer's 工作台 shows December's grid with the same 5
    assert _grid_footer(client.get("/").get_data(as_text=True), "青石镇") == 5
    # the report list: 14 overdue, the November draft among them as 逾期未报(草稿已存), never 草稿
    overdue = client.get(f"/progress/reports?unit={town.id}&status=overdue").get_data(as_text=True)
    assert _list_total(overdue) == 14 and overdue.count("逾期未报(草稿已存)") == 1
    assert _list_total(client.get(f"/progress/reports?unit={town.id}&status=draft").get_data(as_text=True)) == 0
    # every row of the unit: the 5 saved reports and the 13 overdue pairs with nothing saved = 18 due
    assert _list_total(client.get(f"/progress/reports?unit={town.id}").get_data(as_text=True)) == 18
    # the same figures from the counting function the scores and card rules use
    t = progress.timeliness(session, w["plan"], None, date(2026, 12, 27))[town.id]
    assert (t.due, t.on_time, t.late, t.overdue, t.accepted, t.returned) == (18, 3, 1, 14, 1, 1)


def test_report_state_is_one_definition(world, session, frozen):
    w = world
    plan = w["plan"]
    _set_period(session, w, "2026-11", "2026-12")
    frozen(2026, 11, 20, 9)
    draft = _draft(session, w, 1, "2026-11")
    nov, oct_ = Period.month(2026, 11), Period.month(2026, 10)
    assert progress.report_state(plan, nov, None, date(2026, 11, 25)) == "not_due"  # the due day itself
    assert progress.report_state(plan, nov, draft, date(2026, 11, 25)) == "draft"
    assert progress.report_state(plan, nov, draft, date(2026, 11, 26)) == "overdue"
    assert progress.report_state(plan, nov, None, date(2026, 11, 26)) == "overdue"
    assert progress.report_state(plan, oct_, None, date(2026, 11, 26)) == "out_of_plan"
    # on 26 December both months of the period have fallen due; on the 25th, December's due day itself, November only
    assert [m.code for m in progress.due_months(plan, date(2026, 12, 26))] == ["2026-11", "2026-12"]
    assert [m.code for m in progress.due_months(plan, date(2026, 12, 25))] == ["2026-11"]


# -- point 9: the agenda of a quarter in progress ------------------------------------------------------------------


def test_agenda_of_a_running_quarter_shows_the_last_month_fallen_due(world, session, client, auth, frozen):
    w = world
    # November: 青石镇's task 1 on time and accepted, task 3 submitted late (27 November)
    frozen(2026, 11, 20, 9)
    _submit(session, w, 1, "2026-11", review="accept")
    frozen(2026, 11, 27, 9)
    _submit(session, w, 3, "2026-11")
    frozen(2026, 12, 3, 10)
    m = meetings.schedule_meeting(
        session,
        w["reviewer"],
        title="第四季度联席会议",
        meeting_date=date(2026, 12, 10),
        convener="区委政法委书记",
        unit_ids=[w["town"].id],
        period="2026-Q4",
        location="第一会议室",
    )
    session.commit()
    agenda = meetings.agenda(session, m, date(2026, 12, 3))
    # 3 December: December's reports are due on the 25th, so November is the last month fallen due
    assert agenda.report_month == Period.month(2026, 11) and agenda.report_due == date(2026, 11, 25)
    # 62 pairs: 1 accepted, 1 submitted (late), 60 overdue; nothing 未报 (not yet due)
    assert agenda.report_counts == {
        "not_due": 0,
        "draft": 0,
        "submitted": 1,
        "returned": 0,
        "accepted": 1,
        "overdue": 60,
    }
    auth.login("reviewer")
    page = client.get(f"/meetings/{m.id}").get_data(as_text=True)
    assert "二、2026年11月工作进展报送情况" in page and "2026年12月工作进展" not in page
    assert '<span class="n">60</span> 逾期未报' in page and '<span class="n">62</span>' not in page
    # once December's due day is over, December
    assert meetings.agenda(session, m, date(2026, 12, 26)).report_month == Period.month(2026, 12)
    # a month outside the plan's period is named, with nothing owed
    _set_period(session, w, "2026-12", "2026-12")
    early = meetings.agenda(session, m, date(2026, 12, 3))
    assert early.report_month == Period.month(2026, 11) and early.report_counts == {} and not early.report_in_plan
    assert "2026年11月不在方案期内,无应报报告" in client.get(f"/meetings/{m.id}").get_data(as_text=True)


# -- the demo ------------------------------------------------------------------------------------------------------


def test_demo_plan_runs_from_the_first_month_of_the_demo_reports(app, session, client, auth, frozen, demo_districts):
    import json

    from tracker.plans.models import Task
    from tracker.seed import SEED_DIR

    # the demo as `seed --demo` loads it on 3 December 2026 (seeded once per run)
    demo_districts.install(app, (2026, 12, 3, 9))
    frozen(2026, 12, 3, 9)
    plan = active_plan(session)
    # demo.json keeps 5 months of reports up to today's: August to December 2026
    assert (plan.start_month, plan.end_month) == ("2026-08", "2026-12")
    first_report = session.scalar(select(func.min(progress.ProgressReport.period)))
    assert first_report == "2026-08"
    # the plan's text is the seed's, word for word
    seed = json.loads((SEED_DIR / "plan.json").read_text(encoding="utf-8"))
    tasks = session.scalars(select(Task).where(Task.plan_id == plan.id).order_by(Task.number)).all()
    assert [(t.title, t.body, t.responsibility_text) for t in tasks] == [
        (t["title"], t["body"], t["responsibility_text"]) for t in seed["tasks"]
    ]
    assert plan.title == seed["title"] and plan.preamble == seed["preamble"]
    # January to July owe nothing; 青石镇's counts are the same on its to-do, its unit page and the report list
    assert progress.timeliness(session, plan, Period.ytd(2026, 7).months(), date(2026, 12, 3)) == {}
    town = get_unit(session, "青石镇")
    t = progress.timeliness(session, plan, None, date(2026, 12, 3))[town.id]
    # August to November have fallen due: 4 months x 6 tasks
    assert t.due == 24 and t.on_time + t.late + t.overdue == 24
    auth.login("town1")
    todo = client.get("/", follow_redirects=True).get_data(as_text=True)
    assert f"应报 <strong>24</strong> 份:按时 <strong>{t.on_time}</strong> 份" in todo
    assert f"逾期未报 <strong>{t.overdue}</strong> 份" in todo
    assert _list_total(client.get("/progress/reports?status=overdue").get_data(as_text=True)) == t.overdue
    auth.logout()
    auth.login("reviewer")
    assert _unit_counts(client.get(f"/units/{town.id}").get_data(as_text=True))[:4] == (
        24,
        t.on_time,
        t.late,
        t.overdue,
    )


def test_report_list_shows_the_newest_owed_first_and_says_when_it_is_cut(world, session, client, auth, frozen):
    frozen(2026, 12, 27, 9)
    # the seed plan runs over 2026 and nothing was written: 62 pairs x 12 months = 744 overdue, more than 500
    rows = progress.list_reports(session, world["reviewer"], limit=70)
    assert len(rows) == 70 and {r.state for r in rows} == {"overdue"}
    assert [r.period for r in rows].count("2026-12") == 62 and rows[62].period == "2026-11"
    auth.login("reviewer")
    html = client.get("/progress/reports").get_data(as_text=True)
    assert "共 500 份(只显示最近的500份,请按月份或单位筛选)" in html
    # one month: 62 overdue, all shown
    assert _list_total(client.get("/progress/reports?period=2026-06&status=overdue").get_data(as_text=True)) == 62
