"""Joint meetings: scheduling, holding, decisions followed up as supervised items, overdue, facts, pages, CLI."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from tracker import clock
from tracker.audit.models import AuditEvent
from tracker.errors import PermissionDenied, StaleEdit, ValidationError, WorkflowError
from tracker.meetings import demo as meetings_demo
from tracker.meetings import service as meetings
from tracker.meetings.models import ANSWERED, CLOSED, HELD, OPEN, OVERDUE, RETURNED, SCHEDULED, Decision, Meeting
from tracker.periods import Period
from tracker.plans.service import active_plan
from tracker.progress import service as progress

from .conftest import get_unit, get_user


@pytest.fixture
def world(seeded, session, frozen):
    frozen(2026, 11, 10, 9)
    return {
        "town": get_unit(session, "青石镇"),
        "town2": get_unit(session, "柳溪镇"),
        "police_unit": get_unit(session, "公安分局"),
        "office_unit": get_unit(session, "办公室"),
        "officer": get_user(session, "town1"),
        "officer2": get_user(session, "town2"),
        "police": get_user(session, "police"),
        "reviewer": get_user(session, "reviewer"),
        "admin": get_user(session, "admin"),
    }


def _meeting(
    session, w, *, on=date(2026, 11, 5), period="2026-Q3", title="第三季度联席会议", units=None, held=True
) -> Meeting:
    units = units if units is not None else [w["town"].id, w["police_unit"].id]
    m = meetings.schedule_meeting(
        session,
        w["reviewer"],
        title=title,
        meeting_date=on,
        convener="区委政法委书记",
        unit_ids=units,
        period=period,
        location="第一会议室",
    )
    if held:
        m = meetings.mark_held(session, w["reviewer"], m.id, m.version)
    session.commit()
    return m


def _decision(session, w, meeting, *, lead=None, deadline=date(2026, 11, 30), supporting=(), text="开展入户宣传"):
    d = meetings.record_decision(
        session,
        w["reviewer"],
        meeting.id,
        text=text,
        lead_unit_id=(lead or w["town"]).id,
        supporting_unit_ids=[u.id for u in supporting],
        deadline=deadline,
    )
    session.commit()
    return d


def _answer(session, w, d, text="已完成入户宣传12次", officer=None):
    d = meetings.answer_decision(session, officer or w["officer"], d.id, d.version, text)
    session.commit()
    return d


def _review(session, w, d, verdict, comment=""):
    d = meetings.review_decision(session, w["reviewer"], d.id, d.version, verdict, comment)
    session.commit()
    return d


def _audit_actions(session, object_type):
    return session.scalars(
        select(AuditEvent.action).where(AuditEvent.object_type == object_type).order_by(AuditEvent.id)
    ).all()


# -- meetings ------------------------------------------------------------------------------------------------------


def test_schedule_edit_and_hold_a_meeting_with_audit_events(session, world):
    w = world
    m = _meeting(session, w, held=False)
    assert m.status == SCHEDULED and m.held_at is None and m.period == "2026-Q3"
    assert [u.name for u in m.units] == ["公安分局", "青石镇"]
    m = meetings.update_meeting(
        session,
        w["reviewer"],
        m.id,
        m.version,
        title="第三季度联席会议(扩大)",
        meeting_date=date(2026, 11, 6),
        convener="区长",
        unit_ids=[w["town"].id],
        period="2026-10",
        location="",
        notes="增加议题",
    )
    session.commit()
    assert (m.title, m.date, m.period, [u.name for u in m.units]) == (
        "第三季度联席会议(扩大)",
        date(2026, 11, 6),
        "2026-10",
        ["青石镇"],
    )
    m = meetings.mark_held(session, w["reviewer"], m.id, m.version)
    session.commit()
    assert m.status == HELD and m.held_at == clock.now() and m.held_by_id == w["reviewer"].id
    assert _audit_actions(session, "Meeting") == ["meeting.schedule", "meeting.update", "meeting.hold"]
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.object_type == "Meeting").order_by(AuditEvent.id)
    ).all()
    assert events[1].before["unit_ids"] == sorted([w["town"].id, w["police_unit"].id])
    assert events[1].after["unit_ids"] == [w["town"].id]


def test_held_meeting_is_read_only_and_cannot_be_held_twice(session, world):
    w = world
    m = _meeting(session, w)
    with pytest.raises(WorkflowError, match="已召开"):
        meetings.update_meeting(
            session,
            w["reviewer"],
            m.id,
            m.version,
            title="改名",
            meeting_date=m.date,
            convener="x",
            unit_ids=[w["town"].id],
            period="2026-Q3",
        )
    with pytest.raises(WorkflowError):
        meetings.mark_held(session, w["reviewer"], m.id, m.version)


def test_stale_meeting_edit_is_a_conflict(session, world):
    w = world
    m = _meeting(session, w, held=False)
    old = m.version
    meetings.update_meeting(
        session,
        w["reviewer"],
        m.id,
        old,
        title="新名称",
        meeting_date=m.date,
        convener="甲",
        unit_ids=[w["town"].id],
        period="2026-Q3",
    )
    session.commit()
    with pytest.raises(StaleEdit):
        meetings.update_meeting(
            session,
            w["reviewer"],
            m.id,
            old,
            title="另一个名称",
            meeting_date=m.date,
            convener="乙",
            unit_ids=[w["town"].id],
            period="2026-Q3",
        )
    with pytest.raises(StaleEdit):
        meetings.mark_held(session, w["reviewer"], m.id, old)


def test_only_the_reviewer_schedules_holds_and_records_decisions(session, world):
    w = world
    for actor in (w["officer"], w["admin"]):
        with pytest.raises(PermissionDenied):
            meetings.schedule_meeting(
                session,
                actor,
                title="会",
                meeting_date=date(2026, 11, 5),
                convener="甲",
                unit_ids=[w["town"].id],
                period="2026-Q3",
            )
    m = _meeting(session, w, held=False)
    with pytest.raises(PermissionDenied):
        meetings.mark_held(session, w["officer"], m.id, m.version)
    with pytest.raises(PermissionDenied):
        meetings.record_decision(
            session, w["officer"], m.id, text="x", lead_unit_id=w["town"].id, deadline=date(2026, 11, 30)
        )


def test_future_meeting_cannot_be_held_or_given_decisions(session, world):
    w = world
    m = _meeting(session, w, on=date(2026, 11, 20), held=False)
    with pytest.raises(WorkflowError, match="尚未到"):
        meetings.mark_held(session, w["reviewer"], m.id, m.version)
    with pytest.raises(WorkflowError, match="尚未召开"):
        meetings.record_decision(
            session, w["reviewer"], m.id, text="x", lead_unit_id=w["town"].id, deadline=date(2026, 11, 30)
        )


@pytest.mark.parametrize(
    "change, message",
    [
        ({"period": "2026-13"}, "月份应为1至12"),
        ({"period": "2026"}, "应为季度"),
        ({"period": ""}, "请填写会议研究的期间"),
        ({"unit_ids": []}, "请至少选择一个参会单位"),
        ({"unit_ids": [99999]}, "不存在或已停用"),
        ({"title": "  "}, "请填写会议名称"),
        ({"convener": ""}, "请填写召集人"),
        ({"meeting_date": None}, "请填写会议日期"),
    ],
)
def test_bad_meeting_input_is_refused_in_chinese(session, world, change, message):
    w = world
    values = (
        dict(title="联席会议", meeting_date=date(2026, 11, 5), convener="甲", unit_ids=[w["town"].id], period="2026-Q3")
        | change
    )
    with pytest.raises(ValidationError, match=message):
        meetings.schedule_meeting(session, w["reviewer"], **values)


def test_same_title_on_the_same_day_is_refused(session, world):
    w = world
    _meeting(session, w, held=False)
    with pytest.raises(ValidationError, match="已有同名会议"):
        _meeting(session, w, held=False)


# -- decisions -----------------------------------------------------------------------------------------------------


def test_answer_return_answer_close_keeps_the_whole_trail(session, world, frozen):
    w = world
    m = _meeting(session, w)
    d = _decision(session, w, m, supporting=[w["police_unit"], w["town"]])
    assert d.number == 1 and d.status == OPEN and [u.name for u in d.supporting_units] == ["公安分局"]
    d = _answer(session, w, d, "已宣传5个村")
    assert d.status == ANSWERED and d.answered_at == clock.now()
    d = _review(session, w, d, "return", "请补充其余村的宣传情况")
    assert d.status == RETURNED and d.review_comment == "请补充其余村的宣传情况"
    frozen(2026, 11, 20, 10)
    d = _answer(session, w, d, "12个村已全部完成")
    d = _review(session, w, d, "close", "同意销号")
    assert d.status == CLOSED and d.closed_on_time is True and d.closed_by_id == w["reviewer"].id
    assert [(e.action, e.body) for e in d.events] == [
        ("create", "开展入户宣传"),
        ("answer", "已宣传5个村"),
        ("return", "请补充其余村的宣传情况"),
        ("answer", "12个村已全部完成"),
        ("close", "同意销号"),
    ]
    assert d.events[1].unit_id == w["town"].id and d.feedback_rounds == 2
    assert _audit_actions(session, "Decision") == [
        "decision.create",
        "decision.answer",
        "decision.return",
        "decision.answer",
        "decision.close",
    ]


def test_officer_cannot_close_or_return_and_reviewer_cannot_answer(session, world):
    w = world
    d = _answer(session, w, _decision(session, w, _meeting(session, w)))
    for verdict in ("close", "return"):
        with pytest.raises(PermissionDenied):
            meetings.review_decision(session, w["officer"], d.id, d.version, verdict, "意见")
    with pytest.raises(PermissionDenied):
        meetings.review_decision(session, w["admin"], d.id, d.version, "close")
    d2 = _decision(session, w, d.meeting, text="第二项")
    with pytest.raises(PermissionDenied):
        meetings.answer_decision(session, w["reviewer"], d2.id, d2.version, "代为反馈")


def test_another_unit_cannot_answer_even_a_supporting_one(session, world):
    w = world
    d = _decision(session, w, _meeting(session, w), supporting=[w["police_unit"]])
    for officer in (w["officer2"], w["police"]):
        with pytest.raises(PermissionDenied):
            meetings.answer_decision(session, officer, d.id, d.version, "我们来答")


def test_closed_item_cannot_be_answered_returned_or_closed_again(session, world):
    w = world
    d = _review(session, w, _answer(session, w, _decision(session, w, _meeting(session, w))), "close")
    with pytest.raises(WorkflowError, match="已销号"):
        meetings.answer_decision(session, w["officer"], d.id, d.version, "补充")
    for verdict in ("close", "return"):
        with pytest.raises(WorkflowError, match="已销号"):
            meetings.review_decision(session, w["reviewer"], d.id, d.version, verdict, "意见")


def test_open_item_cannot_be_reviewed_and_answered_item_waits_for_the_office(session, world):
    w = world
    d = _decision(session, w, _meeting(session, w))
    with pytest.raises(WorkflowError, match="尚未反馈"):
        meetings.review_decision(session, w["reviewer"], d.id, d.version, "close")
    d = _answer(session, w, d)
    with pytest.raises(WorkflowError, match="等待联席办审核"):
        meetings.answer_decision(session, w["officer"], d.id, d.version, "再补充")
    with pytest.raises(ValidationError, match="退回时请填写退回意见"):
        meetings.review_decision(session, w["reviewer"], d.id, d.version, "return", "  ")
    with pytest.raises(ValidationError, match="审核结论无效"):
        meetings.review_decision(session, w["reviewer"], d.id, d.version, "approve")


def test_stale_answer_and_review_are_conflicts(session, world):
    w = world
    d = _decision(session, w, _meeting(session, w))
    old = d.version
    d = _answer(session, w, d)
    with pytest.raises(StaleEdit):
        meetings.review_decision(session, w["reviewer"], d.id, old, "close")
    d = _review(session, w, d, "return", "补充")
    with pytest.raises(StaleEdit):
        meetings.answer_decision(session, w["officer"], d.id, old, "x")


@pytest.mark.parametrize(
    "change, message",
    [
        ({"text": " "}, "请填写议定事项内容"),
        ({"lead_unit_id": None}, "请选择牵头单位"),
        ({"lead_unit_id": 99999}, "不存在或已停用"),
        ({"deadline": None}, "请填写办结期限"),
        ({"deadline": date(2026, 11, 4)}, "不能早于会议日期"),
        ({"text": "字" * 5001}, "不能超过5000字"),
    ],
)
def test_bad_decision_input_is_refused_in_chinese(session, world, change, message):
    w = world
    m = _meeting(session, w)
    values = dict(text="开展宣传", lead_unit_id=w["town"].id, deadline=date(2026, 11, 30)) | change
    with pytest.raises(ValidationError, match=message):
        meetings.record_decision(session, w["reviewer"], m.id, **values)


def test_decisions_can_be_recorded_during_the_meeting_before_it_is_marked_held(session, world):
    w = world
    m = _meeting(session, w, on=date(2026, 11, 10), held=False)
    d = _decision(session, w, m)
    assert d.meeting.status == SCHEDULED
    meetings.mark_held(session, w["reviewer"], m.id, m.version)
    d2 = _decision(session, w, m, text="会后补录")
    assert (d.number, d2.number) == (1, 2)


def test_database_refuses_an_unknown_status(session, world):
    w = world
    d = _decision(session, w, _meeting(session, w))
    d.status = "bogus"
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()


# -- overdue and closing on time -------------------------------------------------------------------------------------


def test_overdue_starts_the_day_after_the_deadline_china_time(session, world, frozen):
    w = world
    d = _decision(session, w, _meeting(session, w), deadline=date(2026, 11, 20))
    frozen(2026, 11, 20, 23, 59)
    assert meetings.decision_status(d) == OPEN
    assert meetings.decision_state(d) == ("not_due", "未反馈")
    frozen(2026, 11, 21, 0, 1)
    assert meetings.decision_status(d) == OVERDUE
    assert meetings.decision_state(d) == ("overdue", "逾期(未反馈)")
    d = _answer(session, w, d)
    assert meetings.decision_status(d) == OVERDUE  # feedback alone does not stop the clock; closing does
    d = _review(session, w, d, "close")
    assert meetings.decision_status(d) == CLOSED and d.closed_on_time is False
    assert meetings.decision_state(d) == ("accepted", "已销号(逾期)")


def test_closing_late_on_the_deadline_evening_still_counts_on_time(session, world, frozen):
    w = world
    d = _answer(session, w, _decision(session, w, _meeting(session, w), deadline=date(2026, 11, 20)))
    frozen(2026, 11, 20, 23, 30)  # 15:30 UTC: the China date is what counts
    d = _review(session, w, d, "close")
    assert d.closed_on_time is True


def test_decision_facts_counts_per_lead_unit(session, world, frozen):
    w = world
    town, town2, police = w["town"], w["town2"], w["police_unit"]
    m = _meeting(session, w, on=date(2026, 10, 15))
    frozen(2026, 10, 16, 9)
    on_time = _decision(session, w, m, deadline=date(2026, 10, 31), text="按期")
    late = _decision(session, w, m, deadline=date(2026, 11, 5), text="逾期销号")
    overdue = _decision(session, w, m, deadline=date(2026, 11, 20), text="逾期未反馈")
    answered_overdue = _decision(session, w, m, deadline=date(2026, 11, 22), text="已反馈但逾期")
    not_due = _decision(session, w, m, deadline=date(2026, 12, 31), text="未到期")
    outside = _decision(session, w, m, deadline=date(2027, 1, 15), text="期限在季度外")
    other = _decision(session, w, m, lead=town2, deadline=date(2026, 11, 1), text="柳溪镇")
    police_item = _decision(session, w, m, lead=police, deadline=date(2026, 12, 1), text="公安")
    frozen(2026, 10, 30, 9)
    _review(session, w, _answer(session, w, on_time), "close")
    _answer(session, w, answered_overdue)
    frozen(2026, 11, 8, 9)
    _review(session, w, _answer(session, w, late), "close")
    frozen(2026, 11, 24, 9)
    police_item = _answer(session, w, police_item, officer=w["police"])
    frozen(2026, 11, 28, 9)
    _review(session, w, police_item, "close")  # closed after the `today` asked about below

    facts = meetings.decision_facts(session, None, date(2026, 10, 1), date(2026, 12, 31), date(2026, 11, 25))
    f = facts[town.id]
    assert (f.due, f.closed_on_time, f.closed_late, f.overdue, f.open_not_due) == (5, 1, 1, 2, 1)
    assert f.due_ids == (on_time.id, late.id, overdue.id, answered_overdue.id, not_due.id)
    assert f.overdue_ids == (overdue.id, answered_overdue.id)
    assert (f.closed_on_time_ids, f.closed_late_ids, f.open_not_due_ids) == ((on_time.id,), (late.id,), (not_due.id,))
    assert outside.id not in f.due_ids
    g = facts[town2.id]
    assert (g.due, g.overdue, g.open_not_due) == (1, 1, 0) and g.overdue_ids == (other.id,)
    p = facts[police.id]
    assert (p.due, p.closed_on_time, p.open_not_due) == (1, 0, 1)  # as it stood on 25 November
    assert set(facts) == {town.id, town2.id, police.id}

    later = meetings.decision_facts(session, police.id, date(2026, 10, 1), date(2026, 12, 31), date(2026, 11, 28))
    assert list(later) == [police.id] and later[police.id].closed_on_time == 1
    assert (
        meetings.decision_facts(session, town.id, date(2027, 1, 1), date(2027, 3, 31), date(2026, 11, 25))[
            town.id
        ].open_not_due
        == 1
    )


def test_the_agenda_follows_up_the_previous_meeting_and_what_is_still_open_from_earlier_ones(
    session, world, frozen, client
):
    w = world
    first = _meeting(session, w, on=date(2026, 7, 15), period="2026-Q2", title="二季度")
    assert meetings.agenda(session, first).earlier == []  # nothing held before the first meeting
    frozen(2026, 7, 16, 9)
    d1 = _decision(session, w, first, deadline=date(2026, 8, 31), text="一号事项")
    d2 = _decision(session, w, first, lead=w["town2"], deadline=date(2026, 12, 31), text="二号事项")
    d4 = _decision(session, w, first, deadline=date(2026, 9, 30), text="四号事项")
    _review(session, w, _answer(session, w, d1), "close")  # closed before the second meeting: reported there
    frozen(2026, 10, 15, 9)
    second = _meeting(session, w, on=date(2026, 10, 15), period="2026-Q3", title="三季度")
    d3 = _decision(session, w, second, deadline=date(2026, 11, 5), text="三号事项")
    _review(session, w, _answer(session, w, d4), "close")  # closed late, on the second meeting's day
    special = _meeting(session, w, on=date(2026, 10, 15), period="2026-Q3", title="专题会")  # held the same day
    d5 = _decision(session, w, special, deadline=date(2026, 12, 15), text="五号事项")
    frozen(2026, 11, 10, 9)
    not_held = _meeting(session, w, on=date(2026, 10, 20), period="2026-10", title="未确认召开", held=False)
    _decision(session, w, not_held, deadline=date(2026, 11, 1), text="未召开会议的事项")
    upcoming = _meeting(session, w, on=date(2026, 11, 20), period="2026-10", title="调度会", held=False)

    # the second meeting follows up every decision of the first, whatever its state
    assert [d.text for d in meetings.agenda(session, second).earlier] == ["一号事项", "二号事项", "四号事项"]
    # the next one: the decisions of both meetings held on 15 October, and the first's still open or closed since
    agenda = meetings.agenda(session, upcoming)
    earlier = agenda.earlier
    assert [d.text for d in earlier] == ["二号事项", "四号事项", "三号事项", "五号事项"]
    assert [d.id for d in earlier] == [d2.id, d4.id, d3.id, d5.id] and d1.id not in {d.id for d in earlier}
    assert [meetings.decision_status(d) for d in earlier] == [OPEN, CLOSED, OVERDUE, OPEN]
    assert [m.id for m in agenda.previous] == [second.id, special.id]
    assert agenda.earlier_counts == {OPEN: 2, ANSWERED: 0, RETURNED: 0, CLOSED: 1, OVERDUE: 1}
    _login(client, "reviewer")
    page = client.get(f"/meetings/{upcoming.id}").get_data(as_text=True)
    assert "前期议定事项落实情况(4项)" in page
    assert "前次会议“三季度”、“专题会”(2026年10月15日)的全部议定事项" in page
    assert "以及更早会议中尚未销号或自前次会议当日起销号的事项" in page
    assert "二号事项" in page and "四号事项" in page and "一号事项" not in page


def test_agenda_counts_the_periods_last_month_of_progress_reports(session, world, frozen):
    w = world
    m = _meeting(session, w, on=date(2026, 11, 10), period="2026-Q3")
    frozen(2026, 9, 3, 9)
    texts = {"progress": "宣传", "completion": "完成"}

    def report(officer, unit, task_id, submit=True, review=None):
        r = progress.save_draft(session, officer, task_id=task_id, unit_id=unit.id, period="2026-09", fields=texts)
        if submit:
            r = progress.submit_report(session, officer, r.id, r.version)
        if review:
            progress.review_report(session, w["reviewer"], r.id, r.version, review, "请补充数据")
        session.commit()

    report(w["officer"], w["town"], 3)  # submitted
    report(w["officer"], w["town"], 1, review="accept")
    report(w["officer2"], w["town2"], 3, review="return")
    report(w["officer2"], w["town2"], 1, submit=False)  # a draft: overdue once the due day has passed
    plan = active_plan(session)
    month = Period.month(2026, 9)

    def check(today):
        agenda = meetings.agenda(session, m, today)
        grid = progress.build_grid(session, plan, month, today)
        assert agenda.report_month == month and agenda.report_due == grid.due
        assert agenda.report_counts == grid.counts
        assert sum(agenda.report_counts.values()) == len(grid.cells)
        return agenda.report_counts

    # on 4 September, before September's due day, the quarter's agenda shows August, the last month fallen due:
    # nothing was written for August, so all 62 (task, unit) pairs are overdue
    early = meetings.agenda(session, m, date(2026, 9, 4))
    assert early.report_month == Period.month(2026, 8)
    assert early.report_counts == dict.fromkeys(["not_due", "draft", "submitted", "returned", "accepted"], 0) | {
        "overdue": 62
    }
    after_due = check(date(2026, 11, 10))
    # September: 4 reports written, 3 submitted (one each awaiting review, accepted, returned); the draft and the
    # 58 pairs with nothing written are overdue: 62 - 3 = 59
    assert after_due == {"not_due": 0, "draft": 0, "submitted": 1, "returned": 1, "accepted": 1, "overdue": 59}


def test_list_decisions_shows_officers_their_own_units_items(session, world, frozen):
    w = world
    m = _meeting(session, w)
    mine = _decision(session, w, m, text="青石镇牵头")
    supported = _decision(session, w, m, lead=w["police_unit"], supporting=[w["town"]], text="青石镇配合")
    others = _decision(session, w, m, lead=w["town2"], deadline=date(2026, 11, 12), text="柳溪镇")
    assert {d.id for d in meetings.list_decisions(session, w["officer"])} == {mine.id, supported.id}
    assert [d.id for d in meetings.list_decisions(session, w["officer2"])] == [others.id]
    assert len(meetings.list_decisions(session, w["reviewer"])) == 3
    assert [d.id for d in meetings.list_decisions(session, None, unit_id=w["town"].id)] == [mine.id]
    frozen(2026, 11, 13, 9)
    assert [d.id for d in meetings.list_decisions(session, w["reviewer"], status=OVERDUE)] == [others.id]
    _answer(session, w, mine)
    assert [d.id for d in meetings.list_decisions(session, w["reviewer"], status=meetings.PENDING)] == [
        others.id,
        supported.id,
    ]
    assert meetings.unit_todo(session, w["town2"].id).overdue == 1
    assert meetings.list_decisions(session, w["reviewer"], status=OPEN) == [supported]  # overdue ones apart
    with pytest.raises(ValidationError):
        meetings.list_decisions(session, w["reviewer"], status="nonsense")


def test_officers_see_only_meetings_their_unit_attends_or_answers_to(session, world):
    w = world
    attended = _meeting(session, w, units=[w["town"].id], title="青石镇参会")
    other = _meeting(session, w, units=[w["police_unit"].id], title="公安参会")
    assert [m.id for m in meetings.list_meetings(session, w["officer"]).past] == [attended.id]
    _decision(session, w, other, text="交青石镇办理")
    assert {m.id for m in meetings.list_meetings(session, w["officer"]).past} == {attended.id, other.id}
    assert meetings.list_meetings(session, w["officer2"]).past == []
    assert len(meetings.list_meetings(session, w["admin"]).past) == 2
    assert [m.id for m in meetings.list_meetings(session, w["reviewer"], "2026").past] != []
    assert meetings.list_meetings(session, w["reviewer"], "2026-Q2").past == []


# -- demo ----------------------------------------------------------------------------------------------------------


def test_demo_meetings_cover_every_state(session, world):
    users = {
        u: get_user(session, u) for u in ("reviewer", "town1", "town2", "town5", "police", "office", "town3", "finance")
    }
    today = date(2026, 11, 28)
    result = meetings_demo.load(session, users, today)
    session.commit()
    clock.freeze(None)
    assert result == {"meetings": 3, "decisions": 11}
    all_meetings = session.scalars(select(Meeting).order_by(Meeting.date)).all()
    assert [(m.period, m.status) for m in all_meetings] == [
        ("2026-Q2", HELD),
        ("2026-Q3", HELD),
        ("2026-11", SCHEDULED),
    ]
    assert all_meetings[0].date == date(2026, 7, 15) and all_meetings[2].date > today
    decisions = session.scalars(select(Decision)).all()
    states = {meetings.decision_status(d, today) for d in decisions}
    assert states == {OPEN, ANSWERED, RETURNED, CLOSED, OVERDUE}
    closed = [d for d in decisions if d.status == CLOSED]
    assert {d.closed_on_time for d in closed} == {True, False}
    assert any(d.status == RETURNED and d.deadline < today for d in decisions)  # returned and overdue
    assert any(d.status == OPEN and d.deadline >= today for d in decisions)


# -- pages ---------------------------------------------------------------------------------------------------------


def _login(client, username):
    client.post("/logout")
    assert client.post("/login", data={"username": username, "password": "demo-2026"}).status_code == 302


def _fresh(session, model, ident):
    """Re-read a row the web requests changed, and end the test's transaction so requests can write."""
    session.expire_all()
    obj = session.get(model, ident)
    session.commit()
    return obj


