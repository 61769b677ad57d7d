"""Timeliness (及时率) counted from the reports filed: every figure worked out by hand.

The seed plan has six tasks, every town a member of all six (各镇(街道)); its period is 2026, reports are due on the
25th. 青石镇 reports in the third quarter as follows (today: 3 October, so July, August and September are all due):

- July: task 1 on time, accepted; task 2 on time, returned once; task 3 a draft only (overdue); task 4 submitted late
  (27 July), not yet reviewed; tasks 5 and 6 nothing (overdue).
- August: task 1 on time, returned twice (submitted again in between); tasks 2-6 nothing (overdue).
- September: nothing (6 overdue).
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from tracker.org.models import KIND_TOWNSHIP, Unit
from tracker.periods import Period
from tracker.plans.service import active_plan, duties, light_duties, update_period
from tracker.progress import service as progress

from .conftest import get_unit, get_user

TEXT = {"progress": "开展入户宣传", "completion": "完成本月计划"}
JUL, AUG, SEP = (Period.month(2026, m) for m in (7, 8, 9))
TODAY = date(2026, 10, 3)
FIELDS = ("due", "on_time", "late", "overdue", "accepted", "returned", "on_time_accepted", "return_events")


@pytest.fixture
def world(seeded, session, frozen):
    w = {
        "plan": active_plan(session),
        "town": get_unit(session, "青石镇"),
        "officer": get_user(session, "town1"),
        "reviewer": get_user(session, "reviewer"),
        "admin": get_user(session, "admin"),
    }
    frozen(2026, 7, 20, 9)
    _file(session, w, 1, JUL, ["accept"])
    _file(session, w, 2, JUL, ["return"])
    progress.save_draft(session, w["officer"], task_id=3, unit_id=w["town"].id, period=JUL.code, fields=TEXT)
    session.commit()
    frozen(2026, 7, 27, 9)
    assert _file(session, w, 4, JUL, []).is_late
    frozen(2026, 8, 20, 9)
    _file(session, w, 1, AUG, ["return", "submit", "return"])
    frozen(2026, 10, 3, 9)
    return w


def _file(session, w, task, month, steps):
    """Save and submit a report of the town's, then review it (accept / return) or submit it again, in turn."""
    r = progress.save_draft(session, w["officer"], task_id=task, unit_id=w["town"].id, period=month.code, fields=TEXT)
    r = progress.submit_report(session, w["officer"], r.id, r.version)
    for step in steps:
        if step == "submit":
            r = progress.submit_report(session, w["officer"], r.id, r.version)
        else:
            r = progress.review_report(session, w["reviewer"], r.id, r.version, step, "请补充数据")
    session.commit()
    return r


def _figures(t) -> tuple:
    return tuple(getattr(t, f) for f in FIELDS)


def test_a_quarter_counts_each_report_filed_and_the_rest_overdue(world, session):
    plan, town = world["plan"], world["town"]
    # due 6 × 3 = 18; on time: July tasks 1, 2 and August task 1 = 3; late: July task 4 = 1; overdue 18 - 4 = 14
    # (July's draft among them); accepted: July task 1; returned: July task 2, August task 1; on time and accepted:
    # July task 1; returns: 1 (July task 2) + 2 (August task 1) = 3
    quarter = (18, 3, 1, 14, 1, 2, 1, 3)
    counts = progress.timeliness(session, plan, Period.parse("2026-Q3").months(), TODAY)
    assert _figures(counts[town.id]) == quarter
    assert counts[town.id].unit is town
    # by role: a town is a member of every task, through 各镇(街道)
    by_role = progress.timeliness(session, plan, Period.parse("2026-Q3").months(), TODAY, by_role=True)
    assert _figures(by_role[(town.id, "member")]) == quarter and (town.id, "lead") not in by_role
    # one unit only: the same figures, no other unit's
    mine = progress.timeliness(session, plan, Period.parse("2026-Q3").months(), TODAY, unit_id=town.id)
    assert list(mine) == [town.id] and _figures(mine[town.id]) == quarter
    # another town filed nothing: all 18 overdue
    other = get_unit(session, "白沙镇")
    assert _figures(counts[other.id]) == (18, 0, 0, 18, 0, 0, 0, 0)
    # the unit's own card (工作台, unit page) over the plan's period so far: January to September, 9 × 6 = 54 due
    own = progress.unit_timeliness(session, plan, town, TODAY)
    assert _figures(own) == (54, 3, 1, 50, 1, 2, 1, 3)


def test_single_months_and_a_month_asked_twice(world, session):
    plan, town = world["plan"], world["town"]
    july = (6, 2, 1, 3, 1, 1, 1, 1)
    assert _figures(progress.timeliness(session, plan, [JUL], TODAY)[town.id]) == july
    # August: task 1 on time, returned twice; 5 overdue
    assert _figures(progress.timeliness(session, plan, [AUG], TODAY)[town.id]) == (6, 1, 0, 5, 0, 1, 0, 2)
    # a month asked for twice counts twice, as every month listed does
    assert _figures(progress.timeliness(session, plan, [JUL, JUL], TODAY)[town.id]) == tuple(2 * n for n in july)
    # nothing due yet: September before its due day (25 September) owes nothing
    assert progress.timeliness(session, plan, [SEP], date(2026, 9, 25)) == {}


def test_months_outside_the_plans_period_owe_nothing(world, session):
    plan, town = world["plan"], world["town"]
    session.refresh(plan)
    update_period(session, world["admin"], plan.id, plan.version, start_month="2026-08", end_month="2026-12")
    session.commit()
    # the quarter counts August and September only: due 12; August task 1 on time, returned twice; 11 overdue
    counts = progress.timeliness(session, plan, Period.parse("2026-Q3").months(), TODAY)
    assert _figures(counts[town.id]) == (12, 1, 0, 11, 0, 1, 0, 2)


def test_units_added_or_deactivated_mid_period(world, session):
    plan, town = world["plan"], world["town"]
    police = get_unit(session, "公安分局")
    police.is_active = False
    town.is_active = False
    session.add(Unit(name="新河街道", kind=KIND_TOWNSHIP, sort_order=99, is_active=True))
    session.commit()
    new = session.scalar(select(Unit).where(Unit.name == "新河街道"))
    # the plan's duties for counting are exactly the plan's duties: the deactivated units owe nothing, the new town
    # owes every task through 各镇(街道)
    plain = [(d.task.id, d.unit.id, d.role) for d in light_duties(session, plan)]
    assert plain == [(d.task.id, d.unit.id, d.role) for d in duties(session, plan)]
    assert all(isinstance(d.unit, Unit) for d in light_duties(session, plan))
    assert police.id not in {u for _t, u, _r in plain} and town.id not in {u for _t, u, _r in plain}
    counts = progress.timeliness(session, plan, Period.parse("2026-Q3").months(), TODAY, by_role=True)
    # a deactivated unit is not counted at all, its reports kept but not counted
    assert not [k for k in counts if k[0] in (police.id, town.id)]
    # the new town owes the whole quarter (6 × 3), all overdue
    assert _figures(counts[(new.id, "member")]) == (18, 0, 0, 18, 0, 0, 0, 0)
    # 政法委 leads tasks 2 and 5 and is a member of task 3: 2 × 3 = 6 as lead, 3 as member, nothing filed
    zfw = get_unit(session, "政法委")
    assert _figures(counts[(zfw.id, "lead")]) == (6, 0, 0, 6, 0, 0, 0, 0)
    assert _figures(counts[(zfw.id, "member")]) == (3, 0, 0, 3, 0, 0, 0, 0)
