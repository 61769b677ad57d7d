"""The plan page's tasks, goals and requirements read as plain rows: the page only shows them, and the ORM's
entities (with their assignments, units and measures loaded eagerly) cost more to build than the page spends on
anything else."""

from __future__ import annotations

from functools import cache
from typing import NamedTuple

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from ..db import plain_rows
from .models import Goal, Plan, Requirement, Task
from .numerals import cn_number
from .service import Responsibility, duty_rows, responsibility


class PlanTask(NamedTuple):
    """A task as the plan page shows it: plain values, not an ORM entity."""

    id: int
    number: int
    title: str
    body: str
    includes_townships: bool

    @property
    def label(self) -> str:
        """As `Task.label`: (一)title."""
        return f"({cn_number(self.number)}){self.title}"


def plan_tasks(session: Session, plan: Plan) -> list[PlanTask]:
    """The plan's tasks in order, as `PlanTask`s, in one statement."""
    return [PlanTask(*row) for row in plain_rows(session, _plan_tasks_query(), {"plan_id": plan.id})]


@cache
def _plan_tasks_query():
    """`plan_tasks`' statement, built once (a statement holds no data; built anew, SQLAlchemy would work out its
    cache key again on every request)."""
    return (
        select(Task.id, Task.number, Task.title, Task.body, Task.includes_townships)
        .where(Task.plan_id == bindparam("plan_id"))
        .order_by(Task.number)
    )


class PlanItem(NamedTuple):
    """A goal or a requirement of the plan as the plan page shows it: plain values, not an ORM entity."""

    number: int
    title: str
    body: str


def plan_items(session: Session, plan: Plan) -> tuple[list[PlanItem], list[PlanItem]]:
    """The plan's goals and its requirements, each in number order as `Plan.goals` and `Plan.requirement_items`
    give them, as `PlanItem`s."""
    params = {"plan_id": plan.id}
    goals = [PlanItem(*row) for row in plain_rows(session, _plan_items_query(Goal), params)]
    return goals, [PlanItem(*row) for row in plain_rows(session, _plan_items_query(Requirement), params)]


@cache
def _plan_items_query(model):
    """`plan_items`' statement for goals or requirements (`model`), built once."""
    return (
        select(model.number, model.title, model.body)
        .where(model.plan_id == bindparam("plan_id"))
        .order_by(model.number)
    )


class UnitDuty(NamedTuple):
    """A unit's part in a task as the plan page groups and links it (`unit`: a `UnitRow`): a plain tuple, lighter to
    make for each of the plan's hundreds of duties than a `Duty`."""

    unit: object
    role: str


def plan_responsibilities(session: Session, plan: Plan, tasks: list[PlanTask]) -> dict[int, Responsibility]:
    """`service.responsibilities` of the plan's duties, by task id, from `service.duty_rows`' plain rows: the same
    units in the same groups and order, each a `UnitDuty`."""
    by_task: dict[int, list] = {t.id: [] for t in tasks}
    for task_id, unit, role in duty_rows(session, plan)[1]:
        by_task.setdefault(task_id, []).append(UnitDuty(unit, role))
    return {task_id: responsibility(ds) for task_id, ds in by_task.items()}
