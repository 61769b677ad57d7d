"""The indicators: looking them up, and the administrator adding, changing and seeding them."""

from __future__ import annotations

import re
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import policy
from ..audit.service import record
from ..errors import NotFound, StaleEdit, ValidationError, on_unique_violation
from ..org.models import Unit
from .models import (
    AGG_SUM,
    AGGREGATE_LABELS,
    DIRECTION_LABELS,
    MAX_DECIMALS,
    SCOPE_DISTRICT,
    SCOPE_LABELS,
    SCOPE_TOWNSHIP,
    Indicator,
    MetricValue,
)

CORE_CODES = ("cases", "losses", "arrests", "solved")  # the four of 两降两升


def get_indicator(session: Session, code: str) -> Indicator | None:
    """The indicator with this code, active or not."""
    return session.scalar(select(Indicator).where(Indicator.code == code))


def active_indicators(session: Session) -> list[Indicator]:
    """Switched-on indicators in display order."""
    return list(
        session.scalars(
            select(Indicator).where(Indicator.is_active.is_(True)).order_by(Indicator.sort_order, Indicator.id)
        )
    )


def all_indicators(session: Session) -> list[Indicator]:
    return list(session.scalars(select(Indicator).order_by(Indicator.sort_order, Indicator.id)))


def default_owner_id(session: Session) -> int:
    """The unit a new indicator is entered by unless the administrator says otherwise: whoever enters 发案数."""
    return session.scalar(select(Indicator.owner_unit_id).where(Indicator.code == "cases")) or 0


_CODE_RE = re.compile(r"[a-z][a-z0-9_]{1,31}")


def _indicator_name_taken(name: str) -> ValidationError:
    return ValidationError(f"已有名为“{name}”的指标")


# the same answer when another transaction added the indicator between the check and the write
on_unique_violation("uq_indicators_name", lambda row: _indicator_name_taken(row.get("name", "")))


def _clean_indicator(session: Session, data: dict, current: Indicator | None) -> dict:
    name = re.sub(r"\s+", "", str(data.get("name") or ""))
    if not 2 <= len(name) <= 64:
        raise ValidationError("指标名称须为2至64个字")
    if any(c in name for c in "()()"):
        raise ValidationError("指标名称不能含括号(括号用于表头中的计量单位)")
    unit_label = str(data.get("unit_label") or "").strip()
    if not 1 <= len(unit_label) <= 16:
        raise ValidationError("请填写计量单位(如 起、人、万元、%)")
    direction = data.get("direction")
    if direction not in DIRECTION_LABELS:
        raise ValidationError("请选择指标方向(越低越好或越高越好)")
    scope = data.get("scope") or SCOPE_TOWNSHIP
    if scope not in SCOPE_LABELS:
        raise ValidationError("填报层级无效")
    aggregate = data.get("aggregate") or AGG_SUM
    if aggregate not in AGGREGATE_LABELS:
        raise ValidationError("汇总方式无效")
    try:
        decimals = int(data.get("decimals") or 0)
        small_base = int(data.get("small_base") if data.get("small_base") is not None else 10)
        sort_order = int(data.get("sort_order") or 0)
    except (TypeError, ValueError):
        raise ValidationError("小数位数、小基数和排序须为整数") from None
    if not 0 <= decimals <= MAX_DECIMALS:
        raise ValidationError(f"小数位数须为0至{MAX_DECIMALS}")
    if small_base < 0:
        raise ValidationError("小基数不能为负数")
    owner_unit_id = data.get("owner_unit_id") or None
    if owner_unit_id is not None:
        owner = session.get(Unit, int(owner_unit_id))
        if owner is None:
            raise ValidationError("填报单位不存在")
        owner_unit_id = owner.id
    if scope == SCOPE_DISTRICT and owner_unit_id is None:
        raise ValidationError("按全区填报的指标须指定填报单位")
    clash = session.scalar(select(Indicator.id).where(Indicator.name == name))
    if clash and (current is None or clash != current.id):
        raise _indicator_name_taken(name)
    return {
        "name": name,
        "unit_label": unit_label,
        "direction": direction,
        "scope": scope,
        "aggregate": aggregate,
        "decimals": decimals,
        "small_base": small_base,
        "sort_order": sort_order,
        "owner_unit_id": owner_unit_id,
        "is_active": bool(data.get("is_active", True)),
        "note": str(data.get("note") or "")[:500],
    }


