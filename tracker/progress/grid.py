"""The task × unit grid of a month, and the month's counts by state."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import NamedTuple

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from .. import clock
from ..db import plain_rows
from ..periods import Period
from ..plans.models import ROLE_LEAD, Plan, Task
from ..plans.service import (
    TaskRow,
    UnitRow,
    due_date,
    duty_rows,
    in_plan_period,
)
from .models import (
    STATE_LABELS,
    STATE_ORDER,
    ProgressReport,
    Urge,
)
from .state import cell_state
from .timeliness import counting_duties


class Cell(NamedTuple):
    """One (task, unit) of the month: the unit's role, the cell's state, its report (if any), 迟报, urges."""

    task_id: int
    unit_id: int
    role: str
    state: str
    report_id: int | None
    is_late: bool
    urges: int


@dataclass(frozen=True)
class GridRow:
    """One task's row as the page draws it: the task, its short label, and per unit of the grid (in the grid's
    order) the unit's id, its cell (None: the unit has no part in the task), the cell's state label and its
    tooltip (task · unit · state, 牵头, 迟报, urges)."""

    task: TaskRow
    label: str
    cells: list[tuple[int, Cell | None, str, str]]


@dataclass(frozen=True)
class Grid:
    """The task × unit state grid of one month; a month outside the plan's period has no cells (in_plan False)."""

    period: Period
    due: date
    tasks: list[TaskRow]  # plain rows: the grid only shows them
    units: list[UnitRow]
    cells: dict[tuple[int, int], Cell]
    counts: dict[str, int]
    unit_counts: dict[int, dict[str, int]] = field(default_factory=dict)
    in_plan: bool = True
    rows: list[GridRow] = field(default_factory=list)

    def cell(self, task_id: int, unit_id: int) -> Cell | None:
        return self.cells.get((task_id, unit_id))

    def unit_count(self, unit_id: int, state: str) -> int:
        return self.unit_counts.get(unit_id, {}).get(state, 0)


def build_grid(session: Session, plan: Plan, period: Period, today: date | None = None) -> Grid:
    """Every (task, unit) cell of the month with its state and counts per state; a fixed number of queries.

    Tasks, units and duties are read as plain rows (`duty_rows`): the grid only shows them."""
    today = today or clock.today()
    due = due_date(plan, period)
    if not in_plan_period(plan, period):
        return Grid(period, due, [], [], {}, {}, {}, in_plan=False)
    tasks, plan_duties = duty_rows(session, plan)
    # a cell needs a report's id, state and lateness only: rows, not whole reports with their texts; read by
    # position (a row's names are looked up one by one)
    params = {"plan_id": plan.id, "period": period.code}
    reports = {(r[1], r[2]): r for r in plain_rows(session, _reports_query(), params)}
    urge_counts = {(t, u): n for t, u, n in plain_rows(session, _urges_query(), {"period": period.code})}
    # a cell's state depends on its report's status alone (the month is in the plan's period: cell_state needs
    # the due date only), so each status's state is worked out once
    state_of = {None: cell_state(None, due, today)}
    cells: dict[tuple[int, int], Cell] = {}
    units: dict[int, UnitRow] = {}
    states: list[tuple[int, str]] = []
    for task_id, unit, role in plan_duties:
        uid = unit.id
        key = (task_id, uid)
        r = reports.get(key)
        if r is None:
            state = state_of[None]
            cells[key] = Cell(task_id, uid, role, state, None, False, urge_counts.get(key, 0))
        else:
            report_id, _task_id, _unit_id, status, is_late = r
            state = state_of.get(status)
            if state is None:
                state = state_of[status] = cell_state(r, due, today)
            cells[key] = Cell(task_id, uid, role, state, report_id, bool(is_late), urge_counts.get(key, 0))
        units[uid] = unit
        states.append((uid, state))
    counts = Counter(state for _uid, state in states)
    unit_counts: dict[int, dict[str, int]] = {}
    for (uid, state), n in Counter(states).items():
        unit_counts.setdefault(uid, {})[state] = n
    ordered_units = sorted(units.values(), key=lambda u: (u.kind != "department", u.sort_order, u.id))
    return Grid(
        period,
        due,
        tasks,
        ordered_units,
        cells,
        {s: counts.get(s, 0) for s in STATE_ORDER},
        unit_counts,
        rows=_rows(tasks, ordered_units, cells),
    )


# build_grid's statements, each built once (a statement holds no data; built anew, SQLAlchemy would work out its
# cache key again on every request)
@cache
def _reports_query():
    """The month's reports of the plan as the cells read them: id, task, unit, status and lateness."""
    return (
        select(
            ProgressReport.id,
            ProgressReport.task_id,
            ProgressReport.unit_id,
            ProgressReport.status,
            ProgressReport.is_late,
        )
        .join(Task)
        .where(Task.plan_id == bindparam("plan_id"), ProgressReport.period == bindparam("period"))
    )


@cache
def _urges_query():
    """How many times each (task, unit) was urged for the month."""
    return (
        select(Urge.task_id, Urge.unit_id, func.count())
        .where(Urge.period == bindparam("period"))
        .group_by(Urge.task_id, Urge.unit_id)
    )


def _rows(tasks: list[TaskRow], units: list[UnitRow], cells: dict[tuple[int, int], Cell]) -> list[GridRow]:
    heads = [(u.id, u.name) for u in units]
    rows = []
    for t in tasks:
        tid, label = t.id, t.short_label
        row = []
        for uid, name in heads:
            c = cells.get((tid, uid))
            if c is None:
                row.append((uid, None, "", ""))
                continue
            state = STATE_LABELS[c.state]
            title = (
                f"{label} · {name} · {state}{' · 牵头' if c.role == ROLE_LEAD else ''}{' · 迟报' if c.is_late else ''}"
                f"{f' · 已催办{c.urges}次' if c.urges else ''}"
            )
            row.append((uid, c, state, title))
        rows.append(GridRow(t, label, row))
    return rows


def month_counts(
    session: Session, plan: Plan, period: Period, today: date | None = None, plan_duties: list | None = None
) -> dict[str, int]:
    """How many of the month's (task, unit) cells are in each state, counted as `build_grid` counts them
    (empty for a month outside the plan's period).

    For pages that show the counts only: no measures, urges or cells are loaded. plan_duties: the plan's
    `counting_duties`, when the caller has read them already.
    """
    today = today or clock.today()
    if not in_plan_period(plan, period):
        return {}
    reports = {
        (r.task_id, r.unit_id): r
        for r in plain_rows(
            session,
            select(ProgressReport.task_id, ProgressReport.unit_id, ProgressReport.status)
            .join(Task)
            .where(Task.plan_id == plan.id, ProgressReport.period == period.code),
        )
    }
    due = due_date(plan, period)
    plan_duties = plan_duties if plan_duties is not None else counting_duties(session, plan)
    counts = Counter(cell_state(reports.get((d.task.id, d.unit.id)), due, today) for d in plan_duties)
    return {s: counts.get(s, 0) for s in STATE_ORDER}
