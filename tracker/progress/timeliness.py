"""Whether units filed on time: due, on time, late and overdue counts over months (for scores, cards, the unit page)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from functools import cache

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from .. import clock
from ..db import plain_rows
from ..org.models import Unit
from ..periods import Period
from ..plans.models import Plan, Task
from ..plans.service import Duty, light_duties, unit_duties
from .models import (
    ACCEPTED,
    RETURNED,
    SUBMITTED,
    ProgressReport,
    ReportEvent,
)
from .state import due_months


@dataclass(frozen=True)
class Timeliness:
    """Per unit (or per unit and role), over the months that owe reports (`due_months`): each (task, month) due
    is exactly one of on time, late (迟报) or overdue (逾期未报), as `report_state` says."""

    unit: Unit
    due: int = 0
    on_time: int = 0
    late: int = 0  # 迟报: first submitted after the due date
    overdue: int = 0  # 逾期未报: not submitted by today, though the due date is over (a draft included)
    accepted: int = 0
    returned: int = 0
    on_time_accepted: int = 0
    return_events: int = 0


def timeliness(
    session: Session,
    plan: Plan,
    months: list[Period] | None = None,
    today: date | None = None,
    by_role: bool = False,
    unit_id: int | None = None,
    plan_duties: list[Duty] | None = None,
) -> dict:
    """Count due, on-time, late (迟报) and overdue (逾期未报) reports per unit over the given months (default the
    plan's whole period); only months inside the plan's period whose due date is over count (`due_months`).

    Keys are unit ids, or (unit id, role) pairs with by_role; unit_id limits the count to one unit.
    plan_duties, when the caller has them already, saves reading the plan's duties again.
    """
    today = today or clock.today()
    months = due_months(plan, today, months)
    if not months:
        return {}
    plan_duties = plan_duties if plan_duties is not None else counting_duties(session, plan)
    # every month here is due (its due date is over, `due_months`): a (task, unit, month) is overdue unless a report
    # was submitted (已报送, 已退回 or 已通过, as `cell_state` says), so each duty owes one report a month and the
    # reports filed are counted one by one, the rest overdue
    acc: dict = {}
    units: dict = {}
    cells: dict = {}  # (task id, unit id): the counts each duty of that task and unit adds to
    n = len(months)
    for d in plan_duties:
        uid = d.unit.id
        if unit_id is None or uid == unit_id:
            key = (uid, d.role) if by_role else uid
            c = acc.get(key)
            if c is None:
                c = acc[key] = [0] * len(_FIELDS)
                units[key] = d.unit
            c[_DUE] += n
            cells.setdefault((d.task.id, uid), []).append(c)
    times = Counter(m.code for m in months)  # a month asked for twice counts twice
    reports, returns = _filed(session, plan, months, unit_id)
    for report_id, task_id, uid, month, status, is_late in reports:
        counted = cells.get((task_id, uid))
        if counted is None or status not in _SUBMITTED:
            continue
        w = times[month]
        for c in counted:
            c[_LATE if is_late else _ON_TIME] += w
            c[_RETURN_EVENTS] += returns.get(report_id, 0) * w
            if status == ACCEPTED:
                c[_ACCEPTED] += w
                if not is_late:
                    c[_ON_TIME_ACCEPTED] += w
            elif status == RETURNED:
                c[_RETURNED] += w
    for c in acc.values():
        c[_OVERDUE] = c[_DUE] - c[_ON_TIME] - c[_LATE]
    return {key: Timeliness(units[key], **dict(zip(_FIELDS, c, strict=True))) for key, c in acc.items()}


def counting_duties(session: Session, plan: Plan) -> list[Duty]:
    """The plan's duties for counting, as `duties` gives them, each task as a plain row (`light_duties`: its id,
    number and title only), each unit the session's `Unit`."""
    return light_duties(session, plan)


def _filed(session: Session, plan: Plan, months: list[Period], unit_id: int | None) -> tuple[list, Counter]:
    """The reports of the months (with the unit's only, given unit_id) as rows (id, task, unit, month, status, is_late):
    only the columns counted, not the texts; and how many times each was returned."""
    params = {"plan_id": plan.id, "months": [m.code for m in months]}
    if unit_id is not None:
        params["unit_id"] = unit_id
    one_unit = unit_id is not None
    reports = plain_rows(session, _filed_query(one_unit), params)
    returns = Counter(report_id for (report_id,) in plain_rows(session, _returns_query(one_unit), params))
    return reports, returns


# `_filed`'s statements, each built once (a statement holds no data; built anew, SQLAlchemy would work out its cache
# key again on every call): the reports of a plan's months, of every unit or of one
def _in_span(one_unit: bool) -> list:
    span = [Task.plan_id == bindparam("plan_id"), ProgressReport.period.in_(bindparam("months", expanding=True))]
    if one_unit:
        span.append(ProgressReport.unit_id == bindparam("unit_id"))
    return span


@cache
def _filed_query(one_unit: bool):
    return (
        select(
            ProgressReport.id,
            ProgressReport.task_id,
            ProgressReport.unit_id,
            ProgressReport.period,
            ProgressReport.status,
            ProgressReport.is_late,
        )
        .join(Task)
        .where(*_in_span(one_unit))
    )


@cache
def _returns_query(one_unit: bool):
    return (
        select(ProgressReport.id)
        .join(ReportEvent)
        .join(Task)
        .where(*_in_span(one_unit), ReportEvent.action == "return")
    )


# Timeliness's counts in the order of its fields (after the unit), as `timeliness` adds them up in a list
_FIELDS = ("due", "on_time", "late", "overdue", "accepted", "returned", "on_time_accepted", "return_events")
_DUE, _ON_TIME, _LATE, _OVERDUE, _ACCEPTED, _RETURNED, _ON_TIME_ACCEPTED, _RETURN_EVENTS = range(len(_FIELDS))
# the statuses of a report submitted at least once: on time or late, never overdue (`cell_state`)
_SUBMITTED = frozenset((SUBMITTED, ACCEPTED, RETURNED))


def unit_timeliness(
    session: Session, plan: Plan, unit: Unit, today: date | None = None, plan_duties: list[Duty] | None = None
) -> Timeliness | None:
    """The unit's counts over the plan's period so far: what the 工作台, the unit page and the to-do show.

    None when nothing has fallen due for the unit yet.
    """
    plan_duties = plan_duties if plan_duties is not None else unit_duties(session, plan, unit)
    return timeliness(session, plan, None, today, unit_id=unit.id, plan_duties=plan_duties).get(unit.id)