def test_web_flow_schedule_hold_decide_answer_close(session, world, client):
    w = world
    session.commit()
    _login(client, "reviewer")
    r = client.post(
        "/meetings/new",
        data={
            "title": "第三季度联席会议",
            "date": "2026-11-05",
            "convener": "区委政法委书记",
            "period": "2026-q3",
            "units": [w["town"].id, w["police_unit"].id],
            "location": "第一会议室",
            "notes": "",
        },
    )
    assert r.status_code == 302
    m = session.scalar(select(Meeting))
    session.commit()
    page = client.get(f"/meetings/{m.id}").get_data(as_text=True)
    assert "第三季度联席会议" in page and "2026年第三季度" in page and "标记已召开" in page and "会议议程材料" in page
    assert client.post(f"/meetings/{m.id}/hold", data={"version": m.version}).status_code == 302
    assert _fresh(session, Meeting, m.id).status == HELD
    r = client.post(
        f"/meetings/{m.id}/decisions/new",
        data={
            "text": "开展老年人反诈入户宣传",
            "lead_unit": w["town"].id,
            "supporting": [w["police_unit"].id],
            "deadline": "2026-11-30",
        },
    )
    assert r.status_code == 302 and r.location.endswith(f"/meetings/{m.id}")
    d = session.scalar(select(Decision))
    session.commit()
    assert "开展老年人反诈入户宣传" in client.get(f"/meetings/{m.id}").get_data(as_text=True)

    _login(client, "town1")
    todo = client.get("/progress/todo").get_data(as_text=True)
    assert "督办事项待反馈(1项" in todo and "开展老年人反诈入户宣传" in todo
    assert "开展老年人反诈入户宣传" in client.get("/meetings/decisions").get_data(as_text=True)
    r = client.post(f"/meetings/decisions/{d.id}/answer", data={"version": d.version, "feedback": "已入户宣传300户"})
    assert r.status_code == 302

    _login(client, "reviewer")
    page = client.get(f"/meetings/decisions/{d.id}").get_data(as_text=True)
    assert "已入户宣传300户" in page and "审核反馈" in page
    d = _fresh(session, Decision, d.id)
    r = client.post(
        f"/meetings/decisions/{d.id}/review", data={"version": d.version, "verdict": "close", "comment": "同意"}
    )
    assert r.status_code == 302
    d = _fresh(session, Decision, d.id)
    assert d.status == CLOSED and d.closed_on_time is True
    assert "已销号" in client.get(f"/meetings/decisions/{d.id}").get_data(as_text=True)
    assert _audit_actions(session, "Decision") == ["decision.create", "decision.answer", "decision.close"]


