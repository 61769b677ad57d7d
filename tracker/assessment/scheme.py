"""The assessment scheme and card rules as data: loading the seed, and administrator edits."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import cache

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .. import clock, policy
from ..audit.service import record
from ..errors import NotFound, StaleEdit, ValidationError
from ..metrics.models import Indicator
from .models import (
    FORMULA_PARAMS,
    FORMULAS,
    NOT_APPLICABLE_POLICIES,
    Adjustment,
    CardColour,
    CardRule,
    Holiday,
    HolidayYear,
    SchemeItem,
    SchemeSettings,
)


def load_seed(session: Session, actor, scheme: dict, cards: dict, holidays: dict) -> int:
    """Create the items, adjustments, colours, rules and holidays that do not exist yet. Returns rows added."""
    settings(session)  # the scheme's settings row, with its defaults when missing
    added = _add_missing(session, SchemeItem.code, scheme["items"], lambda it: it["code"], _item)
    added += _add_missing(session, Adjustment.code, scheme["adjustments"], lambda a: a["code"], _adjustment)
    added += _add_missing(
        session, CardColour.colour, cards["colours"], lambda c: c["colour"], lambda _i, c: CardColour(**c)
    )
    added += _add_missing(session, CardRule.code, cards["rules"], lambda r: r["code"], _card_rule)
    added += _add_missing(
        session,
        Holiday.day,
        holidays["days"],
        lambda h: date.fromisoformat(h["day"]),
        lambda _i, h: Holiday(day=date.fromisoformat(h["day"]), is_workday=h["is_workday"], name=h.get("name", "")),
    )
    added += _add_missing(
        session,
        HolidayYear.year,
        holidays.get("years", []),
        lambda y: y["year"],
        lambda _i, y: HolidayYear(year=y["year"], source=y.get("source", ""), updated_at=clock.now()),
    )
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


def _add_missing(session: Session, key_column, entries: list[dict], key, build) -> int:
    """Add build(position, entry) for each entry whose key is not in key_column yet; the count added."""
    have = set(session.scalars(select(key_column)))
    new = [build(i, e) for i, e in enumerate(entries, 1) if key(e) not in have]
    session.add_all(new)
    return len(new)


def _item(position: int, it: dict) -> SchemeItem:
    return SchemeItem(
        code=it["code"],
        name=it["name"],
        formula=it["formula"],
        weight_township=Decimal(str(it["weight_township"])),
        weight_department=Decimal(str(it["weight_department"])),
        params=it.get("params", {}),
        sort_order=position,
    )


def _adjustment(_position: int, a: dict) -> Adjustment:
    return Adjustment(
        code=a["code"],
        name=a["name"],
        kind=a["kind"],
        event=a["event"],
        points=Decimal(str(a["points"])),
        cap=Decimal(str(a["cap"])),
        applies_township=a.get("applies_township", True),
        applies_department=a.get("applies_department", True),
    )


def _card_rule(position: int, r: dict) -> CardRule:
    return CardRule(
        code=r["code"],
        name=r["name"],
        colour=r["colour"],
        kind=r["kind"],
        params=r.get("params", {}),
        sort_order=position,
    )


def items(session: Session) -> list[SchemeItem]:
    return list(session.scalars(_items_query()))


def adjustments(session: Session) -> list[Adjustment]:
    return list(session.scalars(_adjustments_query()))


# statements every score reads, each built once (built anew, SQLAlchemy would work out its cache key again)
@cache
def _items_query():
    return select(SchemeItem).order_by(SchemeItem.sort_order, SchemeItem.id)


@cache
def _adjustments_query():
    return select(Adjustment).order_by(Adjustment.kind, Adjustment.id)


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


def settings(session: Session) -> SchemeSettings:
    """The scheme's settings (row id 1), created with the defaults when missing."""
    row = session.get(SchemeSettings, 1)
    if row is None:
        try:
            with session.begin_nested():
                row = SchemeSettings(id=1, not_applicable="rescale")
                session.add(row)
        except IntegrityError:  # created by a concurrent request in the meantime
            row = session.get(SchemeSettings, 1)
    return row


def not_applicable_policy(session: Session) -> str:
    """How an item with nothing due for a unit is scored: rescale (default), full or zero."""
    return settings(session).not_applicable


def update_settings(session: Session, actor, version: int, *, not_applicable: str) -> SchemeSettings:
    """Change how not-applicable items are scored (quarters not yet published are scored anew)."""
    policy.require(actor, "scheme.manage")
    if not_applicable not in NOT_APPLICABLE_POLICIES:
        raise ValidationError("不适用项目的计分办法无效")
    row = settings(session)
    if version is None or row.version != version:
        raise StaleEdit()
    if row.not_applicable == not_applicable:
        return row
    before = row.snapshot()
    row.not_applicable = not_applicable
    row.updated_at = clock.now()
    record(
        session,
        actor,
        "scheme.settings",
        row,
        before=before,
        summary=f"修改不适用项目的计分办法:{NOT_APPLICABLE_POLICIES[not_applicable]}",
    )
    return row


@dataclass(frozen=True)
class ItemEdit:
    """What the scheme form says of one item; params as typed (JSON text) or a dict, None to leave them."""

    item_id: int
    version: int | None
    name: str
    weight_township: object
    weight_department: object
    is_active: bool
    params: str | dict | None = None


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
    params: str | dict | None = None,
) -> SchemeItem:
    """Change one item's name, weights, parameters or whether it counts (the weights must still total 100)."""
    edit = ItemEdit(item_id, version, name, weight_township, weight_department, is_active, params)
    return update_items(session, actor, [edit])[0]


