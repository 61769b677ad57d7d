"""The monthly progress-report workflow: draft, submit, return, resubmit, accept; urges; overdue and late."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tracker.audit.models import AuditEvent
from tracker.errors import PermissionDenied, StaleEdit, ValidationError, WorkflowError
from tracker.periods import Period
from tracker.plans.service import active_plan
from tracker.progress import service as progress
from tracker.progress.models import ACCEPTED, DRAFT, RETURNED, SUBMITTED, Urge

from .conftest import get_unit, get_user

TEXT = {
    "progress": "张贴防骗海报120张,建立班级微信群8个",
    "completion": "完成本月宣传计划",
    "problems": "",
    "next_steps": "下月开展讲座",
}


@pytest.fixture
def world(seeded, session, frozen):
    frozen(2026, 11, 10, 9)
    return {
        "town": get_unit(session, "青石镇"),
        "town2": get_unit(session, "柳溪镇"),
        "officer": get_user(session, "town1"),
        "officer2": get_user(session, "town2"),
        "reviewer": get_user(session, "reviewer"),
        "admin": get_user(session, "admin"),
        "police": get_user(session, "police"),
    }


def _draft(session, w, task_id=3, period="2026-11", fields=TEXT):
    r = progress.save_draft(session, w["officer"], task_id=task_id, unit_id=w["town"].id, period=period, fields=fields)
    session.commit()
    return r


def test_draft_submit_return_resubmit_accept_keeps_history(session, world):
    w = world
    r = _draft(session, w)
    assert r.status == DRAFT
    r = progress.submit_report(session, w["officer"], r.id, r.version)
    assert r.status == SUBMITTED and not r.is_late
    r = progress.review_report(session, w["reviewer"], r.id, r.version, "return", "请补充讲座场次")
    assert r.status == RETURNED and r.review_comment == "请补充讲座场次"
    r = progress.save_draft(
        session,
        w["officer"],
        task_id=3,
        unit_id=w["town"].id,
        period="2026-11",
        fields=dict(TEXT, completion="完成,讲座2场"),
        version=r.version,
    )
    assert r.status == RETURNED  # still returned until resubmitted
    r = progress.submit_report(session, w["officer"], r.id, r.version)
    r = progress.review_report(session, w["reviewer"], r.id, r.version, "accept")
    session.commit()
    assert r.status == ACCEPTED
    assert [e.action for e in r.events] == ["save", "submit", "return", "save", "submit", "accept"]
    assert r.events[0].content["completion"] == "完成本月宣传计划"
    assert r.events[3].content["completion"] == "完成,讲座2场"
    actions = session.scalars(
        select(AuditEvent.action).where(AuditEvent.object_type == "ProgressReport").order_by(AuditEvent.id)
    ).all()
    assert actions == ["report.save", "report.submit", "report.return", "report.save", "report.submit", "report.accept"]


def test_officer_cannot_review(session, world):
    r = _draft(session, world)
    r = progress.submit_report(session, world["officer"], r.id, r.version)
    with pytest.raises(PermissionDenied):
        progress.review_report(session, world["officer"], r.id, r.version, "accept")


def test_admin_cannot_review_or_write(session, world):
    r = _draft(session, world)
    with pytest.raises(PermissionDenied):
        progress.submit_report(session, world["admin"], r.id, r.version)
    r = progress.submit_report(session, world["officer"], r.id, r.version)
    with pytest.raises(PermissionDenied):
        progress.review_report(session, world["admin"], r.id, r.version, "accept")


def test_other_units_officer_cannot_write_or_submit(session, world):
    r = _draft(session, world)
    with pytest.raises(PermissionDenied):
        progress.submit_report(session, world["officer2"], r.id, r.version)
    with pytest.raises(PermissionDenied):
        progress.save_draft(
            session,
            world["officer2"],
            task_id=3,
            unit_id=world["town"].id,
            period="2026-11",
            fields=TEXT,
            version=r.version,
        )


def test_accepted_report_cannot_be_edited_or_resubmitted(session, world):
    w = world
    r = _draft(session, w)
    r = progress.submit_report(session, w["officer"], r.id, r.version)
    r = progress.review_report(session, w["reviewer"], r.id, r.version, "accept")
    with pytest.raises(WorkflowError):
        progress.save_draft(
            session, w["officer"], task_id=3, unit_id=w["town"].id, period="2026-11", fields=TEXT, version=r.version
        )
    with pytest.raises(WorkflowError):
        progress.submit_report(session, w["officer"], r.id, r.version)
    with pytest.raises(WorkflowError):
        progress.review_report(session, w["reviewer"], r.id, r.version, "return", "再改改")


def test_submitted_report_cannot_be_edited_until_returned(session, world):
    w = world
    r = _draft(session, w)
    r = progress.submit_report(session, w["officer"], r.id, r.version)
    with pytest.raises(WorkflowError):
        progress.save_draft(
            session, w["officer"], task_id=3, unit_id=w["town"].id, period="2026-11", fields=TEXT, version=r.version
        )


def test_return_needs_a_comment_and_draft_cannot_be_reviewed(session, world):
    w = world
    r = _draft(session, w)
    with pytest.raises(WorkflowError):
        progress.review_report(session, w["reviewer"], r.id, r.version, "accept")
    r = progress.submit_report(session, w["officer"], r.id, r.version)
    with pytest.raises(ValidationError, match="退回意见"):
        progress.review_report(session, w["reviewer"], r.id, r.version, "return", "  ")


def test_submit_needs_progress_and_completion(session, world):
    r = _draft(session, world, fields={"progress": "有进展"})
    with pytest.raises(ValidationError, match="完成情况"):
        progress.submit_report(session, world["officer"], r.id, r.version)


def test_unit_without_the_task_cannot_report_on_it(session, world):
    police_unit = get_unit(session, "公安分局")
    # task 3 is led by 办公室; 公安分局 is a member; 检察院 is not in task 3
    court = get_unit(session, "检察院")
    with pytest.raises(ValidationError, match="不是该任务"):
        progress.save_draft(
            session, get_user(session, "procuratorate"), task_id=3, unit_id=court.id, period="2026-11", fields=TEXT
        )
    assert (
        progress.save_draft(
            session, world["police"], task_id=3, unit_id=police_unit.id, period="2026-11", fields=TEXT
        ).status
        == DRAFT
    )


def test_future_month_is_refused(session, world):
    with pytest.raises(ValidationError, match="未来月份"):
        _draft(session, world, period="2026-12")


def test_stale_version_is_a_conflict(session, world):
    r = _draft(session, world)
    old = r.version
    progress.save_draft(
        session,
        world["officer"],
        task_id=3,
        unit_id=world["town"].id,
        period="2026-11",
        fields=dict(TEXT, problems="第二人保存"),
        version=old,
    )
    session.commit()
    with pytest.raises(StaleEdit):
        progress.save_draft(
            session,
            world["officer"],
            task_id=3,
            unit_id=world["town"].id,
            period="2026-11",
            fields=dict(TEXT, problems="第一人保存"),
            version=old,
        )


def test_on_time_late_and_overdue_around_the_due_date(session, world, frozen):
    w = world
    plan = active_plan(session)
    assert plan.due_day == 25
    # submitted on the due date itself (23:30 China time): on time
    frozen(2026, 10, 25, 23, 30)
    r = progress.save_draft(session, w["officer"], task_id=1, unit_id=w["town"].id, period="2026-10", fields=TEXT)
    r = progress.submit_report(session, w["officer"], r.id, r.version)
    assert r.is_late is False
    # submitted the day after: 迟报
    frozen(2026, 10, 26, 0, 5)
    r2 = progress.save_draft(session, w["officer"], task_id=3, unit_id=w["town"].id, period="2026-10", fields=TEXT)
    r2 = progress.submit_report(session, w["officer"], r2.id, r2.version)
    assert r2.is_late is True
    session.commit()
    oct_ = Period.parse("2026-10")
    # on the due date nothing is overdue yet
    counts = progress.timeliness(session, plan, [oct_], today=oct_.end.replace(day=25))
    assert counts == {}
    frozen(2026, 10, 26, 9)
    counts = progress.timeliness(session, plan, [oct_])
    town = counts[w["town"].id]
    # 青石镇 is a member of all six tasks
    assert (town.due, town.on_time, town.late, town.overdue) == (6, 1, 1, 4)
    # a late report returned and resubmitted stays 迟报 but is not overdue
    frozen(2026, 10, 27, 9)
    r2 = progress.review_report(session, w["reviewer"], r2.id, r2.version, "return", "补充")
    r2 = progress.submit_report(session, w["officer"], r2.id, r2.version)
    assert r2.is_late is True
    grid = progress.build_grid(session, plan, oct_)
    assert grid.cell(1, w["town"].id).state == SUBMITTED
    assert grid.cell(2, w["town"].id).state == "overdue"


def test_grid_counts_states(session, world, frozen):
    w = world
    plan = active_plan(session)
    r = _draft(session, w)
    grid = progress.build_grid(session, plan, Period.parse("2026-11"))
    assert grid.cell(3, w["town"].id).state == DRAFT
    assert grid.cell(1, w["town"].id).state == "not_due"
    total = sum(grid.counts.values())
    assert total == len(grid.cells)
    assert grid.counts[DRAFT] == 1
    frozen(2026, 11, 26, 9)
    grid = progress.build_grid(session, plan, Period.parse("2026-11"))
    assert grid.counts["overdue"] == total  # the draft too: not submitted by the due date
    assert r.id == grid.cell(3, w["town"].id).report_id


def test_urge_is_recorded_and_shown_to_the_unit(session, world, client, auth):
    w = world
    u = progress.urge(
        session, w["reviewer"], task_id=1, unit_id=w["town"].id, period="2026-11", message="请于25日前报送"
    )
    session.commit()
    assert u.id and session.scalar(select(AuditEvent).where(AuditEvent.action == "report.urge"))
    auth.login("town1")
    html = client.get("/progress/todo").get_data(as_text=True)
    assert "请于25日前报送" in html and "1 条未读" in html
    client.post("/progress/urges/read")
    session.expire_all()
    assert session.get(Urge, u.id).read_at is not None
    html = client.get("/progress/todo").get_data(as_text=True)
    assert "条未读" not in html


def test_urge_refused_for_submitted_report_and_for_officers(session, world):
    w = world
    r = _draft(session, w, task_id=1)
    progress.submit_report(session, w["officer"], r.id, r.version)
    with pytest.raises(WorkflowError):
        progress.urge(session, w["reviewer"], task_id=1, unit_id=w["town"].id, period="2026-11")
    with pytest.raises(PermissionDenied):
        progress.urge(session, w["officer"], task_id=2, unit_id=w["town"].id, period="2026-11")


def test_todo_lists_owed_returned_and_earlier_missing(session, world, frozen):
    w = world
    plan = active_plan(session)
    frozen(2026, 10, 20, 9)
    r = progress.save_draft(session, w["officer"], task_id=1, unit_id=w["town"].id, period="2026-10", fields=TEXT)
    r = progress.submit_report(session, w["officer"], r.id, r.version)
    r = progress.review_report(session, w["reviewer"], r.id, r.version, "return", "数据不全")
    session.commit()
    frozen(2026, 11, 10, 9)
    todo = progress.unit_todo(session, plan, w["town"])
    assert len(todo.current) == 6 and {i.state for i in todo.current} == {"not_due"}
    assert [x.id for x in todo.returned] == [r.id]
    assert {(i.period.code, i.duty.task.number) for i in todo.missing_earlier} >= {("2026-10", 2), ("2026-09", 1)}


def test_officer_web_flow_and_reviewer_accepts(session, world, client, auth):
    w = world
    auth.login("town1")
    url = f"/progress/tasks/3/units/{w['town'].id}/2026-11"
    resp = client.post(url, data={**TEXT, "action": "submit"})
    assert resp.status_code == 302
    assert client.get(url).get_data(as_text=True).count("已报送") >= 1
    auth.logout()
    auth.login("reviewer")
    report = progress.find_report(session, 3, w["town"].id, "2026-11")
    session.refresh(report)
    resp = client.post(f"/progress/reports/{report.id}/review", data={"version": report.version, "decision": "accept"})
    assert resp.status_code == 302
    session.refresh(report)
    assert report.status == ACCEPTED
    grid = client.get("/progress/grid?period=2026-11").get_data(as_text=True)
    assert "cell state-accepted" in grid


def test_officer_sees_only_own_reports(session, world, client, auth):
    w = world
    _draft(session, w)
    progress.save_draft(
        session,
        w["officer2"],
        task_id=3,
        unit_id=w["town2"].id,
        period="2026-11",
        fields=dict(TEXT, progress="柳溪镇的进展"),
    )
    session.commit()
    auth.login("town1")
    html = client.get("/progress/reports").get_data(as_text=True)
    assert "青石镇" in html and "柳溪镇" not in html
    assert client.get(f"/progress/tasks/3/units/{w['town2'].id}/2026-11").status_code == 403
    assert client.get(f"/progress/reports?unit={w['town2'].id}").status_code == 403
