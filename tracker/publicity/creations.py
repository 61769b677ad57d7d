"""The 无诈 creation register: a unit declares (申报) a 无诈社区/校园/企业/单位, the reviewer records the inspection
(验收) and the naming (命名), each with its date. The briefing counts them."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from .. import clock, policy
from ..audit.service import record
from ..errors import NotFound, StaleEdit, ValidationError, WorkflowError, on_unique_violation
from ..org.models import Unit
from ..periods import Period
from .models import (
    CREATION_KIND_LABELS,
    CREATION_ORDER,
    CREATION_STATUS_LABELS,
    DECLARED,
    INSPECTED,
    NAMED,
    Creation,
    CreationKind,
)

MAX_NAME = 100
MAX_NOTES = 1000


def _name_taken(kind: str, name: str) -> ValidationError:
    msg = f"{CREATION_KIND_LABELS[CreationKind(kind)]}“{name}”已登记"
    return ValidationError(msg, {"name": msg})


on_unique_violation(
    "uq_publicity_creations_kind_name", lambda row: _name_taken(row.get("kind", "unit"), row.get("name", ""))
)


def get_creation(session: Session, creation_id: int) -> Creation:
    c = session.get(Creation, creation_id)
    if c is None:
        raise NotFound("创建项目不存在")
    return c


def _clean(session: Session, actor, unit_id, kind, name, declared_on, notes, current: Creation | None) -> dict:
    unit = session.get(Unit, unit_id) if isinstance(unit_id, int) else None
    if unit is None or (not unit.is_active and (current is None or current.unit_id != unit.id)):
        raise ValidationError("请选择申报单位", {"unit_id": "请选择申报单位"})
    policy.require(actor, "creation.write", unit.id)
    try:
        kind = CreationKind(kind)
    except ValueError:
        raise ValidationError("请选择创建类型", {"kind": "请选择创建类型"}) from None
    name = (name or "").strip()
    if not name:
        raise ValidationError("请填写创建对象名称", {"name": "请填写创建对象名称"})
    if len(name) > MAX_NAME:
        raise ValidationError(f"名称不能超过{MAX_NAME}字", {"name": f"不能超过{MAX_NAME}字"})
    taken = session.scalar(
        select(Creation.id).where(
            Creation.kind == kind.value, Creation.name == name, Creation.id != (current.id if current else -1)
        )
    )
    if taken:
        raise _name_taken(kind.value, name)
    if declared_on is None:
        raise ValidationError("请填写申报日期", {"declared_on": "请填写申报日期"})
    if declared_on > clock.today():
        raise ValidationError("申报日期不能晚于今天", {"declared_on": "申报日期不能晚于今天"})
    notes = (notes or "").strip()
    if len(notes) > MAX_NOTES:
        raise ValidationError(f"备注不能超过{MAX_NOTES}字", {"notes": f"不能超过{MAX_NOTES}字"})
    return dict(unit_id=unit.id, kind=kind.value, name=name, declared_on=declared_on, notes=notes)


def declare(session: Session, actor, *, unit_id, kind, name, declared_on, notes="") -> Creation:
    clean = _clean(session, actor, unit_id, kind, name, declared_on, notes, None)
    c = Creation(status=DECLARED, created_at=clock.now(), **clean)
    session.add(c)
    session.flush()
    record(session, actor, "creation.declare", c, summary=f"{c.unit.name}申报{c.kind_label}“{c.name}”")
    return c


def update(session: Session, actor, creation_id: int, version: int | None, **values) -> Creation:
    c = get_creation(session, creation_id)
    policy.require(actor, "creation.write", c)
    if version is None or c.version != version:
        raise StaleEdit()
    if c.status != DECLARED:
        raise WorkflowError("已验收的创建项目不能再修改申报信息")
    clean = _clean(session, actor, current=c, **values)
    if clean["declared_on"] > (c.inspected_on or clean["declared_on"]):
        raise ValidationError("申报日期不能晚于验收日期")
    before = c.snapshot()
    for k, v in clean.items():
        setattr(c, k, v)
    session.flush()
    record(session, actor, "creation.update", c, before=before, summary=f"修改{c.kind_label}“{c.name}”申报信息")
    return c


def advance(session: Session, actor, creation_id: int, version: int | None, on: date | None) -> Creation:
    """申报 → 验收 → 命名, on the given date (not before the step before, not in the future)."""
    c = get_creation(session, creation_id)
    policy.require(actor, "creation.decide", c)
    if version is None or c.version != version:
        raise StaleEdit()
    if c.status == NAMED:
        raise WorkflowError(f"{c.kind_label}“{c.name}”已命名")
    step = "验收" if c.status == DECLARED else "命名"
    if on is None:
        raise ValidationError(f"请填写{step}日期", {"on": f"请填写{step}日期"})
    if on > clock.today():
        raise ValidationError(f"{step}日期不能晚于今天", {"on": f"{step}日期不能晚于今天"})
    earliest = c.declared_on if c.status == DECLARED else c.inspected_on
    if on < earliest:
        msg = f"{step}日期不能早于{'申报' if c.status == DECLARED else '验收'}日期({earliest.isoformat()})"
        raise ValidationError(msg, {"on": msg})
    before = c.snapshot()
    if c.status == DECLARED:
        c.status, c.inspected_on = INSPECTED, on
    else:
        c.status, c.named_on = NAMED, on
    session.flush()
    record(session, actor, f"creation.{c.status}", c, before=before, summary=f"{c.kind_label}“{c.name}”{step}")
    return c


def list_creations(session: Session, actor, status: str | None = None, unit_id: int | None = None) -> list[Creation]:
    q = select(Creation).options(selectinload(Creation.unit))
    if not policy.can(actor, "creation.list_all"):
        if actor.unit_id is None:
            return []
        q = q.where(Creation.unit_id == actor.unit_id)
    if status in CREATION_STATUS_LABELS:
        q = q.where(Creation.status == status)
    if unit_id is not None:
        q = q.where(Creation.unit_id == unit_id)
    return list(session.scalars(q.order_by(Creation.declared_on.desc(), Creation.id.desc())))


@dataclass(frozen=True)
class CreationCounts:
    """By the end of a period: how many creations stand at each status, per kind; and what moved in the period."""

    by_kind: dict[str, dict[str, int]]  # kind label -> status label -> count
    totals: dict[str, int]  # status label -> count
    declared_in: int
    inspected_in: int
    named_in: int


def counts(session: Session, period: Period) -> CreationCounts:
    """The status each creation had at the period's end (a later step not counted yet), and the steps taken in it."""
    end, start = period.end, period.start
    by_kind = {label: dict.fromkeys(CREATION_STATUS_LABELS.values(), 0) for label in CREATION_KIND_LABELS.values()}
    totals: Counter = Counter({label: 0 for label in CREATION_STATUS_LABELS.values()})
    declared_in = inspected_in = named_in = 0
    for c in session.scalars(select(Creation).where(Creation.declared_on <= end)):
        status = DECLARED
        if c.inspected_on and c.inspected_on <= end:
            status = INSPECTED
        if c.named_on and c.named_on <= end:
            status = NAMED
        label = CREATION_STATUS_LABELS[status]
        by_kind[c.kind_label][label] += 1
        totals[label] += 1
        declared_in += start <= c.declared_on <= end
        inspected_in += bool(c.inspected_on and start <= c.inspected_on <= end)
        named_in += bool(c.named_on and start <= c.named_on <= end)
    return CreationCounts(
        by_kind,
        {CREATION_STATUS_LABELS[s]: totals[CREATION_STATUS_LABELS[s]] for s in CREATION_ORDER},
        declared_in,
        inspected_in,
        named_in,
    )
