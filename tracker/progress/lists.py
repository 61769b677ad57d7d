"""What a unit has to do (the to-do list) and the list of reports with their states."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, load_only, selectinload

from .. import clock, policy
from ..org.models import Unit
from ..periods import Period
from ..plans.models import Plan, Task
from ..plans.service import (
    Duty,
    active_plan,
    due_date,
    duties,
    in_plan_period,
    plan_months,
    unit_duties,
)
from .models import (
    ACCEPTED,
    DRAFT,
    NOT_DUE,
    OUT_OF_PLAN,
    OVERDUE,
    RETURNED,
    STATE_LABELS,
    SUBMITTED,
    ProgressReport,
    Urge,
)
from .state import report_state
from .timeliness import Timeliness, unit_timeliness


@dataclass(frozen=True)
class TodoItem:
    duty: Duty
    period: Period
    due: date
    state: str
    report: ProgressReport | None
    urges: list[Urge]


@dataclass(frozen=True)
class Todo:
    """What a unit owes: this month's reports, returned reports to fix, earlier months still missing, urges.

    `counts` are the unit's counts over the plan's period so far, the same numbers as the unit page's;
    `missing_earlier` lists every 逾期未报 of the plan's period before this month.
    """

    period: Period
    due: date
    current: list[TodoItem]
    returned: list[ProgressReport]
    missing_earlier: list[TodoItem]
    urges: list[Urge]
    counts: Timeliness | None = None
    in_plan: bool = True

    @property
    def overdue_current(self) -> list[TodoItem]:
        return [i for i in self.current if i.state == OVERDUE]


def unit_todo(session: Session, plan: Plan, unit: Unit, today: date | None = None) -> Todo:
    """The officer's to-do list for the unit, over the plan's period up to this month."""
    today = today or clock.today()
    period = Period.of_date(today)
    my_duties = unit_duties(session, plan, unit)
    months = [m for m in plan_months(plan) if m <= period]
    reports = {
        (r.task_id, r.period): r
        for r in session.scalars(
            select(ProgressReport).where(
                ProgressReport.unit_id == unit.id, ProgressReport.period.in_([m.code for m in months])
            )
        )
    }
    urges = list(
        session.scalars(
            select(Urge)
            .where(Urge.unit_id == unit.id)
            .options(selectinload(Urge.task), selectinload(Urge.actor))
            .order_by(Urge.at.desc())
            .limit(20)
        )
    )
    urges_by_key: dict[tuple[int, str], list[Urge]] = defaultdict(list)
    for u in urges:
        urges_by_key[(u.task_id, u.period)].append(u)
    current, earlier = [], []
    for m in reversed(months):
        due = due_date(plan, m)
        for d in my_duties:
            r = reports.get((d.task.id, m.code))
            state = report_state(plan, m, r, today)
            item = TodoItem(d, m, due, state, r, urges_by_key.get((d.task.id, m.code), []))
            if m == period:
                current.append(item)
            elif state == OVERDUE:
                earlier.append(item)
    returned = [
        r
        for r in session.scalars(
            select(ProgressReport)
            .where(ProgressReport.unit_id == unit.id, ProgressReport.status == RETURNED)
            .options(selectinload(ProgressReport.task))
            .order_by(ProgressReport.period.desc())
        )
        if in_plan_period(plan, Period.parse(r.period))
    ]
    counts = unit_timeliness(session, plan, unit, today, plan_duties=my_duties)
    return Todo(
        period,
        due_date(plan, period),
        current,
        returned,
        earlier,
        urges,
        counts,
        in_plan_period(plan, period),
    )


@dataclass(frozen=True)
class ReportRow:
    """A line of the report list: a saved report, or a (task, unit, month) owed without one."""

    task: Task
    unit: Unit
    period: str
    state: str
    report: ProgressReport | None = None

    @property
    def task_id(self) -> int:
        return self.task.id

    @property
    def unit_id(self) -> int:
        return self.unit.id

    @property
    def is_late(self) -> bool:
        return bool(self.report and self.report.is_late)

    @property
    def submitted_at(self):
        return self.report.submitted_at if self.report else None

    @property
    def has_draft(self) -> bool:
        """逾期未报 with a draft saved: the list says 逾期未报(草稿已存)."""
        return self.state == OVERDUE and self.report is not None

    @property
    def status_label(self) -> str:
        if self.has_draft:
            return f"{STATE_LABELS[OVERDUE]}(草稿已存)"
        return STATE_LABELS[self.state]


# the list's status filter: every state a (task, unit, month) can be in
LIST_STATES = (NOT_DUE, DRAFT, SUBMITTED, RETURNED, ACCEPTED, OVERDUE, OUT_OF_PLAN)


def list_reports(
    session: Session,
    actor,
    *,
    period: str | None = None,
    unit_id: int | None = None,
    status: str | None = None,
    limit: int = 500,
    today: date | None = None,
) -> list[ReportRow]:
    """What the actor may see, newest month first, each with its state as `report_state` gives it: every saved
    report, and every (task, unit, month) of the plan's period that is 逾期未报 without one (未报 ones, not yet due
    and with nothing saved, only when filtered by that state). Filtered by month, unit and state; at most `limit`
    rows, the newest."""
    today = today or clock.today()
    plan = active_plan(session)
    if not policy.can(actor, "report.list_all"):
        unit_id = actor.unit_id
    rows: list[ReportRow] = []
    oldest: str | None = None
    if status != NOT_DUE:  # a saved report is never 未报
        rows, oldest = _saved_rows(session, plan, period, unit_id, status, limit, today)
    if plan is not None and status in (None, OVERDUE, NOT_DUE):
        rows += _owed_rows(session, plan, period, unit_id, status, oldest, today)
    if status:
        rows = [r for r in rows if r.state == status]
    rows.sort(key=lambda r: (_neg_month(r.period), r.task.number, _unit_key(r.unit)))
    return rows[:limit]


def _saved_rows(
    session: Session, plan, period: str | None, unit_id: int | None, status: str | None, limit: int, today: date
) -> tuple[list[ReportRow], str | None]:
    """The saved reports that match, newest first, at most `limit`; and the oldest month shown when the list is cut
    (owed months older than that are then left out too)."""
    q = (
        select(ProgressReport)
        .join(Task)
        .options(
            load_only(
                ProgressReport.id,
                ProgressReport.task_id,
                ProgressReport.unit_id,
                ProgressReport.period,
                ProgressReport.status,
                ProgressReport.is_late,
                ProgressReport.submitted_at,
            ),
            selectinload(ProgressReport.task),
            selectinload(ProgressReport.unit),
        )
    )
    if unit_id:
        q = q.where(ProgressReport.unit_id == unit_id)
    if period:
        q = q.where(ProgressReport.period == period)
    if status in (DRAFT, OVERDUE):
        q = q.where(ProgressReport.status == DRAFT)
    elif status in (SUBMITTED, RETURNED, ACCEPTED):
        q = q.where(ProgressReport.status == status)
    if plan is not None and status == OUT_OF_PLAN:
        q = q.where(
            or_(
                Task.plan_id != plan.id,
                ProgressReport.period < plan.start_month,
                ProgressReport.period > plan.end_month,
            )
        )
    elif plan is not None and status is not None:
        q = q.where(
            Task.plan_id == plan.id,
            ProgressReport.period >= plan.start_month,
            ProgressReport.period <= plan.end_month,
        )
    q = q.order_by(ProgressReport.period.desc(), ProgressReport.task_id, ProgressReport.unit_id).limit(limit)
    saved = list(session.scalars(q))
    oldest = saved[-1].period if len(saved) == limit else None
    rows = []
    for r in saved:
        if plan is not None and r.task.plan_id == plan.id:
            state = report_state(plan, Period.parse(r.period), r, today)
        else:
            state = OUT_OF_PLAN  # a report of another plan
        rows.append(ReportRow(r.task, r.unit, r.period, state, r))
    return rows, oldest


def _owed_rows(
    session: Session, plan, period: str | None, unit_id: int | None, status: str | None, oldest: str | None, today: date
) -> list[ReportRow]:
    """(task, unit, month) owed without a report: overdue ones always, not-yet-due ones when asked for."""
    this_month = Period.of_date(today)
    months = [
        m
        for m in plan_months(plan)
        if m <= this_month and (not period or m.code == period) and (oldest is None or m.code > oldest)
    ]
    if not months:
        return []
    keys = select(ProgressReport.task_id, ProgressReport.unit_id, ProgressReport.period).where(
        ProgressReport.period.in_([m.code for m in months])
    )
    if unit_id:
        keys = keys.where(ProgressReport.unit_id == unit_id)
    written = set(session.execute(keys).tuples())
    my_duties = [d for d in duties(session, plan) if not unit_id or d.unit.id == unit_id]
    rows = []
    for m in months:
        for d in my_duties:
            if (d.task.id, d.unit.id, m.code) in written:
                continue
            state = report_state(plan, m, None, today)
            if state == OVERDUE or (state == NOT_DUE and status == NOT_DUE):
                rows.append(ReportRow(d.task, d.unit, m.code, state))
    return rows


def _neg_month(code: str) -> int:
    """Sort key: newest month first."""
    return -(int(code[:4]) * 12 + int(code[5:7]))


def _unit_key(unit: Unit) -> tuple:
    return (unit.kind != "department", unit.sort_order, unit.id)
