"""Plans: loading a plan from data, reading who is responsible for what, reporting settings."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import NamedTuple

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, selectinload

from .. import policy
from ..audit.service import record
from ..db import plain_rows
from ..errors import NotFound, StaleEdit, ValidationError
from ..org.models import KIND_TOWNSHIP, Unit
from ..periods import Period, month_range
from .models import ROLE_LEAD, ROLE_MEMBER, Assignment, Goal, Measure, Plan, Requirement, Task
from .numerals import cn_number

TOWNSHIPS_LABEL = "各镇(街道)"


@dataclass(frozen=True)
class Duty:
    """A unit's part in a task (task: a `TaskRow` where only counted, `light_duties`)."""

    task: Task
    unit: Unit
    role: str

    @property
    def role_label(self) -> str:
        return "牵头" if self.role == ROLE_LEAD else "成员"


@dataclass(frozen=True)
class Responsibility:
    """A task's units as the plan lists them: lead units, then member departments and member towns."""

    leads: list[Duty]
    departments: list[Duty]
    townships: list[Duty]


def responsibility(task_duties: list[Duty]) -> Responsibility:
    """Group one task's duties for display, keeping their order."""
    members = [d for d in task_duties if d.role != ROLE_LEAD]
    return Responsibility(
        leads=[d for d in task_duties if d.role == ROLE_LEAD],
        departments=[d for d in members if d.unit.kind != KIND_TOWNSHIP],
        townships=[d for d in members if d.unit.kind == KIND_TOWNSHIP],
    )


def responsibilities(plan_duties: list[Duty], tasks: list[Task]) -> dict[int, Responsibility]:
    """Each task's grouped duties, by task id, from the plan's duties in one pass."""
    by_task: dict[int, list[Duty]] = {t.id: [] for t in tasks}
    for d in plan_duties:
        by_task.setdefault(d.task.id, []).append(d)
    return {task_id: responsibility(ds) for task_id, ds in by_task.items()}


def active_plan(session: Session) -> Plan | None:
    """The newest active plan."""
    return session.scalar(_active_plan_query())


@cache
def _active_plan_query():
    """`active_plan`'s statement, built once: most pages read the plan (a statement holds no data; built anew,
    SQLAlchemy would work out its cache key again on every request)."""
    return select(Plan).where(Plan.is_active.is_(True)).order_by(Plan.year.desc(), Plan.id.desc()).limit(1)


def get_plan(session: Session, plan_id: int) -> Plan:
    plan = session.get(Plan, plan_id)
    if plan is None:
        raise NotFound("实施方案不存在")
    return plan


def load_tasks(session: Session, plan: Plan, measures: bool = True) -> list[Task]:
    """The plan's tasks with assignments (and, unless told not to, measures) loaded in a fixed number of queries."""
    loads = [selectinload(Task.assignments).selectinload(Assignment.unit)]
    if measures:
        loads.append(selectinload(Task.measures))
    return list(session.scalars(select(Task).where(Task.plan_id == plan.id).order_by(Task.number).options(*loads)))


def load_task(session: Session, task_id: int) -> Task | None:
    """One task with its plan, measures and assignments (with their units) loaded in a fixed number of queries."""
    return session.scalar(
        select(Task)
        .where(Task.id == task_id)
        .options(
            selectinload(Task.plan),
            selectinload(Task.measures),
            selectinload(Task.assignments).selectinload(Assignment.unit),
        )
    )


def duties(session: Session, plan: Plan, tasks: list[Task] | None = None) -> list[Duty]:
    """Every (task, unit, role) of the plan; 各镇(街道) expands to every active town and street.

    A unit named both explicitly and through 各镇(街道) counts once, with its explicit role.
    """
    tasks = tasks if tasks is not None else load_tasks(session, plan)
    townships = [(u.id, u) for u in session.scalars(_township_entities_query())]
    named = (
        (
            task,
            task.includes_townships,
            [
                (a.unit_id, a.unit, a.role, a.unit.is_active)
                for a in sorted(task.assignments, key=lambda a: (a.role != ROLE_LEAD, a.id))
            ],
        )
        for task in tasks
    )
    return [Duty(task, unit, role) for task, unit, role in _expanded(named, townships)]


