"""The assessment scheme and card rules as data: loading the seed, and administrator edits."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import clock
from ..audit.service import record
from ..auth import policy
from ..errors import NotFound, StaleEdit, ValidationError
from .models import Adjustment, CardColour, CardRule, Holiday, HolidayYear, SchemeItem


def load_seed(session: Session, actor, scheme: dict, cards: dict, holidays: dict) -> int:
    """Create the items, adjustments, colours, rules and holidays that do not exist yet. Returns rows added."""
    added = 0
    have_items = set(session.scalars(select(SchemeItem.code)))
    for i, it in enumerate(scheme["items"], 1):
        if it["code"] not in have_items:
            session.add(
                SchemeItem(
                    code=it["code"],
                    name=it["name"],
                    formula=it["formula"],
                    weight_township=Decimal(str(it["weight_township"])),
                    weight_department=Decimal(str(it["weight_department"])),
                    params=it.get("params", {}),
                    sort_order=i,
                )
            )
            added += 1
    have_adj = set(session.scalars(select(Adjustment.code)))
    for a in scheme["adjustments"]:
        if a["code"] not in have_adj:
            session.add(
                Adjustment(
                    code=a["code"],
                    name=a["name"],
                    kind=a["kind"],
                    event=a["event"],
                    points=Decimal(str(a["points"])),
                    cap=Decimal(str(a["cap"])),
                    applies_township=a.get("applies_township", True),
                    applies_department=a.get("applies_department", True),
                )
            )
            added += 1
    have_colours = set(session.scalars(select(CardColour.colour)))
    for c in cards["colours"]:
        if c["colour"] not in have_colours:
            session.add(CardColour(**c))
            added += 1
    have_rules = set(session.scalars(select(CardRule.code)))
    for i, r in enumerate(cards["rules"], 1):
        if r["code"] not in have_rules:
            session.add(
                CardRule(
                    code=r["code"],
                    name=r["name"],
                    colour=r["colour"],
                    kind=r["kind"],
                    params=r.get("params", {}),
                    sort_order=i,
                )
            )
            added += 1
    have_days = set(session.scalars(select(Holiday.day)))
    for h in holidays["days"]:
        d = date.fromisoformat(h["day"])
        if d not in have_days:
            session.add(Holiday(day=d, is_workday=h["is_workday"], name=h.get("name", "")))
            added += 1
    have_years = set(session.scalars(select(HolidayYear.year)))
    for y in holidays.get("years", []):
        if y["year"] not in have_years:
            session.add(HolidayYear(year=y["year"], source=y.get("source", ""), updated_at=clock.now()))
            added += 1
    if added:
        session.flush()
        record(
            session,
            actor,
            "scheme.load",
            object_type="Scheme",
            after={"rows": added},
            summary=f"载入考评办法与红黄牌规则({added}项)",
        )
    return added


def items(session: Session) -> list[SchemeItem]:
    return list(session.scalars(select(SchemeItem).order_by(SchemeItem.sort_order, SchemeItem.id)))


def adjustments(session: Session) -> list[Adjustment]:
    return list(session.scalars(select(Adjustment).order_by(Adjustment.kind, Adjustment.id)))


def rules(session: Session) -> list[CardRule]:
    return list(session.scalars(select(CardRule).order_by(CardRule.sort_order, CardRule.id)))


def _decimal(value, label: str, upper: Decimal = Decimal(100)) -> Decimal:
    try:
        d = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationError(f"{label}须为数字") from None
    if not d.is_finite() or d < 0 or d > upper:
        raise ValidationError(f"{label}须在0至{upper}之间")
    return d.quantize(Decimal("0.01"))


def _param_int(params: dict, key: str, label: str, low: int = 1, high: int = 1000) -> None:
    if key in params:
        try:
            v = int(params[key])
        except (TypeError, ValueError):
            raise ValidationError(f"{label}须为整数") from None
        if not low <= v <= high:
            raise ValidationError(f"{label}须在{low}至{high}之间")
        params[key] = v


def update_item(
    session: Session,
    actor,
    item_id: int,
    version: int,
    *,
    name: str,
    weight_township,
    weight_department,
    is_active: bool,
    params: dict | None = None,
) -> SchemeItem:
    """Change an item's name, weights, parameters or whether it counts."""
    policy.require(actor, "scheme.manage")
    item = session.get(SchemeItem, item_id)
    if item is None:
        raise NotFound("考评项目不存在")
    if item.version != version:
        raise StaleEdit()
    name = (name or "").strip()
    if not 2 <= len(name) <= 100:
        raise ValidationError("项目名称须为2至100字")
    before = item.snapshot()
    item.name = name
    item.weight_township = _decimal(weight_township, "镇(街道)分值")
    item.weight_department = _decimal(weight_department, "部门分值")
    item.is_active = is_active
    if params is not None:
        item.params = _check_params(item.formula, dict(params))
    record(session, actor, "scheme.item", item, before=before, summary=f"修改考评项目 {item.name}")
    return item


def _check_params(formula: str, params: dict) -> dict:
    if formula == "report_share" and params.get("role") not in ("lead", "member"):
        raise ValidationError("报告类项目须指定牵头(lead)或配合(member)")
    if formula == "target":
        if not params.get("indicator"):
            raise ValidationError("目标类项目须指定指标")
        params["target"] = str(_decimal(params.get("target"), "目标值", Decimal(10**9)))
        if Decimal(params["target"]) == 0:
            raise ValidationError("目标值须大于0")
    if formula in ("metric_yoy",) and not params.get("indicators"):
        raise ValidationError("须至少指定一个指标")
    return params


def update_adjustment(
    session: Session, actor, adj_id: int, version: int, *, points, cap, is_active: bool
) -> Adjustment:
    """Change points per event, the cap, or whether the deduction/bonus applies."""
    policy.require(actor, "scheme.manage")
    adj = session.get(Adjustment, adj_id)
    if adj is None:
        raise NotFound("扣分加分项不存在")
    if adj.version != version:
        raise StaleEdit()
    before = adj.snapshot()
    adj.points = _decimal(points, "每次分值")
    adj.cap = _decimal(cap, "上限")
    adj.is_active = is_active
    record(session, actor, "scheme.adjustment", adj, before=before, summary=f"修改{adj.name}")
    return adj


def update_rule(session: Session, actor, rule_id: int, version: int, *, params: dict, is_active: bool) -> CardRule:
    """Change a card rule's thresholds, or switch it on or off."""
    policy.require(actor, "scheme.manage")
    rule = session.get(CardRule, rule_id)
    if rule is None:
        raise NotFound("规则不存在")
    if rule.version != version:
        raise StaleEdit()
    params = dict(params)
    _param_int(params, "n", "名次/数量")
    _param_int(params, "pct", "百分比", 1, 10000)
    _param_int(params, "months", "月数", 1, 24)
    _param_int(params, "small_base", "小基数", 0, 10000)
    _param_int(params, "abs", "小基数时增加的起数", 1, 10000)
    before = rule.snapshot()
    rule.params = {**rule.params, **params}
    rule.is_active = is_active
    record(session, actor, "card_rule.update", rule, before=before, summary=f"修改红黄牌规则 {rule.code}")
    return rule
