"""Whether units filed on time: due, on time, late and overdue counts over months (for scores, cards, the unit page)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import clock
from ..org.models import Unit
from ..periods import Period
from ..plans.models import Plan, Task
from ..plans.service import (
    Duty,
    due_date,
    duties,
    load_tasks,
    unit_duties,
)
from .models import (
    ACCEPTED,
    OVERDUE,
    RETURNED,
    ProgressReport,
    ReportEvent,
)
from .state import cell_state, due_months


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
    # each duty's ids and counts read once (not through the ORM per month), in the order the duties come
    cells = []
    acc: dict = {}
    units: dict = {}
    for d in plan_duties:
        uid = d.unit.id
        if unit_id is None or uid == unit_id:
            key = (uid, d.role) if by_role else uid
            if key not in acc:
                acc[key] = [0] * len(_FIELDS)
                units[key] = d.unit
            cells.append((d.task.id, uid, acc[key]))
    reports, returns = _filed(session, plan, months, unit_id)
    for m in months:
        # every month here lies in the plan's period (due_months): its state needs the due date only
        code, due = m.code, due_date(plan, m)
        for task_id, uid, c in cells:
            _count(c, reports.get((task_id, uid, code)), due, returns, today)
    return {key: Timeliness(units[key], **dict(zip(_FIELDS, c, strict=True))) for key, c in acc.items()}


def plain_rows(session: Session, query, params: dict | None = None):
    """The rows of a column query (with its bound parameters' values, if any) as the session would give them (after
    its autoflush), through its connection: the ORM's result handling of thousands of plain rows costs more than
    fetching them."""
    if session.autoflush:
        session.flush()
    return session.connection().execute(query, params).all()  # one fetchall, not a fetchone per row


def counting_tasks(session: Session, plan: Plan) -> list[Task]:
    """The plan's tasks with their assignments and units, not their measures: what counting and the grid read."""
    return load_tasks(session, plan, measures=False)


def counting_duties(session: Session, plan: Plan) -> list[Duty]:
    """The plan's duties for counting (tasks read without their measures)."""
    return duties(session, plan, counting_tasks(session, plan))


def _filed(session: Session, plan: Plan, months: list[Period], unit_id: int | None) -> tuple[dict, Counter]:
    """The reports of the months as rows keyed (task, unit, month) (only the columns counted, not the texts), and how
    many times each was returned."""
    in_span = [Task.plan_id == plan.id, ProgressReport.period.in_([m.code for m in months])]
    if unit_id is not None:
        in_span.append(ProgressReport.unit_id == unit_id)
    reports = {
        (r[1], r[2], r[3]): r  # task, unit, month (by position: a row's names are looked up)
        for r in plain_rows(
            session,
            select(
                ProgressReport.id,
                ProgressReport.task_id,
                ProgressReport.unit_id,
                ProgressReport.period,
                ProgressReport.status,
                ProgressReport.is_late,
            )
            .join(Task)
            .where(*in_span),
        )
    }
    returns = Counter(
        report_id
        for (report_id,) in plain_rows(
            session,
            select(ProgressReport.id).join(ReportEvent).join(Task).where(*in_span, ReportEvent.action == "return"),
        )
    )
    return reports, returns


# Timeliness's counts in the order of its fields (after the unit), as _count adds them up in a list
_FIELDS = ("due", "on_time", "late", "overdue", "accepted", "returned", "on_time_accepted", "return_events")
_DUE, _ON_TIME, _LATE, _OVERDUE, _ACCEPTED, _RETURNED, _ON_TIME_ACCEPTED, _RETURN_EVENTS = range(len(_FIELDS))


def _count(c: list[int], r, due: date, returns: Counter, today: date) -> None:
    """Count one duty's month: due, then overdue, or on time / late with its returns and whether accepted."""
    c[_DUE] += 1
    state = cell_state(r, due, today)
    if state == OVERDUE:
        c[_OVERDUE] += 1
        return
    c[_LATE if r.is_late else _ON_TIME] += 1
    c[_RETURN_EVENTS] += returns.get(r.id, 0)
    if state == ACCEPTED:
        c[_ACCEPTED] += 1
        if not r.is_late:
            c[_ON_TIME_ACCEPTED] += 1
    elif state == RETURNED:
        c[_RETURNED] += 1


def unit_timeliness(
    session: Session, plan: Plan, unit: Unit, today: date | None = None, plan_duties: list[Duty] | None = None
) -> Timeliness | None:
    """The unit's counts over the plan's period so far: what the 工作台, the unit page and the to-do show.

    None when nothing has fallen due for the unit yet.
    """
    plan_duties = plan_duties if plan_duties is not None else unit_duties(session, plan, unit)
    return timeliness(session, plan, None, today, unit_id=unit.id, plan_duties=plan_duties).get(unit.id)