def create_indicator(session: Session, actor, data: dict) -> Indicator:
    """Add an indicator the district wants to track."""
    policy.require(actor, "indicator.manage")
    code = str(data.get("code") or "").strip()
    if not _CODE_RE.fullmatch(code):
        raise ValidationError("指标代码须为2至32位小写字母、数字或下划线,以字母开头(如 frozen_amount)")
    if session.scalar(select(Indicator.id).where(Indicator.code == code)):
        raise ValidationError(f"指标代码“{code}”已被使用")
    clean = _clean_indicator(session, data, None)
    ind = Indicator(code=code, **clean)
    session.add(ind)
    record(session, actor, "indicator.create", ind, summary=f"新增指标 {ind.label}")
    return ind


def update_indicator(session: Session, actor, indicator_id: int, version: int, data: dict) -> Indicator:
    """Rename, switch on or off, or change an indicator's settings; its code stays."""
    policy.require(actor, "indicator.manage")
    ind = session.get(Indicator, indicator_id)
    if ind is None:
        raise NotFound("指标不存在")
    if ind.version != version:
        raise StaleEdit()
    clean = _clean_indicator(session, data, ind)
    if ind.code in CORE_CODES:
        if not clean["is_active"]:
            raise ValidationError("两降两升的四项指标不能停用")
        if clean["direction"] != ind.direction:
            raise ValidationError("两降两升指标的方向不能更改")
    has_values = session.scalar(select(MetricValue.id).where(MetricValue.indicator_id == ind.id).limit(1))
    if has_values:
        if clean["scope"] != ind.scope:
            raise ValidationError("该指标已有数据,不能更改填报层级")
        if (clean["decimals"] == 0) != (ind.decimals == 0):
            raise ValidationError("该指标已有数据,不能在整数与小数之间切换")
        if clean["decimals"] < ind.decimals:
            step = Decimal(1).scaleb(-clean["decimals"])
            finer = [
                a
                for a in session.scalars(
                    select(MetricValue.amount).where(
                        MetricValue.indicator_id == ind.id, MetricValue.amount.is_not(None)
                    )
                )
                if a != a.quantize(step)
            ]
            if finer:
                raise ValidationError(f"已有{len(finer)}个数据的小数位多于{clean['decimals']}位,不能减少小数位数")
    before = ind.snapshot()
    for k, v in clean.items():
        setattr(ind, k, v)
    session.flush()
    record(session, actor, "indicator.update", ind, before=before, summary=f"修改指标 {ind.label}")
    return ind


def load_indicators(session: Session, actor, data: dict) -> int:
    """Create the indicators of a seed file that do not exist yet (by code); existing ones are left as they are."""
    existing = set(session.scalars(select(Indicator.code)))
    created = 0
    for i, d in enumerate(data["indicators"], 1):
        if d["code"] in existing:
            continue
        owner = session.scalar(select(Unit).where(Unit.name == d["owner"])) if d.get("owner") else None
        if d.get("owner") and owner is None:
            raise ValidationError(f"指标{d['name']}的填报单位“{d['owner']}”未登记")
        ind = Indicator(
            code=d["code"],
            name=d["name"],
            unit_label=d["unit_label"],
            direction=d["direction"],
            decimals=int(d.get("decimals", 0)),
            is_active=bool(d.get("is_active", True)),
            scope=d.get("scope", SCOPE_TOWNSHIP),
            aggregate=d.get("aggregate", AGG_SUM),
            owner_unit_id=owner.id if owner else None,
            small_base=int(d.get("small_base", 10)),
            sort_order=int(d.get("sort_order", i)),
            note=d.get("note", ""),
        )
        session.add(ind)
        record(session, actor, "indicator.create", ind, summary=f"载入指标 {ind.label}")
        created += 1
    return created
