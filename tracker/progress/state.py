"""A report's state: the one definition of 未报, 草稿, 已报送, 已退回, 已通过, 逾期未报 and 不在方案期内, and the months
that are due."""

from __future__ import annotations

from datetime import date

from ..periods import Period
from ..plans.models import Plan
from ..plans.service import (
    due_date,
    in_plan_period,
    plan_months,
)
from .models import (
    ACCEPTED,
    NOT_DUE,
    OUT_OF_PLAN,
    OVERDUE,
    RETURNED,
    SUBMITTED,
    ProgressReport,
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
