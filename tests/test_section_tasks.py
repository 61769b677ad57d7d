"""The briefing's progress section and the meeting page read the plan's tasks and duties as plain rows: the tasks'
labels and lead units are the ones the tasks themselves give, and the duties the ones `duties` gives, in its order;
the meeting page reads its meeting by a statement of its own."""

from __future__ import annotations

from tracker.periods import Period
from tracker.plans import service as plan_service
from tracker.plans.models import Assignment
from tracker.plans.service import active_plan
from tracker.progress import service as progress
from tracker.reports import service
from tracker.reports.task_progress import plan_tasks

from .conftest import get_unit, get_user


def _from_tasks(session, plan):
    """What the section showed of each task when it read the tasks themselves, read afresh."""
    session.expire_all()
    return [
        (t.id, t.number, t.label, t.short_label, [u.name for u in t.units_with_role("lead")])
        for t in plan_service.load_tasks(session, plan, measures=False)
    ]


def _duties(session, plan):
    session.expire_all()
    return [(d.task.id, d.unit.id, d.unit.name, d.role, d.role_label) for d in plan_service.duties(session, plan)]


def _read(session, plan):
    tasks, duties = plan_tasks(session, plan)
    return (
        [(t.id, t.number, t.label, t.short_label, t.leads) for t in tasks],
        [(d.task.id, d.unit.id, d.unit.name, d.role, d.role_label) for d in duties],
    )


def test_section_tasks_are_the_tasks(seeded, session, frozen):
    """A deactivated lead unit owes no report (no duty) but the section still names it among the task's leads, as
    the task's own list of lead units did; a unit assigned as lead after a member is listed after the first lead."""
    frozen(2026, 11, 26, 9)
    plan = active_plan(session)
    assert _read(session, plan) == (_from_tasks(session, plan), _duties(session, plan))
    task = plan_service.load_tasks(session, plan)[1]
    first_lead = task.units_with_role("lead")[0]
    town = get_unit(session, "白沙镇")
    session.add(Assignment(task_id=task.id, unit_id=town.id, role="lead"))
    first_lead.is_active = False
    session.commit()
    tasks, duties = _read(session, plan)
    assert (tasks, duties) == (_from_tasks(session, plan), _duties(session, plan))
    leads = next(t[4] for t in tasks if t[0] == task.id)
    assert leads[0] == first_lead.name and leads[-1] == "白沙镇"
    assert not any(d[0] == task.id and d[1] == first_lead.id for d in duties)
    assert (task.id, town.id, "白沙镇", "lead", "牵头") in duties


def test_briefing_names_a_deactivated_lead(seeded, session, frozen, app):
    frozen(2026, 11, 26, 9)
    plan = active_plan(session)
    task = plan_service.load_tasks(session, plan)[0]
    lead = task.units_with_role("lead")[0]
    lead.is_active = False
    session.commit()
    with app.test_request_context():
        data = service.briefing_data(session, Period.parse("2026-Q3"))
    section = next(t for t in data.tasks if t.number == task.number)
    assert lead.name in section.leads
    assert lead.name not in [u.unit for u in section.units]


def test_plain_duties_are_the_duties(seeded, session, frozen):
    """The meeting page counts the plan's duties read as plain rows: the very duties `duties` gives, in its order,
    a deactivated unit left out and a town named explicitly in a 各镇(街道) task keeping its role."""
    frozen(2026, 11, 26, 9)
    plan = active_plan(session)
    task = plan_service.load_tasks(session, plan)[0]
    assert task.includes_townships
    town = get_unit(session, "柳溪镇")
    session.add(Assignment(task_id=task.id, unit_id=town.id, role="lead"))
    get_unit(session, "公安分局").is_active = False
    session.commit()
    duties = plan_service.plain_duties(session, plan)
    plain = [(d.task.id, d.unit.id, d.unit.name, d.role, d.role_label) for d in duties]
    assert plain == _duties(session, plan)
    assert (task.id, town.id, "柳溪镇", "lead", "牵头") in plain
    assert "公安分局" not in [d[2] for d in plain]


def test_meeting_page_of_no_meeting_is_404(seeded, client, auth):
    auth.login("reviewer")
    assert client.get("/meetings/999999").status_code == 404


def test_briefing_lists_the_periods_urges(seeded, session, frozen, app):
    """An urge of October is listed in the briefing of October and of the fourth quarter (with its unit, task and
    message), and counted on the overdue report it urged; one of November is not listed for October."""
    frozen(2026, 11, 10, 9)
    town = get_unit(session, "青石镇")
    reviewer = get_user(session, "reviewer")
    progress.urge(session, reviewer, task_id=1, unit_id=town.id, period="2026-10", message="请尽快报送十月进展")
    progress.urge(session, reviewer, task_id=1, unit_id=town.id, period="2026-11", message="十一月")
    session.commit()
    with app.test_request_context():
        october = service.briefing_data(session, Period.parse("2026-10"))
        quarter = service.briefing_data(session, Period.parse("2026-Q4"))
    assert [(u.unit, u.task, u.month, u.message) for u in october.urges] == [
        ("青石镇", "任务一", "2026-10", "请尽快报送十月进展")
    ]
    assert [u.message for u in quarter.urges] == ["请尽快报送十月进展", "十一月"]
    urged = [o for o in october.overdue if o.unit == "青石镇" and o.task == "任务一"]
    assert [o.urges for o in urged] == [1]