def _expanded(tasks: Iterable[tuple], townships: list[tuple[int, object]]) -> list[tuple]:
    """The rule of who owes a task's reports, for every reading of the plan's duties (`duties`, `duty_rows`,
    `light_duties`): from each task in order with whether it names 各镇(街道) and its explicit units (unit id, unit,
    role, whether active), lead units first and then in the order assigned, the (task, unit, role) of each: an
    inactive unit left out, a unit named twice once with its first role, and for 各镇(街道) the `townships`
    (id, unit), in order, that the task does not name."""
    out: list[tuple] = []
    for task, with_townships, named in tasks:
        seen: set[int] = set()
        for unit_id, unit, role, active in named:
            if active and unit_id not in seen:
                seen.add(unit_id)
                out.append((task, unit, role))
        if with_townships:
            out += [(task, unit, ROLE_MEMBER) for unit_id, unit in townships if unit_id not in seen]
    return out


def _by_task(rows: list) -> list[tuple[TaskRow, bool, list]]:
    """Rows of `_tasks_with_units` (task id, number, title, whether it names 各镇(街道), unit id, role, then the
    unit's columns) grouped task by task: each task as a `TaskRow`, whether it names 各镇(街道), and its explicit
    units as (unit id, role, the unit's columns). A task without units keeps none."""
    out: list[tuple[TaskRow, bool, list]] = []
    for row in rows:
        task_id, number, title, with_townships, unit_id, role = row[:6]
        if not out or out[-1][0].id != task_id:
            out.append((TaskRow(task_id, number, title, f"任务{cn_number(number)}"), bool(with_townships), []))
        if unit_id is not None:
            out[-1][2].append((unit_id, role, row[6:]))
    return out


class TaskRow(NamedTuple):
    """A task as a page that only shows it reads it (the grid): plain values, not an ORM entity."""

    id: int
    number: int
    title: str
    short_label: str  # 任务一, as Task.short_label


class UnitRow(NamedTuple):
    """A unit as a page that only shows it reads it (the grid): plain values, not an ORM entity."""

    id: int
    name: str
    kind: str
    sort_order: int

    @property
    def is_township(self) -> bool:
        return self.kind == KIND_TOWNSHIP


def duty_rows(session: Session, plan: Plan) -> tuple[list[TaskRow], list[tuple[int, UnitRow, str]]]:
    """The plan's tasks in order, and every (task id, unit, role) of the plan exactly as `duties` gives them (the
    same duties in the same order), read as plain rows in at most two statements: for pages that only show them.

    The tasks with their assignments and units in one statement; the active towns and streets in another, when a
    task names 各镇(街道).
    """
    tasks, plan_duties, _leads = duty_rows_and_leads(session, plan)
    return tasks, plan_duties


def duty_rows_and_leads(
    session: Session, plan: Plan
) -> tuple[list[TaskRow], list[tuple[int, UnitRow, str]], dict[int, list[str]]]:
    """`duty_rows`, and each task's lead units' names as `Task.units_with_role("lead")` gives them (every unit
    assigned as lead, in the order assigned, an inactive one too), by task id: from the same statements."""
    tasks = _by_task(plain_rows(session, _tasks_and_units_query(), {"plan_id": plan.id}))
    townships = plain_rows(session, _townships_query()) if any(t[1] for t in tasks) else []
    named = [
        (task, with_townships, [(uid, UnitRow(uid, *rest[:3]), role, rest[3]) for uid, role, rest in units])
        for task, with_townships, units in tasks
    ]
    leads = {task.id: [unit.name for _uid, unit, role, _a in units if role == ROLE_LEAD] for task, _w, units in named}
    expanded = _expanded(named, [(r[0], UnitRow(*r)) for r in townships])
    return [t[0] for t in tasks], [(task.id, unit, role) for task, unit, role in expanded], leads


def plain_duties(session: Session, plan: Plan) -> list[Duty]:
    """The plan's duties exactly as `duties` gives them (the same duties in the same order), each task a `TaskRow`
    and each unit a `UnitRow`, from `duty_rows`' plain rows: for counting that reads a duty's ids only and keeps no
    unit entity (a page's scores and month counts)."""
    tasks, rows = duty_rows(session, plan)
    by_id = {t.id: t for t in tasks}
    return [Duty(by_id[task_id], unit, role) for task_id, unit, role in rows]


def light_duties(session: Session, plan: Plan) -> list[Duty]:
    """The plan's duties exactly as `duties` gives them (the same duties in the same order, each with the session's
    `Unit`), each task a `TaskRow` (counting reads a duty's task id only), in at most two statements: the tasks
    with their assignments' roles and units, and the active towns and streets when a task names 各镇(街道)."""
    tasks = _by_task(session.execute(_tasks_and_unit_entities_query(), {"plan_id": plan.id}).all())
    townships = list(session.scalars(_township_entities_query())) if any(t[1] for t in tasks) else []
    named = (
        (task, with_townships, [(uid, rest[0], role, rest[0].is_active) for uid, role, rest in units])
        for task, with_townships, units in tasks
    )
    return [Duty(task, unit, role) for task, unit, role in _expanded(named, [(u.id, u) for u in townships])]


