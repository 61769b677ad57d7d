"""The briefing's and the scorecard's progress section: each task's units with their report states over the period's
months, the overdue reports with their urges, the accepted reports' highlights, and the evidence attached."""

from __future__ import annotations

import heapq
from collections import Counter
from datetime import date
from operator import itemgetter
from typing import NamedTuple

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..db import plain_rows
from ..evidence.models import Attachment, OwnerKind
from ..org.models import Unit
from ..periods import Period
from ..plans.models import Plan, Task
from ..plans.numerals import cn_number
from ..plans.service import Duty, due_date, duty_rows_and_leads, in_plan_period
from ..progress.models import ACCEPTED, OVERDUE, STATE_LABELS, ProgressReport, Urge
from ..progress.service import cell_state
from .rows import OverdueRow, TaskProgress, UnitState

HIGHLIGHT_CHARS = 80


class SectionTask(NamedTuple):
    """A task as the section shows it: plain values read with the plan's duties, not an ORM entity."""

    id: int
    number: int
    label: str  # (一)title, as Task.label
    short_label: str  # 任务一, as Task.short_label
    leads: list[str]  # the lead units' names, as Task.units_with_role("lead") gives them


def plan_tasks(session: Session, plan: Plan) -> tuple[list[SectionTask], list[Duty]]:
    """The plan's tasks and duties, as the section reads them and as the counting of reports reads them
    (`counting_duties`: the same duties in the same order), from plain rows (`duty_rows_and_leads`): each duty's
    task a `TaskRow`, its unit a `UnitRow`."""
    rows, plan_duties, leads = duty_rows_and_leads(session, plan)
    tasks = {t.id: t for t in rows}
    return (
        [SectionTask(t.id, t.number, f"({cn_number(t.number)}){t.title}", t.short_label, leads[t.id]) for t in rows],
        [Duty(tasks[task_id], unit, role) for task_id, unit, role in plan_duties],
    )


def task_progress(
    session: Session,
    plan: Plan,
    period: Period,
    today: date,
    urge_counts: Counter | None = None,
    tasks_and_duties: tuple[list[SectionTask], list[Duty]] | None = None,
) -> tuple[list[TaskProgress], list[OverdueRow]]:
    """Each task's units with their states over the period's months, and the overdue reports.

    urge_counts, keyed (task id, unit id, month code), when the caller has read the period's urges already;
    tasks_and_duties, `plan_tasks`, when it has read those.
    """
    tasks, plan_duties = tasks_and_duties or plan_tasks(session, plan)
    months = period.months()
    codes = [m.code for m in months]
    reports = _report_columns(session, plan, codes)
    if urge_counts is None:
        urge_counts = Counter(
            tuple(u)
            for u in session.execute(select(Urge.task_id, Urge.unit_id, Urge.period).where(Urge.period.in_(codes)))
        )
    units = {d.unit.id: d.unit for d in plan_duties}
    duties_of: dict[int, list] = {t.id: [] for t in tasks}
    for d in plan_duties:
        duties_of[d.task.id].append(d)
    accepted_of: dict[int, list] = {t.id: [] for t in tasks}
    for (tid, _u, _p), r in reports.items():
        if tid in accepted_of and r[3] == ACCEPTED and r[4]:  # status, progress
            accepted_of[tid].append(r)
    # each month due so far: its code and label worked out once, not per unit
    dues = [(m.code, m.label, due_date(plan, m)) for m in months if m.start <= today and in_plan_period(plan, m)]
    out, overdue = [], []
    for t in tasks:
        rows = [_unit_state(t, d, dues, reports, urge_counts, today, overdue) for d in duties_of[t.id]]
        out.append(
            TaskProgress(
                t.number,
                t.label,
                t.leads,
                [d.unit.name for d in duties_of[t.id] if d.role == "member"],
                rows,
                _highlights(session, units, accepted_of[t.id]),
            )
        )
    return out, overdue


def _report_columns(session: Session, plan: Plan, codes: list[str]) -> dict:
    """The period's reports of the plan's tasks keyed (task id, unit id, month code), as rows of the columns the
    section shows: whole reports (texts, times, versions) cost far more to build; fetched at once, not row by row."""
    return {
        (r[0], r[1], r[2]): r  # task, unit, month (by position: a row's names are looked up)
        for r in plain_rows(
            session,
            select(
                ProgressReport.task_id,
                ProgressReport.unit_id,
                ProgressReport.period,
                ProgressReport.status,
                ProgressReport.progress,
            )
            .join(Task)
            .where(Task.plan_id == plan.id, ProgressReport.period.in_(codes)),
        )
    }


def _unit_state(task, duty, dues, reports, urge_counts, today, overdue: list) -> UnitState:
    """One unit's states over the months due so far (`dues`: code, label, due date); its overdue months are appended
    to `overdue`.

    Every month of `dues` lies in the plan's period, so its state needs its due date only (`cell_state`, as
    `report_state` would answer)."""
    states: dict[str, int] = {}
    latest = ""
    unit = duty.unit
    task_id, unit_id = task.id, unit.id
    for code, label, due in dues:
        key = (task_id, unit_id, code)
        s = cell_state(reports.get(key), due, today)
        states[s] = states.get(s, 0) + 1
        latest = s
        if s == OVERDUE:
            overdue.append(
                OverdueRow(unit.name, task.short_label, label, due, STATE_LABELS[s], urge_counts.get(key, 0))
            )
    return UnitState(unit.name, duty.role_label, states, latest)


def _highlights(session: Session, units: dict, accepted: list) -> list[tuple[str, str]]:
    """The three latest accepted reports' progress, clipped. A report's unit is one of the plan's units, or (no
    longer responsible) read once from the session."""
    found: dict[int, tuple[Unit, int]] = {}  # unit id -> the unit and its sort order, read once per unit
    keyed = []
    for r in accepted:  # rows of task, unit, month, status, progress (by position)
        uid = r[1]
        unit_order = found.get(uid)
        if unit_order is None:
            unit = units.get(uid) or session.get(Unit, uid)
            unit_order = found[uid] = (unit, unit.sort_order)
        keyed.append(((r[2], unit_order[1]), r, unit_order[0]))
    # the first three of the list sorted newest first (ties in the order read), without sorting all of it
    latest = heapq.nlargest(3, keyed, key=itemgetter(0))
    return [(u.name, clip(r[4])) for _key, r, u in latest]


def clip(text: str) -> str:
    """One highlight, without its closing punctuation: the list joins them with ";" and ends with "。"."""
    text = " ".join(text.split())
    text = text if len(text) <= HIGHLIGHT_CHARS else text[:HIGHLIGHT_CHARS] + "…"
    return text.rstrip("。.;；,，、 ") or text


def evidence_per_unit(session: Session, plan: Plan, period: Period) -> list[tuple[str, int]]:
    """How many files the units attached to their progress reports of the period's months (the plan's tasks)."""
    rows = session.execute(
        select(Unit.name, func.count(Attachment.id))
        .join(ProgressReport, ProgressReport.id == Attachment.owner_id)
        .join(Task, Task.id == ProgressReport.task_id)
        .join(Unit, Unit.id == ProgressReport.unit_id)
        .where(
            Attachment.owner_kind == OwnerKind.REPORT,
            Task.plan_id == plan.id,
            ProgressReport.period.in_(period.month_codes()),
        )
        .group_by(Unit.id, Unit.name, Unit.kind, Unit.sort_order)
        .order_by(Unit.kind, Unit.sort_order, Unit.id)
    )
    return [(name, n) for name, n in rows]
