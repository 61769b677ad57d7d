"""Progress reports: drafting, submitting, reviewing, urging, and counting what is overdue or late."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, load_only, selectinload

from .. import clock, policy
from ..audit.service import record
from ..errors import NotFound, StaleEdit, ValidationError, WorkflowError, on_unique_violation
from ..org.models import Unit
from ..periods import Period
from ..plans.models import Assignment, Measure, Plan, Task
from ..plans.service import (
    Duty,
    active_plan,
    due_date,
    duties,
    has_duty,
    in_plan_period,
    load_tasks,
    plan_months,
    plan_period_label,
)
from .models import (
    ACCEPTED,
    CONTENT_FIELDS,
    CONTENT_LABELS,
    DRAFT,
    NOT_DUE,
    OUT_OF_PLAN,
    OVERDUE,
    RETURNED,
    STATE_LABELS,
    STATE_ORDER,
    SUBMITTED,
    ProgressReport,
    ReportEvent,
    Urge,
)

MAX_TEXT = 5000
REQUIRED_ON_SUBMIT = ("progress", "completion")
EDITABLE = (DRAFT, RETURNED)


# -- reading ---------------------------------------------------------------


def get_report(session: Session, report_id: int) -> ProgressReport:
    report = session.get(ProgressReport, report_id)
    if report is None:
        raise NotFound("报告不存在")
    return report


def find_report(session: Session, task_id: int, unit_id: int, period: str) -> ProgressReport | None:
    return session.scalar(
        select(ProgressReport).where(
            ProgressReport.task_id == task_id, ProgressReport.unit_id == unit_id, ProgressReport.period == period
        )
    )


# -- the one definition of a report's state -----------------------------------


def cell_state(report: ProgressReport | None, due: date, today: date) -> str:
    """The state of a (task, unit, month) inside the plan's period, given its due date: see `report_state`.

    `report` may be a row carrying only the status.
    """
    status = report.status if report else None
    if status in (SUBMITTED, ACCEPTED, RETURNED):
        return status
    if today > due:
        return OVERDUE
    return status or NOT_DUE


def report_state(plan: Plan, month: Period, report: ProgressReport | None, today: date) -> str:
    """The state of one (task, unit, month): the one definition every page, count, score and card rule uses.

    - 不在方案期内 (out_of_plan): the month lies outside the plan's period; nothing is owed, nothing counts.
    - 已报送 / 已退回 / 已通过: submitted at least once; 迟报 besides when first submitted after the due day
      (`report.is_late`, frozen at submission), else on time.
    - 逾期未报 (overdue): the due day is over and nothing was ever submitted, a saved draft included.
    - 草稿 / 未报 (draft / not_due): before the due day, a draft saved or nothing yet.
    """
    if not in_plan_period(plan, month):
        return OUT_OF_PLAN
    return cell_state(report, due_date(plan, month), today)


def due_months(plan: Plan, today: date, months: list[Period] | None = None) -> list[Period]:
    """The months that owe reports by `today`: those of `months` (default the plan's whole period) inside the plan's
    period whose due day is over. Every count of 应报, 按时, 迟报 and 逾期未报 runs over these months."""
    span = plan_months(plan) if months is None else [m for m in months if in_plan_period(plan, m)]
    return [m for m in span if today > due_date(plan, m)]


@dataclass(frozen=True)
class Cell:
    task_id: int
    unit_id: int
    role: str
    state: str
    report_id: int | None
    is_late: bool
    urges: int


@dataclass(frozen=True)
class Grid:
    """The task × unit state grid of one month; a month outside the plan's period has no cells (in_plan False)."""

    period: Period
    due: date
    tasks: list[Task]
    units: list[Unit]
    cells: dict[tuple[int, int], Cell]
    counts: dict[str, int]
    unit_counts: dict[int, dict[str, int]] = field(default_factory=dict)
    in_plan: bool = True

    def cell(self, task_id: int, unit_id: int) -> Cell | None:
        return self.cells.get((task_id, unit_id))

    def unit_count(self, unit_id: int, state: str) -> int:
        return self.unit_counts.get(unit_id, {}).get(state, 0)


def build_grid(session: Session, plan: Plan, period: Period, today: date | None = None) -> Grid:
    """Every (task, unit) cell of the month with its state and counts per state; a fixed number of queries."""
    today = today or clock.today()
    due = due_date(plan, period)
    if not in_plan_period(plan, period):
        return Grid(period, due, [], [], {}, {}, {}, in_plan=False)
    tasks = load_tasks(session, plan)
    plan_duties = duties(session, plan, tasks)
    # a cell needs a report's id, state and lateness only: rows, not whole reports with their texts
    reports = {
        (r.task_id, r.unit_id): r
        for r in session.execute(
            select(
                ProgressReport.id,
                ProgressReport.task_id,
                ProgressReport.unit_id,
                ProgressReport.status,
                ProgressReport.is_late,
            )
            .join(Task)
            .where(Task.plan_id == plan.id, ProgressReport.period == period.code)
        )
    }
    urge_counts = dict(
        ((t, u), n)
        for t, u, n in session.execute(
            select(Urge.task_id, Urge.unit_id, func.count())
            .where(Urge.period == period.code)
            .group_by(Urge.task_id, Urge.unit_id)
        )
    )
    cells: dict[tuple[int, int], Cell] = {}
    units: dict[int, Unit] = {}
    counts: Counter = Counter()
    unit_counts: dict[int, Counter] = defaultdict(Counter)
    for d in plan_duties:
        r = reports.get((d.task.id, d.unit.id))
        state = report_state(plan, period, r, today)
        cells[(d.task.id, d.unit.id)] = Cell(
            d.task.id,
            d.unit.id,
            d.role,
            state,
            r.id if r else None,
            bool(r and r.is_late),
            urge_counts.get((d.task.id, d.unit.id), 0),
        )
        units[d.unit.id] = d.unit
        counts[state] += 1
        unit_counts[d.unit.id][state] += 1
    ordered_units = sorted(units.values(), key=lambda u: (u.kind != "department", u.sort_order, u.id))
    return Grid(
        period,
        due,
        tasks,
        ordered_units,
        cells,
        {s: counts.get(s, 0) for s in STATE_ORDER},
        {k: dict(v) for k, v in unit_counts.items()},
    )


def month_counts(session: Session, plan: Plan, period: Period, today: date | None = None) -> dict[str, int]:
    """How many of the month's (task, unit) cells are in each state, counted as `build_grid` counts them
    (empty for a month outside the plan's period).

    For pages that show the counts only: no measures, urges or cells are loaded.
    """
    today = today or clock.today()
    if not in_plan_period(plan, period):
        return {}
    tasks = list(
        session.scalars(
            select(Task)
            .where(Task.plan_id == plan.id)
            .order_by(Task.number)
            .options(selectinload(Task.assignments).selectinload(Assignment.unit))
        )
    )
    reports = {
        (r.task_id, r.unit_id): r
        for r in session.execute(
            select(ProgressReport.task_id, ProgressReport.unit_id, ProgressReport.status)
            .join(Task)
            .where(Task.plan_id == plan.id, ProgressReport.period == period.code)
        )
    }
    counts = Counter(
        report_state(plan, period, reports.get((d.task.id, d.unit.id)), today) for d in duties(session, plan, tasks)
    )
    return {s: counts.get(s, 0) for s in STATE_ORDER}


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
    plan_duties = plan_duties if plan_duties is not None else duties(session, plan)
    plan_duties = [d for d in plan_duties if unit_id is None or d.unit.id == unit_id]
    codes = [m.code for m in months]
    in_span = [Task.plan_id == plan.id, ProgressReport.period.in_(codes)]
    if unit_id is not None:
        in_span.append(ProgressReport.unit_id == unit_id)
    # only the columns counted: rows instead of whole reports with their texts
    reports = {
        (r.task_id, r.unit_id, r.period): r
        for r in session.execute(
            select(
                ProgressReport.id,
                ProgressReport.task_id,
                ProgressReport.unit_id,
                ProgressReport.period,
                ProgressReport.status,
                ProgressReport.is_late,
            )
            .join(Task)
            .where(*in_span)
        )
    }
    returns = Counter(
        session.execute(
            select(ProgressReport.id).join(ReportEvent).join(Task).where(*in_span, ReportEvent.action == "return")
        ).scalars()
    )
    acc: dict = defaultdict(Counter)
    units: dict = {}
    for m in months:
        for d in plan_duties:
            key = (d.unit.id, d.role) if by_role else d.unit.id
            units[key] = d.unit
            c = acc[key]
            c["due"] += 1
            r = reports.get((d.task.id, d.unit.id, m.code))
            state = report_state(plan, m, r, today)
            if state == OVERDUE:
                c["overdue"] += 1
                continue
            c["late" if r.is_late else "on_time"] += 1
            c["return_events"] += returns.get(r.id, 0)
            if state == ACCEPTED:
                c["accepted"] += 1
                if not r.is_late:
                    c["on_time_accepted"] += 1
            elif state == RETURNED:
                c["returned"] += 1
    return {key: Timeliness(units[key], **dict(c)) for key, c in acc.items()}


def unit_timeliness(
    session: Session, plan: Plan, unit: Unit, today: date | None = None, plan_duties: list[Duty] | None = None
) -> Timeliness | None:
    """The unit's counts over the plan's period so far: what the 工作台, the unit page and the to-do show.

    None when nothing has fallen due for the unit yet.
    """
    return timeliness(session, plan, None, today, unit_id=unit.id, plan_duties=plan_duties).get(unit.id)


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
    plan_duties = duties(session, plan)
    my_duties = [d for d in plan_duties if d.unit.id == unit.id]
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
        if len(saved) == limit:
            oldest = saved[-1].period  # the list is cut: owed months older than the saved ones shown are left out
        for r in saved:
            if plan is not None and r.task.plan_id == plan.id:
                state = report_state(plan, Period.parse(r.period), r, today)
            else:
                state = OUT_OF_PLAN  # a report of another plan
            rows.append(ReportRow(r.task, r.unit, r.period, state, r))
    if plan is not None and status in (None, OVERDUE, NOT_DUE):
        # (task, unit, month) owed without a report: overdue ones always, not-yet-due ones when asked for
        this_month = Period.of_date(today)
        months = [
            m
            for m in plan_months(plan)
            if m <= this_month and (not period or m.code == period) and (oldest is None or m.code > oldest)
        ]
        keys = select(ProgressReport.task_id, ProgressReport.unit_id, ProgressReport.period).where(
            ProgressReport.period.in_([m.code for m in months])
        )
        if unit_id:
            keys = keys.where(ProgressReport.unit_id == unit_id)
        written = set(session.execute(keys).tuples()) if months else set()
        my_duties = [d for d in duties(session, plan) if not unit_id or d.unit.id == unit_id] if months else []
        for m in months:
            for d in my_duties:
                if (d.task.id, d.unit.id, m.code) in written:
                    continue
                state = report_state(plan, m, None, today)
                if state == OVERDUE or (state == NOT_DUE and status == NOT_DUE):
                    rows.append(ReportRow(d.task, d.unit, m.code, state))
    if status:
        rows = [r for r in rows if r.state == status]
    rows.sort(key=lambda r: (_neg_month(r.period), r.task.number, _unit_key(r.unit)))
    return rows[:limit]


def _neg_month(code: str) -> int:
    """Sort key: newest month first."""
    return -(int(code[:4]) * 12 + int(code[5:7]))


def _unit_key(unit: Unit) -> tuple:
    return (unit.kind != "department", unit.sort_order, unit.id)


# -- writing ---------------------------------------------------------------


def _clean_fields(fields: dict) -> dict:
    out = {}
    for f in CONTENT_FIELDS:
        value = (fields.get(f) or "").replace("\r\n", "\n").strip()
        if len(value) > MAX_TEXT:
            raise ValidationError(f"“{CONTENT_LABELS[f]}”不能超过{MAX_TEXT}字")
        out[f] = value
    return out


def _measures(session: Session, task: Task, measure_ids: list[int]) -> list[Measure]:
    ids = set(measure_ids or [])
    chosen = [m for m in task.measures if m.id in ids]
    if len(chosen) != len(ids):
        raise ValidationError("所选具体措施不属于该任务")
    return chosen


# Two first saves of one report at the same moment: the second is a stale edit, as when it comes a moment later.
on_unique_violation("uq_progress_reports_task_id_unit_id_period", lambda _row: StaleEdit())


def _check_in_plan(plan: Plan, month: Period, consequence: str) -> None:
    """A month outside the plan's period owes nothing: no report is written, submitted or urged for it."""
    if month.kind != "month" or not in_plan_period(plan, month):
        raise ValidationError(f"{month.label}不在方案期内({plan_period_label(plan)}),{consequence}")


def _check_version(report: ProgressReport, version: int | None) -> None:
    if version is None or report.version != version:
        raise StaleEdit()


def save_draft(
    session: Session,
    actor,
    *,
    task_id: int,
    unit_id: int,
    period: str,
    fields: dict,
    measure_ids: list[int] | None = None,
    version: int | None = None,
) -> ProgressReport:
    """Create or update the unit's report as a draft. `version` is None only for a new report."""
    policy.require(actor, "report.write", unit_id)
    p = Period.parse(period)
    if p.kind != "month":
        raise ValidationError("报告期间须为月份")
    if p.start > clock.today():
        raise ValidationError("不能填报未来月份的报告")
    task = session.get(Task, task_id)
    unit = session.get(Unit, unit_id)
    if task is None or unit is None:
        raise NotFound("任务或单位不存在")
    if not has_duty(session, task, unit):
        raise ValidationError(f"{unit.name}不是该任务的责任单位或成员单位")
    _check_in_plan(task.plan, p, "无需填报")
    content = _clean_fields(fields)
    chosen = _measures(session, task, measure_ids or [])
    report = find_report(session, task_id, unit_id, p.code)
    if report is None:
        if version is not None:
            raise StaleEdit()
        report = ProgressReport(task=task, unit=unit, period=p.code, status=DRAFT)
        session.add(report)
        before = None
    else:
        _check_version(report, version)
        if report.status not in EDITABLE:
            raise WorkflowError(f"报告{report.status_label},不能修改")
        before = report.snapshot()
    for f, v in content.items():
        setattr(report, f, v)
    report.measures = chosen
    report.updated_at = clock.now()
    session.flush()
    # added beside the report rather than appended to report.events, which would first load the report's history
    session.add(ReportEvent(report=report, action="save", actor_id=actor.id, at=clock.now(), content=report.content()))
    record(
        session,
        actor,
        "report.save",
        report,
        before=before,
        summary=f"{unit.name} 保存 {task.short_label} {p.label} 报告草稿",
    )
    return report


def submit_report(session: Session, actor, report_id: int, version: int) -> ProgressReport:
    """Submit a draft or returned report for review; the first submission after the due date is 迟报."""
    report = get_report(session, report_id)
    policy.require(actor, "report.write", report)
    _check_version(report, version)
    if report.status not in EDITABLE:
        raise WorkflowError("只有草稿或已退回的报告可以报送")
    _check_in_plan(report.task.plan, Period.parse(report.period), "无需报送")
    missing = [f for f in REQUIRED_ON_SUBMIT if not getattr(report, f).strip()]
    if missing:
        raise ValidationError(
            "报送前请填写:" + "、".join(CONTENT_LABELS[f] for f in missing),
            fields=dict.fromkeys(missing, "报送前必须填写"),
        )
    before = report.snapshot()
    now = clock.now()
    if report.first_submitted_at is None:
        report.first_submitted_at = now
        plan = report.task.plan
        report.is_late = clock.local(now).date() > due_date(plan, Period.parse(report.period))
    report.status, report.submitted_at = SUBMITTED, now
    session.add(ReportEvent(report=report, action="submit", actor_id=actor.id, at=now, content=report.content()))
    record(
        session,
        actor,
        "report.submit",
        report,
        before=before,
        summary=f"{report.unit.name} 报送 {report.task.short_label} {report.period} 报告",
    )
    return report


def review_report(
    session: Session, actor, report_id: int, version: int, decision: str, comment: str = ""
) -> ProgressReport:
    """Accept a submitted report, or return it with a comment for the unit to fix."""
    report = get_report(session, report_id)
    policy.require(actor, "report.review", report)
    _check_version(report, version)
    if report.status != SUBMITTED:
        raise WorkflowError("只有已报送的报告可以审核")
    comment = (comment or "").strip()
    if len(comment) > 2000:
        raise ValidationError("审核意见不能超过2000字")
    if decision == "return":
        if not comment:
            raise ValidationError("退回时请填写退回意见")
        status, action = RETURNED, "return"
    elif decision == "accept":
        status, action = ACCEPTED, "accept"
    else:
        raise ValidationError("审核结论无效")
    before = report.snapshot()
    now = clock.now()
    report.status, report.reviewed_at, report.reviewer_id, report.review_comment = status, now, actor.id, comment
    session.add(
        ReportEvent(report=report, action=action, actor_id=actor.id, at=now, comment=comment, content=report.content())
    )
    record(
        session,
        actor,
        f"report.{action}",
        report,
        before=before,
        summary=f"{'退回' if action == 'return' else '通过'} {report.unit.name} {report.task.short_label} "
        f"{report.period} 报告",
    )
    return report


def urge(session: Session, actor, *, task_id: int, unit_id: int, period: str, message: str = "") -> Urge:
    """Remind a unit of a report it has not submitted; recorded and shown to the unit."""
    policy.require(actor, "report.urge")
    p = Period.parse(period)
    task, unit = session.get(Task, task_id), session.get(Unit, unit_id)
    if task is None or unit is None:
        raise NotFound("任务或单位不存在")
    if not has_duty(session, task, unit):
        raise ValidationError(f"{unit.name}不承担该任务")
    _check_in_plan(task.plan, p, "不能催办")
    report = find_report(session, task_id, unit_id, p.code)
    if report is not None and report.status in (SUBMITTED, ACCEPTED):
        raise WorkflowError("该报告已报送,无需催办")
    message = (message or "").strip() or f"请尽快报送{task.short_label}{p.label}工作进展。"
    if len(message) > 500:
        raise ValidationError("催办内容不能超过500字")
    u = Urge(task=task, unit=unit, period=p.code, actor_id=actor.id, at=clock.now(), message=message)
    session.add(u)
    record(
        session,
        actor,
        "report.urge",
        u,
        after={"task_id": task_id, "unit_id": unit_id, "period": p.code, "message": message},
        summary=f"催办 {unit.name} {task.short_label} {p.label} 报告",
    )
    return u


def mark_urges_read(session: Session, actor, unit_id: int) -> int:
    """The unit's officer has seen its urges."""
    policy.require(actor, "report.write", unit_id)
    unread = list(session.scalars(select(Urge).where(Urge.unit_id == unit_id, Urge.read_at.is_(None))))
    for u in unread:
        u.read_at = clock.now()
    if unread:
        record(
            session,
            actor,
            "urge.read",
            object_type="Urge",
            object_id=None,
            after={"ids": [u.id for u in unread]},
            summary=f"已阅{len(unread)}条催办",
        )
    return len(unread)
