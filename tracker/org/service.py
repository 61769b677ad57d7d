"""Units: listing, adding, renaming, deactivating."""

from __future__ import annotations

import re
from functools import cache

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import policy
from ..audit.service import record
from ..db import plain_rows
from ..errors import NotFound, StaleEdit, ValidationError, on_unique_violation
from .models import KIND_LABELS, Unit


def active_units(session: Session, kind: str | None = None) -> list[Unit]:
    q = select(Unit).where(Unit.is_active.is_(True))
    if kind:
        q = q.where(Unit.kind == kind)
    return list(session.scalars(q.order_by(Unit.kind, Unit.sort_order, Unit.id)))


def active_unit_names(session: Session) -> list[tuple[int, str]]:
    """(id, name) of the active units in the order of `active_units`, as plain rows: a form's choices."""
    return [(uid, name) for uid, name in plain_rows(session, _active_names_query())]


@cache
def _active_names_query():  # built once: built anew, SQLAlchemy works out its cache key on every call
    return select(Unit.id, Unit.name).where(Unit.is_active.is_(True)).order_by(Unit.kind, Unit.sort_order, Unit.id)


def all_units(session: Session) -> list[Unit]:
    return list(session.scalars(select(Unit).order_by(Unit.kind, Unit.sort_order, Unit.id)))


def _clean_name(name: str) -> str:
    name = re.sub(r"\s+", "", name or "")
    if not 2 <= len(name) <= 64:
        raise ValidationError("单位名称须为2至64个字")
    return name


def _clean_aliases(aliases: str) -> str:
    parts = [p for p in re.split(r"[、,,;;\s]+", aliases or "") if p]
    return "、".join(dict.fromkeys(parts))


def _name_taken(name: str) -> ValidationError:
    return ValidationError(f"单位“{name}”已存在")


# the same answer when another transaction added the name between the check and the write
on_unique_violation("uq_units_name", lambda row: _name_taken(row.get("name", "")))


def _check_unique(session: Session, name: str, exclude_id: int | None = None) -> None:
    q = select(Unit.id).where(Unit.name == name)
    if exclude_id:
        q = q.where(Unit.id != exclude_id)
    if session.scalar(q):
        raise _name_taken(name)


def create_unit(
    session: Session, actor, *, name: str, kind: str, aliases: str = "", sort_order: int | None = None
) -> Unit:
    """Add a unit. A new town or street is at once a member of every task that names 各镇(街道)."""
    policy.require(actor, "unit.manage")
    name = _clean_name(name)
    if kind not in KIND_LABELS:
        raise ValidationError("单位类型无效")
    _check_unique(session, name)
    if sort_order is None:
        sort_order = (session.scalar(select(func.max(Unit.sort_order)).where(Unit.kind == kind)) or 0) + 1
    unit = Unit(name=name, kind=kind, aliases=_clean_aliases(aliases), sort_order=sort_order)
    session.add(unit)
    record(session, actor, "unit.create", unit, summary=f"新增单位 {name}")
    return unit


def update_unit(
    session: Session, actor, unit_id: int, version: int, *, name: str, aliases: str, is_active: bool
) -> Unit:
    """Rename a unit, change its other names, or (de)activate it. History stays attached."""
    policy.require(actor, "unit.manage")
    unit = session.get(Unit, unit_id)
    if unit is None:
        raise NotFound("单位不存在")
    if unit.version != version:
        raise StaleEdit()
    name = _clean_name(name)
    _check_unique(session, name, exclude_id=unit.id)
    before = unit.snapshot()
    unit.name, unit.aliases, unit.is_active = name, _clean_aliases(aliases), is_active
    record(session, actor, "unit.update", unit, before=before, summary=f"修改单位 {before['name']}")
    return unit