# the statements of `duty_rows` and `light_duties`, each built once (a statement holds no data; built anew,
# SQLAlchemy would work out its cache key again on every call)
def _tasks_with_units(*unit_columns):
    """A plan's tasks with their explicit units (unit id, role, then `unit_columns`; tasks without any once, with
    nulls): task by task, leads first, each task's units in the order assigned, as `duties` takes them."""
    return (
        select(Task.id, Task.number, Task.title, Task.includes_townships, Assignment.unit_id, Assignment.role)
        .add_columns(*unit_columns)
        .select_from(Task)
        .outerjoin(Assignment, Assignment.task_id == Task.id)
        .outerjoin(Unit, Unit.id == Assignment.unit_id)
        .where(Task.plan_id == bindparam("plan_id"))
        .order_by(Task.number, Assignment.role != ROLE_LEAD, Assignment.id)
    )


@cache
def _tasks_and_units_query():
    return _tasks_with_units(Unit.name, Unit.kind, Unit.sort_order, Unit.is_active)


@cache
def _tasks_and_unit_entities_query():
    return _tasks_with_units(Unit)


def _townships(*columns):
    """The active towns and streets, in their order: what 各镇(街道) names."""
    return (
        select(*columns).where(Unit.kind == KIND_TOWNSHIP, Unit.is_active.is_(True)).order_by(Unit.sort_order, Unit.id)
    )


@cache
def _townships_query():
    return _townships(Unit.id, Unit.name, Unit.kind, Unit.sort_order)


@cache
def _township_entities_query():
    return _townships(Unit)


def task_duties(session: Session, task: Task) -> list[Duty]:
    return [d for d in duties(session, task.plan, [task])]


def unit_duties(session: Session, plan: Plan, unit: Unit) -> list[Duty]:
    """The unit's duties, as `duties` gives them, read without loading the whole plan's units (the to-do page).

    The role of its assignment (one per task and unit) where the plan names it, else 成员 through 各镇(街道) for a
    town or street; in task order; none for a deactivated unit.
    """
    if not unit.is_active:
        return []
    named: dict[int, str] = dict(
        session.execute(
            select(Assignment.task_id, Assignment.role)
            .join(Task, Task.id == Assignment.task_id)
            .where(Task.plan_id == plan.id, Assignment.unit_id == unit.id)
        ).all()
    )
    reach = Task.id.in_(named)
    if unit.kind == KIND_TOWNSHIP:
        reach = reach | Task.includes_townships.is_(True)
    tasks = session.scalars(select(Task).where(Task.plan_id == plan.id, reach).order_by(Task.number))
    return [Duty(task, unit, named.get(task.id, ROLE_MEMBER)) for task in tasks]


def has_duty(session: Session, task: Task, unit: Unit) -> bool:
    if not unit.is_active:
        return False
    if unit.is_township and task.includes_townships:
        return True
    return any(a.unit_id == unit.id for a in task.assignments)


def due_date(plan: Plan, period: Period) -> date:
    """The day a month's report is due: the plan's due day of that month."""
    return date(period.year, period.first, plan.due_day)


# -- the plan's period --------------------------------------------------------


def plan_start(plan: Plan) -> Period:
    return Period.parse(plan.start_month)


def plan_end(plan: Plan) -> Period:
    return Period.parse(plan.end_month)


def plan_months(plan: Plan) -> list[Period]:
    """Every month of the plan's period, first to last."""
    return month_range(plan_start(plan), plan_end(plan))


def in_plan_period(plan: Plan, month: Period) -> bool:
    """Whether a month lies inside the plan's period: a month outside it owes nothing."""
    return plan.start_month <= month.code <= plan.end_month


def plan_period_label(plan: Plan) -> str:
    """The plan's period as the pages print it: 2026年11月—2026年12月."""
    start, end = plan_start(plan), plan_end(plan)
    return start.label if start == end else f"{start.label}—{end.label}"


def last_due_month(plan: Plan, today: date) -> Period:
    """The last month whose due day has passed by `today` (today's month once its due day is over)."""
    month = Period.of_date(today)
    return month if today > due_date(plan, month) else month.previous()


_MONTH_RE = re.compile(r"(\d{4})-(\d{2})")