def test_web_stale_meeting_edit_shows_typed_text_with_409(session, world, client):
    w = world
    m = _meeting(session, w, held=False)
    old = m.version
    meetings.update_meeting(
        session,
        w["reviewer"],
        m.id,
        old,
        title="他人修改的名称",
        meeting_date=m.date,
        convener="甲",
        unit_ids=[w["town"].id],
        period="2026-Q3",
    )
    session.commit()
    _login(client, "reviewer")
    r = client.post(
        f"/meetings/{m.id}/edit",
        data={
            "version": old,
            "title": "我输入的名称",
            "date": "2026-11-05",
            "convener": "乙",
            "period": "2026-Q3",
            "units": [w["town"].id],
            "notes": "我写的备注",
        },
    )
    body = r.get_data(as_text=True)
    assert r.status_code == 409
    assert "我输入的名称" in body and "我写的备注" in body and "已被他人修改" in body and "他人修改的名称" in body
    assert _fresh(session, Meeting, m.id).title == "他人修改的名称"


def test_a_save_meeting_a_constraint_is_a_stale_edit_with_the_form_kept(session, world, client, monkeypatch):
    """A concurrent request's row makes the new meeting's write meet a constraint at commit: the reviewer gets the
    form again (409) with what was typed and the stale-edit message, not an error page, and no meeting is saved."""
    w = world
    session.commit()
    _login(client, "reviewer")
    original = meetings.schedule_meeting

    def write_then_collide(s, *args, **kwargs):
        original(s, *args, **kwargs)
        s.flush()
        raise IntegrityError("INSERT INTO meetings", {}, Exception("UNIQUE constraint failed"))

    monkeypatch.setattr(meetings, "schedule_meeting", write_then_collide)
    r = client.post(
        "/meetings/new",
        data={
            "title": "第四季度调度会",
            "date": "2026-11-05",
            "convener": "区委政法委书记",
            "period": "2026-Q3",
            "units": [w["town"].id],
        },
    )
    body = r.get_data(as_text=True)
    assert r.status_code == 409 and str(StaleEdit()) in body and 'value="第四季度调度会"' in body
    session.expire_all()
    assert session.scalar(select(Meeting)) is None