WEIGHT_TOTAL = Decimal("100.00")
KIND_LABELS = (("township", "镇(街道)"), ("department", "部门"))


def weight_totals(all_items, new_values: dict | None = None) -> dict[str, Decimal]:
    """The active items' weights per kind of unit (with new_values: item id -> the values an edit would set)."""
    new_values = new_values or {}
    totals = {}
    for kind, _ in KIND_LABELS:
        attr = f"weight_{kind}"
        total = Decimal(0)
        for it in all_items:
            values = new_values.get(it.id, {})
            if values.get("is_active", it.is_active):
                total += values.get(attr, getattr(it, attr))
        totals[kind] = total.quantize(Decimal("0.01"))
    return totals


def update_items(session: Session, actor, edits: list[ItemEdit]) -> list[SchemeItem]:
    """Change several items at once, so weight can move from one item to another.

    The active items' weights must total 100 for towns and for departments after the change; otherwise nothing is
    changed and the error names the totals. Every item that changes is audited.
    """
    policy.require(actor, "scheme.manage")
    all_items = {it.id: it for it in items(session)}
    checked, errors = [], []
    for e in edits:
        item = all_items.get(e.item_id)
        if item is None:
            raise NotFound("考评项目不存在")
        if e.version is None or item.version != e.version:
            raise StaleEdit()
        try:
            checked.append((item, _checked_edit(session, item, e)))
        except ValidationError as err:
            errors.append(f"{item.name}:{err}")
    if errors:
        raise ValidationError(";".join(errors) + "。未保存任何修改")
    now = weight_totals(all_items.values())
    after = weight_totals(all_items.values(), {item.id: values for item, values in checked})
    wrong = [
        f"{label}分值合计将为{after[kind]}(现为{now[kind]})"
        for kind, label in KIND_LABELS
        if after[kind] != WEIGHT_TOTAL
    ]
    if wrong:
        raise ValidationError(
            f"启用的考评项目分值合计须为{WEIGHT_TOTAL:.0f}:按本次修改,"
            + ";".join(wrong)
            + "。未保存任何修改;调整某项分值时,请在同一次保存中相应增减其他项目"
        )
    for item, values in checked:
        if all(getattr(item, k) == v for k, v in values.items()):
            continue
        before = item.snapshot()
        for k, v in values.items():
            setattr(item, k, v)
        record(session, actor, "scheme.item", item, before=before, summary=f"修改考评项目 {item.name}")
    return [item for item, _ in checked]


def _checked_edit(session: Session, item: SchemeItem, e: ItemEdit) -> dict:
    name = (e.name or "").strip()
    if not 2 <= len(name) <= 100:
        raise ValidationError("项目名称须为2至100字")
    values = {
        "name": name,
        "weight_township": _decimal(e.weight_township, "镇(街道)分值"),
        "weight_department": _decimal(e.weight_department, "部门分值"),
        "is_active": bool(e.is_active),
    }
    if e.params is not None:
        values["params"] = check_params(session, item.formula, e.params)
    return values


def check_params(session: Session, formula: str, params: str | dict) -> dict:
    """A formula's parameters from the JSON text typed on the scheme page (or a dict): a JSON object holding only
    the formula's keys, each of the right type."""
    if isinstance(params, str):
        text = params.strip()
        try:
            params = json.loads(text) if text else {}
        except ValueError:
            raise ValidationError('参数不是有效的JSON,应为对象,如 {"role": "lead"}') from None
    if not isinstance(params, dict):
        raise ValidationError("参数须为JSON对象(用花括号括起,如 {})")
    known = FORMULA_PARAMS[formula]
    unknown = [k for k in params if k not in known]
    if unknown:
        allowed = "、".join(f"{k}({v})" for k, v in known.items()) or "无"
        raise ValidationError(f"参数{'、'.join(unknown)}不适用于“{FORMULAS[formula]}”,可用参数:{allowed}")
    params = dict(params)
    if formula == "report_share" and params.get("role") not in ("lead", "member"):
        raise ValidationError("须以 role 指定牵头(lead)或配合(member)")
    if formula in ("target", "metric_yoy"):
        codes = set(session.scalars(select(Indicator.code)))
        available = "、".join(sorted(codes))
    if formula == "target":
        code = params.get("indicator")
        if not isinstance(code, str) or code not in codes:
            raise ValidationError(f"须以 indicator 指定已有的指标代码(可用:{available})")
        target = params.get("target")
        if isinstance(target, bool) or not isinstance(target, int | float | str):
            raise ValidationError("目标值(target)须为数字")
        params["target"] = str(_decimal(target, "目标值(target)", Decimal(10**9)))
        if Decimal(params["target"]) == 0:
            raise ValidationError("目标值(target)须大于0")
    if formula == "metric_yoy":
        inds = params.get("indicators")
        if not isinstance(inds, list) or not inds or not all(isinstance(c, str) for c in inds):
            raise ValidationError('须以 indicators 列出至少一个指标代码,如 {"indicators": ["cases"]}')
        missing = [c for c in inds if c not in codes]
        if missing:
            raise ValidationError(f"指标代码{'、'.join(missing)}不存在(可用:{available})")
        if len(set(inds)) != len(inds):
            raise ValidationError("指标代码不能重复")
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
