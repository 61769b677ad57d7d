"""Progress reports: drafting, submitting, reviewing, urging, and counting what is overdue or late."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from .. import clock
from ..audit.service import record
from ..auth import policy
from ..errors import NotFound, StaleEdit, ValidationError, WorkflowError, on_unique_violation
from ..org.models import Unit
from ..periods import Period
from ..plans.models import Assignment, Measure, Plan, Task
from ..plans.service import Duty, due_date, duties, has_duty, load_tasks
from .models import (
    ACCEPTED,
    CONTENT_FIELDS,
    CONTENT_LABELS,
    DRAFT,
    NOT_DUE,
    OVERDUE,
    RETURNED,
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


def cell_state(report: ProgressReport | None, due: date, today: date) -> str:
    """The display state: a report not submitted by its due date is 逾期; before it, 未报 or 草稿.

    `report` may be a row carrying only the status.
    """
    status = report.status if report else None
    if status in (SUBMITTED, ACCEPTED, RETURNED):
        return status
    if today > due:
        return OVERDUE
    return status or NOT_DUE


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
    """The task × unit state grid of one month."""

    period: Period
    due: date
    tasks: list[Task]
    units: list[Unit]
    cells: dict[tuple[int, int], Cell]
    counts: dict[str, int]
    unit_counts: dict[int, dict[str, int]] = field(default_factory=dict)

    def cell(self, task_id: int, unit_id: int) -> Cell | None:
        return self.cells.get((task_id, unit_id))


def build_grid(session: Session, plan: Plan, period: Period, today: date | None = None) -> Grid:
    """Every (task, unit) cell of the month with its state and counts per state; a fixed number of queries."""
    today = today or clock.today()
    due = due_date(plan, period)
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
        state = cell_state(r, due, today)
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
    """How many of the month's (task, unit) cells are in each state, counted as `build_grid` counts them.

    For pages that show the counts only: no measures, urges or cells are loaded.
    """
    today = today or clock.today()
    due = due_date(plan, period)
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
    counts = Counter(cell_state(reports.get((d.task.id, d.unit.id)), due, today) for d in duties(session, plan, tasks))
    return {s: counts.get(s, 0) for s in STATE_ORDER}


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
    """What a unit owes: this month's reports, returned reports to fix, earlier months still missing, urges."""

    period: Period
    due: date
    current: list[TodoItem]
    returned: list[ProgressReport]
    missing_earlier: list[TodoItem]
    urges: list[Urge]


def unit_todo(session: Session, plan: Plan, unit: Unit, today: date | None = None, lookback_months: int = 3) -> Todo:
    """The officer's to-do list for the unit."""
    today = today or clock.today()
    period = Period.of_date(today)
    my_duties = [d for d in duties(session, plan) if d.unit.id == unit.id]
    months = [period]
    p = period
    for _ in range(lookback_months):
        p = p.previous()
        if p.year >= plan.year - 1:
            months.append(p)
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
    for m in months:
        due = due_date(plan, m)
        for d in my_duties:
            r = reports.get((d.task.id, m.code))
            state = cell_state(r, due, today)
            item = TodoItem(d, m, due, state, r, urges_by_key.get((d.task.id, m.code), []))
            if m == period:
                current.append(item)
            elif state == OVERDUE:
                earlier.append(item)
    returned = list(
        session.scalars(
            select(ProgressReport)
            .where(ProgressReport.unit_id == unit.id, ProgressReport.status == RETURNED)
            .options(selectinload(ProgressReport.task))
            .order_by(ProgressReport.period.desc())
        )
    )
    return Todo(period, due_date(plan, period), current, returned, earlier, urges)


@dataclass(frozen=True)
class Timeliness:
    """Per unit (or per unit and role), over a span of months whose due date has passed."""

    unit: Unit
    due: int = 0
    on_time: int = 0
    late: int = 0  # 迟报: first submitted after the due date
    overdue: int = 0  # 逾期: still not submitted after the due date
    accepted: int = 0
    returned: int = 0
    on_time_accepted: int = 0
    return_events: int = 0


def timeliness(
    session: Session,
    plan: Plan,
    months: list[Period],
    today: date | None = None,
    by_role: bool = False,
    unit_id: int | None = None,
    plan_duties: list[Duty] | None = None,
) -> dict:
    """Count due, on-time, late (迟报) and overdue (逾期) reports per unit for the given months.

    Keys are unit ids, or (unit id, role) pairs with by_role; unit_id limits the count to one unit.
    plan_duties, when the caller has them already, saves reading the plan's duties again.
    """
    today = today or clock.today()
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
                ProgressReport.first_submitted_at,
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
        due = due_date(plan, m)
        if today <= due:
            continue
        for d in plan_duties:
            key = (d.unit.id, d.role) if by_role else d.unit.id
            units[key] = d.unit
            c = acc[key]
            c["due"] += 1
            r = reports.get((d.task.id, d.unit.id, m.code))
            if r is None or r.first_submitted_at is None:
                c["overdue"] += 1
                continue
            c["late" if r.is_late else "on_time"] += 1
            c["return_events"] += returns.get(r.id, 0)
            if r.status == ACCEPTED:
                c["accepted"] += 1
                if not r.is_late:
                    c["on_time_accepted"] += 1
            elif r.status == RETURNED:
                c["returned"] += 1
    return {key: Timeliness(units[key], **dict(c)) for key, c in acc.items()}


def list_reports(
    session: Session,
    actor,
    *,
    period: str | None = None,
    unit_id: int | None = None,
    status: str | None = None,
    limit: int = 500,
) -> list[ProgressReport]:
    """Reports the actor may see, newest period first, filtered by period, unit and status."""
    q = select(ProgressReport).options(selectinload(ProgressReport.task), selectinload(ProgressReport.unit))
    if not policy.can(actor, "report.list_all"):
        q = q.where(ProgressReport.unit_id == actor.unit_id)
    if period:
        q = q.where(ProgressReport.period == period)
    if unit_id:
        q = q.where(ProgressReport.unit_id == unit_id)
    if status:
        q = q.where(ProgressReport.status == status)
    q = q.order_by(ProgressReport.period.desc(), ProgressReport.task_id, ProgressReport.unit_id).limit(limit)
    return list(session.scalars(q))


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
    report.events.append(ReportEvent(action="save", actor_id=actor.id, at=clock.now(), content=report.content()))
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
    report.events.append(ReportEvent(action="submit", actor_id=actor.id, at=now, content=report.content()))
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
    report.events.append(
        ReportEvent(action=action, actor_id=actor.id, at=now, comment=comment, content=report.content())
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