def test_web_bad_input_and_held_meeting_edit_get_chinese_messages(session, world, client):
    w = world
    m = _meeting(session, w)
    _login(client, "reviewer")
    r = client.post(
        "/meetings/new",
        data={"title": "会", "date": "2026-11-05", "convener": "甲", "period": "2026-13", "units": [w["town"].id]},
    )
    assert r.status_code == 422 and "月份应为1至12" in r.get_data(as_text=True)
    r = client.post("/meetings/new", data={"title": "会", "date": "11/05", "convener": "甲", "period": "2026-Q3"})
    body = r.get_data(as_text=True)
    assert r.status_code == 422 and "日期无效" in body
    r = client.post(
        f"/meetings/{m.id}/edit",
        data={
            "version": m.version,
            "title": "改",
            "date": "2026-11-05",
            "convener": "甲",
            "period": "2026-Q3",
            "units": [w["town"].id],
        },
    )
    assert r.status_code == 422 and "会议已召开" in r.get_data(as_text=True)
    r = client.get(f"/meetings/{m.id}/edit", follow_redirects=True)
    assert "会议已召开,会议信息不能再修改" in r.get_data(as_text=True)
    r = client.post(
        f"/meetings/{m.id}/decisions/new", data={"text": "x", "lead_unit": w["town"].id, "deadline": "2026-11-01"}
    )
    assert r.status_code == 422 and "不能早于会议日期" in r.get_data(as_text=True)


