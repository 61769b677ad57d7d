"""Progress reports: the area's interface. Drafting, submitting, reviewing and urging are defined here; a report's
state in state.py, the month's grid in grid.py, on-time counting in timeliness.py, the to-do and the reports list in
lists.py."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import clock, policy
from ..audit.service import record
from ..errors import NotFound, StaleEdit, ValidationError, WorkflowError, on_unique_violation
from ..org.models import Unit
from ..periods import Period
from ..plans.models import Measure, Plan, Task
from ..plans.service import (
    due_date,
    has_duty,
    in_plan_period,
    plan_period_label,
)
from .grid import Cell, Grid, build_grid, month_counts
from .lists import LIST_STATES, ReportRow, Todo, TodoItem, list_reports, unit_todo
from .models import (
    ACCEPTED,
    CONTENT_FIELDS,
    CONTENT_LABELS,
    DRAFT,
    RETURNED,
    SUBMITTED,
    ProgressReport,
    ReportEvent,
    Urge,
)
from .state import cell_state, due_months, report_state
from .timeliness import Timeliness, counting_duties, timeliness, unit_timeliness

# the reading side, defined in the modules above, is called through this interface too
__all__ = [
    "LIST_STATES",
    "Cell",
    "Grid",
    "ReportRow",
    "Timeliness",
    "Todo",
    "TodoItem",
    "build_grid",
    "cell_state",
    "counting_duties",
    "due_months",
    "list_reports",
    "month_counts",
    "report_state",
    "timeliness",
    "unit_timeliness",
    "unit_todo",
]

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