def _month(text: str, what: str) -> str:
    value = (text or "").strip()
    m = _MONTH_RE.fullmatch(value)
    if not m:
        raise ValidationError(f"{what}须为“年-月”格式,如2026-11,收到“{value}”")
    if not 1 <= int(m[2]) <= 12:
        raise ValidationError(f"{what}的月份须为01至12,收到“{value}”")
    if not 2000 <= int(m[1]) <= 2100:
        raise ValidationError(f"{what}的年份须在2000至2100年之间,收到“{value}”")
    return value


def update_period(session: Session, actor, plan_id: int, version: int, *, start_month: str, end_month: str) -> Plan:
    """Set the plan's period (first and last month, inclusive). Reports already saved are kept; months outside the
    period simply owe nothing."""
    policy.require(actor, "plan.manage")
    plan = get_plan(session, plan_id)
    if plan.version != version:
        raise StaleEdit()
    start, end = _month(start_month, "起始月份"), _month(end_month, "截止月份")
    if start > end:
        raise ValidationError(f"起始月份({Period.parse(start).label})不能晚于截止月份({Period.parse(end).label})")
    if (start, end) == (plan.start_month, plan.end_month):
        return plan
    before = plan.snapshot()
    plan.start_month, plan.end_month = start, end
    record(
        session,
        actor,
        "plan.period",
        plan,
        before=before,
        summary=f"修改方案期:{plan_period_label(plan)}",
    )
    return plan


def find_unit(session: Session, name: str) -> Unit | None:
    """A unit by its name or one of its other names."""
    name = (name or "").strip()
    unit = session.scalar(select(Unit).where(Unit.name == name))
    if unit:
        return unit
    for u in session.scalars(select(Unit)):
        if name in u.alias_list():
            return u
    return None


def load_plan(session: Session, actor, data: dict) -> tuple[Plan, bool]:
    """Create a plan from its data file form; an existing plan of the same title and year is left as it is.

    Returns the plan and whether it was created.
    """
    existing = session.scalar(select(Plan).where(Plan.title == data["title"], Plan.year == data["year"]))
    if existing:
        return existing, False
    plan = Plan(
        title=data["title"],
        year=int(data["year"]),
        district=data.get("district", ""),
        preamble=data.get("preamble", ""),
        guiding_ideology=data.get("guiding_ideology", ""),
        due_day=int(data.get("due_day", 25)),
        start_month=data.get("start_month") or f"{int(data['year'])}-01",
        end_month=data.get("end_month") or f"{int(data['year'])}-12",
    )
    for g in data.get("goals", []):
        plan.goals.append(Goal(number=g["number"], title=g["title"], body=g.get("body", "")))
    for r in data.get("requirements", []):
        plan.requirement_items.append(Requirement(number=r["number"], title=r["title"], body=r.get("body", "")))
    unknown: list[str] = []
    for t in data["tasks"]:
        task = Task(
            number=t["number"],
            title=t["title"],
            body=t["body"],
            responsibility_text=t.get("responsibility_text", ""),
            includes_townships=bool(t.get("includes_townships")),
        )
        for i, text in enumerate(t.get("measures", []), 1):
            task.measures.append(Measure(number=i, text=text))
        seen: set[int] = set()
        for role, key in ((ROLE_LEAD, "lead_units"), (ROLE_MEMBER, "member_units")):
            for name in t.get(key, []):
                unit = find_unit(session, name)
                if unit is None:
                    unknown.append(name)
                    continue
                if unit.id in seen:  # a unit named twice counts once
                    continue
                seen.add(unit.id)
                task.assignments.append(Assignment(unit=unit, role=role))
        plan.tasks.append(task)
    if unknown:
        raise ValidationError("方案中有未登记的单位:" + "、".join(dict.fromkeys(unknown)))
    session.add(plan)
    record(session, actor, "plan.create", plan, summary=f"载入实施方案 {plan.title}")
    return plan, True


def update_settings(
    session: Session, actor, plan_id: int, version: int, *, due_day: int, period_kind: str = "month"
) -> Plan:
    """Change the plan's reporting settings (monthly period, due day)."""
    policy.require(actor, "plan.manage")
    plan = get_plan(session, plan_id)
    if plan.version != version:
        raise StaleEdit()
    if period_kind != "month":
        raise ValidationError("目前仅支持按月填报")
    if not isinstance(due_day, int) or not 1 <= due_day <= 28:
        raise ValidationError("报送截止日须为每月1日至28日")
    before = plan.snapshot()
    plan.due_day, plan.period_kind = due_day, period_kind
    record(session, actor, "plan.settings", plan, before=before, summary=f"修改填报设置:每月{due_day}日截止")
    return plan