def test_web_stale_answer_keeps_the_typed_feedback(session, world, client):
    w = world
    d = _decision(session, w, _meeting(session, w))
    old = d.version
    _review(session, w, _answer(session, w, d), "return", "请补充")
    _login(client, "town1")
    r = client.post(f"/meetings/decisions/{d.id}/answer", data={"version": old, "feedback": "我刚写的反馈"})
    body = r.get_data(as_text=True)
    assert r.status_code == 409 and "我刚写的反馈" in body and "已被他人修改" in body


def test_web_other_units_officer_is_refused(session, world, client):
    w = world
    d = _decision(session, w, _meeting(session, w, units=[w["town"].id]))
    _login(client, "town2")
    assert client.get(f"/meetings/decisions/{d.id}").status_code == 403
    assert client.get(f"/meetings/{d.meeting_id}").status_code == 403
    assert (
        client.post(f"/meetings/decisions/{d.id}/answer", data={"version": d.version, "feedback": "x"}).status_code
        == 403
    )
    assert "没有督办事项" in client.get("/meetings/decisions").get_data(as_text=True)
    _login(client, "town1")
    assert (
        client.post(f"/meetings/decisions/{d.id}/review", data={"version": d.version, "verdict": "close"}).status_code
        == 403
    )


# -- command line --------------------------------------------------------------------------------------------------


def test_cli_lists_meetings_as_json_and_text(app, session, world):
    w = world
    m = _meeting(session, w)
    _decision(session, w, m)
    _meeting(session, w, on=date(2026, 12, 10), period="2026-11", title="调度会", held=False)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["meetings", "list", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [(r["title"], r["status"]) for r in rows] == [("调度会", "scheduled"), ("第三季度联席会议", "held")]
    assert rows[1]["decisions"] == 1 and rows[1]["counts"]["open"] == 1 and rows[1]["units"] == ["公安分局", "青石镇"]
    text = runner.invoke(args=["meetings", "list", "--period", "2026-Q3"]).output
    assert "第三季度联席会议" in text and "调度会" not in text
    bad = runner.invoke(args=["meetings", "list", "--period", "2026-YTD-10"])
    assert (
        bad.exit_code != 0 and "期间应为月份、季度或年份(如 2026-10、2026-Q3 或 2026),收到“2026-YTD-10”" in bad.output
    )


def test_meeting_page_statements_do_not_grow_with_its_decisions(session, world, client):
    from sqlalchemy import event

    w = world
    m = _meeting(session, w)
    _decision(session, w, m, supporting=[w["town2"]])
    _login(client, "reviewer")
    engine = client.application.extensions["tracker.engine"]
    statements = []

    def count(conn, cursor, statement, *args):
        if not statement.startswith("BEGIN"):
            statements.append(statement)

    def page() -> tuple[int, str]:
        session.commit()
        session.expunge_all()  # the requests share the test's session: start from nothing loaded, as a request does
        statements.clear()
        event.listen(engine, "before_cursor_execute", count)
        try:
            resp = client.get(f"/meetings/{m.id}")
        finally:
            event.remove(engine, "before_cursor_execute", count)
        assert resp.status_code == 200
        return len(statements), resp.get_data(as_text=True)

    one, _ = page()
    for i in range(4):
        _decision(session, w, m, supporting=[w["town2"], w["office_unit"]], text=f"落实第{i + 2}项部署")
    five, html = page()
    assert five == one, "\n".join(" ".join(s.split())[:200] for s in statements)
    assert html.count("柳溪镇") >= 5 and "落实第5项部署" in html
