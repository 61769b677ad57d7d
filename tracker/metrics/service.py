"""两降两升 figures: indicators, entering and correcting monthly values, comparisons, the verdict and rankings.

Rules (documented in docs/metrics.md):
- A town figure is entered per town/street; the district figure is the sum of the towns (rates: the mean of the
  towns that reported), unless the indicator is entered at district level.
- A span's value is the sum of its months (rates: their mean). Comparisons use only the months of the span that
  have figures (any unit) this year, and the same months last year, so an unfinished quarter or year is compared
  like for like.
- Year on year below the indicator's small base (default 10), and always for rates, is judged by the difference,
  not a percentage. No last-year figure: no comparison (无同期数据).
- 环比 compares a month with the month before and a quarter with the quarter before (same months' positions);
  years and year-to-date spans carry no 环比.
- Like for like: 同比 and 环比 add up only the unit-months with a figure in both periods; the others are named in the
  comparison's `missing` / `mom_missing`, and while the district's four miss any the verdict is 数据不全.
- One plausibility check (`plausibility`) warns about the same figures in the entry grid and the import.
"""

from __future__ import annotations

import re
import statistics
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import clock, policy
from ..audit.service import record
from ..errors import NotFound, PermissionDenied, StaleEdit, ValidationError, on_unique_violation
from ..org.models import KIND_DEPARTMENT, KIND_TOWNSHIP, Unit
from ..periods import Period
from .models import (
    AGG_MEAN,
    AGG_SUM,
    AGGREGATE_LABELS,
    DIRECTION_LABELS,
    DOWN,
    MAX_DECIMALS,
    SCOPE_DISTRICT,
    SCOPE_LABELS,
    SCOPE_TOWNSHIP,
    SOURCE_CORRECTION,
    SOURCE_ENTRY,
    SOURCE_REGISTER,
    Indicator,
    MetricValue,
)

CORE_CODES = ("cases", "losses", "arrests", "solved")
# the 两降两升 verdict of a span: all four improved; one of them did not; none failed but some cannot be compared yet
MET, UNMET, INCOMPLETE = "met", "unmet", "incomplete"
VERDICT_LABELS = {MET: "达成", UNMET: "未达成", INCOMPLETE: "数据不全"}
DISTRICT_LABEL = "全区"
DISTRICT_NAMES = ("全区", "合计", "全区合计", "区级")
MAX_VALUE = Decimal(10) ** 13
MAX_REASON = 500
PCT_STEP = Decimal("0.1")

Value = int | Decimal
CellKey = tuple[int, int | None]  # (indicator id, unit id or None for the district)

# Indicators counted from the publicity-activity register (tracker/publicity): a town's month is the number of
# activities held in it that month (events) and their audience (reach). Nobody types them.
REGISTER_CODES = ("events", "reach")


def register_message(indicator: Indicator) -> str:
    return f"“{indicator.name}”由宣传活动台账按月自动统计,不能直接填写;请在“宣传活动台账”中登记宣传活动"


# -- indicators ---------------------------------------------------------------


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


def towns(session: Session, include_inactive: bool = False) -> list[Unit]:
    """Towns and streets in display order."""
    q = select(Unit).where(Unit.kind == KIND_TOWNSHIP)
    if not include_inactive:
        q = q.where(Unit.is_active.is_(True))
    return list(session.scalars(q.order_by(Unit.sort_order, Unit.id)))


def departments(session: Session) -> list[Unit]:
    """Departments that may own an indicator."""
    return list(
        session.scalars(
            select(Unit)
            .where(Unit.kind == KIND_DEPARTMENT, Unit.is_active.is_(True))
            .order_by(Unit.sort_order, Unit.id)
        )
    )


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


# -- who may write what -----------------------------------------------------------


@dataclass(frozen=True)
class EntryTarget:
    """A cell of the entry grid: an indicator for a town (unit_id) or for the district (unit_id None)."""

    indicator: Indicator
    unit_id: int | None


def write_source(actor, target: EntryTarget) -> str | None:
    """How the actor may write this cell: as its owner ('entry'), as a reviewer ('correction'), or not at all
    (an indicator counted from the publicity register is nobody's to type)."""
    if target.indicator.code in REGISTER_CODES:
        return None
    if policy.can(actor, "metrics.enter", target):
        return SOURCE_ENTRY
    if policy.can(actor, "metrics.correct", target):
        return SOURCE_CORRECTION
    return None


def applies(indicator: Indicator, unit_id: int | None) -> bool:
    """Town indicators take town rows, district indicators the district row."""
    return (unit_id is None) == (indicator.scope == SCOPE_DISTRICT)


def can_enter_any(
    session: Session, actor, indicators: list[Indicator] | None = None, town_list: list[Unit] | None = None
) -> bool:
    """Whether the entry grid has anything for this user to write. A caller that has just read the active
    indicators and towns (a summary) passes them, so they are not read again."""
    if town_list is None:
        town_list = towns(session)
    return bool(_writable_columns(session, actor, town_list, indicators))


def _writable_columns(
    session: Session, actor, town_list: list[Unit], indicators: list[Indicator] | None = None
) -> list[Indicator]:
    out = []
    for ind in active_indicators(session) if indicators is None else indicators:
        rows = [None] if ind.scope == SCOPE_DISTRICT else [u.id for u in town_list]
        if any(write_source(actor, EntryTarget(ind, r)) for r in rows):
            out.append(ind)
    return out


# -- values: parsing ------------------------------------------------------------------


def parse_value(indicator: Indicator, raw) -> Value | None:
    """A cell's text (or spreadsheet number) as the indicator's value; None for an empty cell.

    Raises ValidationError with a message fit for the user; a figure for an indicator counted from the publicity
    register is refused, pointing to the register.
    """
    value = _parse_value(indicator, raw)
    if value is not None and indicator.code in REGISTER_CODES:
        raise ValidationError(register_message(indicator))
    return value


def _parse_value(indicator: Indicator, raw) -> Value | None:
    if raw is None:
        return None
    if isinstance(raw, bool):
        raise ValidationError("不是数字")
    if isinstance(raw, int):
        d = Decimal(raw)
    elif isinstance(raw, float):
        # Spreadsheet numbers arrive as binary floats: their shortest repr is the decimal the user typed.
        if raw != raw or raw in (float("inf"), float("-inf")):
            raise ValidationError("不是数字")
        d = Decimal(repr(raw))
    elif isinstance(raw, Decimal):
        d = raw
    else:
        text = unicodedata.normalize("NFKC", str(raw)).strip().replace(",", "").replace(" ", "")
        if text in ("", "-", "—", "/"):
            return None
        if text.endswith(indicator.unit_label) and indicator.unit_label:
            text = text[: -len(indicator.unit_label)]
        try:
            d = Decimal(text)
        except InvalidOperation:
            raise ValidationError(f"“{str(raw)[:20]}”不是数字") from None
        if not d.is_finite():
            raise ValidationError(f"“{str(raw)[:20]}”不是数字")
    if d < 0:
        raise ValidationError("不能为负数")
    if d >= MAX_VALUE:
        raise ValidationError("数值过大")
    if indicator.decimals == 0:
        if d != d.to_integral_value():
            raise ValidationError("须为整数")
        return int(d)
    step = Decimal(1).scaleb(-indicator.decimals)
    q = d.quantize(step, rounding=ROUND_HALF_UP)
    if q != d and abs(q - d) >= Decimal("1e-9"):
        raise ValidationError(f"最多保留{indicator.decimals}位小数")
    return q


# -- plausibility: one check for the entry grid and the spreadsheet import -------------------------------------

HISTORY_MONTHS = 24  # the months before a figure it is checked against
JUMP_FACTOR = 3  # a figure above 3 × the unit's highest of those months (and at least the small base above it)
YUAN_FACTOR = 1000  # a 万元 figure at least 1000 × the unit's median of those months looks like 元
YUAN_ABSOLUTE = Decimal(10000)  # 万元 in one month for one town: 1 亿元


def plausibility(ind: Indicator, new: Value, history: list[Value]) -> str | None:
    """A warning when a figure looks wrong against the same unit's figures of the 24 months before (history),
    else None. The entry grid and the import both ask this, so both warn alike and in the same words:

    - a 万元 figure of 10 000 or more, or at least 1000 × the median of 3 or more earlier figures (entered in 元);
    - with 6 or more earlier figures, more than 3 × their highest and at least the small base above it.
    """
    if new == 0:
        return None
    d = Decimal(new)
    med = Decimal(statistics.median(history)) if len(history) >= 3 else None
    if ind.unit_label == "万元":
        if d >= YUAN_ABSOLUTE or (med is not None and med > 0 and d >= YUAN_FACTOR * med):
            return (
                f"{fmt(new, ind.decimals)} 万元明显偏大,疑似按“元”填写(应以万元为单位,"
                f"{fmt(new, ind.decimals)} 元 = {fmt(d / 10000, 4)} 万元),请核对"
            )
    if len(history) >= 6:
        hi = max(history)
        if d > JUMP_FACTOR * Decimal(hi) and d - Decimal(hi) >= ind.small_base:
            return (
                f"{fmt(new, ind.decimals)}{ind.unit_label}远超该单位近两年的最高值"
                f"({fmt(hi, ind.decimals)}{ind.unit_label}),请核对"
            )
    return None


def fmt(value, decimals: int = 0) -> str:
    """A value as plain text with the indicator's decimal places (no thousands separators)."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return (
            format(value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP), "f")
            if decimals
            else format(value.to_integral_value(rounding=ROUND_HALF_UP), "f")
        )
    return str(value)


def stored(indicator: Indicator, count: int | None, amount: Decimal | None) -> Value | None:
    """A stored figure with the indicator's decimal places (PostgreSQL hands back NUMERIC's four)."""
    if count is not None:
        return count
    if amount is None:
        return None
    return amount.quantize(Decimal(1).scaleb(-indicator.decimals)) if indicator.decimals else amount


def _columns(indicator: Indicator, value: Value | None) -> dict:
    if value is None:
        return {"count": None, "amount": None}
    if indicator.is_count:
        return {"count": int(value), "amount": None}
    return {"count": None, "amount": Decimal(value)}


def _cell_name(indicator: Indicator, unit: Unit | None) -> str:
    return f"{unit.name if unit else DISTRICT_LABEL}/{indicator.name}"


def _audit_value(v: Value | None):
    return None if v is None else (v if isinstance(v, int) else format(v, "f"))


# -- the entry grid ------------------------------------------------------------------


@dataclass(frozen=True)
class GridCell:
    indicator: Indicator
    unit: Unit | None
    value: Value | None
    version: int  # 0: no figure yet
    source: str | None  # how the current user may write it, None: read-only
    row: MetricValue | None = None


@dataclass(frozen=True)
class EntryGrid:
    """One month's figures as rows (towns, and the district when needed) × indicator columns."""

    month: Period
    indicators: list[Indicator]
    rows: list[Unit | None]
    cells: dict[CellKey, GridCell]
    is_correction: bool

    def cell(self, indicator_id: int, unit_id: int | None) -> GridCell | None:
        return self.cells.get((indicator_id, unit_id))


def _month(text: str) -> Period:
    p = Period.parse(text)
    if p.kind != "month":
        raise ValidationError("请选择一个月份(如 2026-10)")
    return p


def current_month() -> Period:
    return Period.of_date(clock.today())


def is_future(month: Period) -> bool:
    now = current_month()
    return (month.year, month.first) > (now.year, now.first)


def build_entry_grid(session: Session, actor, month: str | Period) -> EntryGrid:
    """The grid the actor may write for the month; PermissionDenied when there is nothing for them."""
    p = month if isinstance(month, Period) else _month(month)
    town_list = towns(session)
    columns = _writable_columns(session, actor, town_list)
    if not columns:
        raise PermissionDenied("您没有需要填报的指标")
    rows: list[Unit | None] = list(town_list)
    if any(i.scope == SCOPE_DISTRICT for i in columns):
        rows.append(None)
    existing = {
        (v.indicator_id, v.unit_id): v
        for v in session.scalars(
            select(MetricValue).where(
                MetricValue.month == p.code, MetricValue.indicator_id.in_([i.id for i in columns])
            )
        )
    }
    cells: dict[CellKey, GridCell] = {}
    for ind in columns:
        for unit in rows:
            uid = unit.id if unit else None
            if not applies(ind, uid):
                continue
            v = existing.get((ind.id, uid))
            cells[(ind.id, uid)] = GridCell(
                ind,
                unit,
                stored(ind, v.count, v.amount) if v else None,
                v.version if v else 0,
                write_source(actor, EntryTarget(ind, uid)),
                v,
            )
    correction = any(c.source == SOURCE_CORRECTION for c in cells.values())
    return EntryGrid(p, columns, rows, cells, correction)


class CellErrors(ValidationError):
    """Some cells of a grid save are invalid; `errors` maps (indicator id, unit id) to a message."""

    def __init__(self, errors: dict[CellKey, str]):
        super().__init__(f"有{len(errors)}个单元格填写有误,请按提示修改后重新保存。已填写的内容已保留。")
        self.errors = errors


class GridConflict(StaleEdit):
    """Someone changed some of the same cells since the grid was loaded; `current` maps them to today's value."""

    def __init__(self, current: dict[CellKey, Value | None]):
        super().__init__(
            f"有{len(current)}个数据在您打开页面后已被他人修改(标红处为对方保存的值),本次未保存。"
            "您填写的内容已保留在下方,请核对后重新保存。"
        )
        self.current = current


class CellWarnings(ValidationError):
    """Some changed figures of a grid save look wrong; `warnings` maps (indicator id, unit id) to (the figure, the
    warning). Nothing is saved until the user confirms exactly these figures."""

    def __init__(self, warnings: dict[CellKey, tuple[Value, str]]):
        super().__init__(
            f"有{len(warnings)}个数据需要核对(见标黄处),本次未保存。核对无误请勾选“已核对,确认保存”后再次保存;"
            "您填写的内容已保留。"
        )
        self.warnings = warnings


def _grid_warnings(
    session: Session, month: Period, changes: list[tuple], confirmed: dict[CellKey, str]
) -> dict[CellKey, tuple[Value, str]]:
    """The plausibility warnings of the changed figures not yet confirmed, against each cell's 24 months before
    (one query)."""
    checked = [(ind, unit, new) for ind, unit, _row, new, _src in changes if new is not None]
    if not checked:
        return {}
    start = _shift(month, -HISTORY_MONTHS).code
    history: dict[CellKey, list[Value]] = defaultdict(list)
    by_id = {ind.id: ind for ind, _u, _n in checked}
    for ind_id, uid, count, amount in session.execute(
        select(MetricValue.indicator_id, MetricValue.unit_id, MetricValue.count, MetricValue.amount).where(
            MetricValue.indicator_id.in_(list(by_id)), MetricValue.month >= start, MetricValue.month < month.code
        )
    ):
        history[(ind_id, uid)].append(stored(by_id[ind_id], count, amount))
    out: dict[CellKey, tuple[Value, str]] = {}
    for ind, unit, new in checked:
        key = (ind.id, unit.id if unit else None)
        warning = plausibility(ind, new, history.get(key, []))
        if warning is None:
            continue
        try:
            if key in confirmed and parse_value(ind, confirmed[key]) == new:
                continue  # the user saw this warning for this very figure and confirmed it
        except ValidationError:
            pass
        out[key] = (new, warning)
    return out


@dataclass(frozen=True)
class SaveResult:
    month: Period
    changed: int
    inserted: int
    updated: int
    deleted: int


def save_grid(
    session: Session,
    actor,
    month: str,
    entries: dict[CellKey, tuple],
    reason: str = "",
    confirmed: dict[CellKey, str] | None = None,
) -> SaveResult:
    """Save a month's grid: entries map (indicator id, unit id or None) to (typed text, version seen) or
    (typed text, version seen, text shown when the page was loaded).

    A cell left as it was shown is not written (someone else's newer figure stays); a changed cell whose version
    moved on is a conflict and nothing is saved; an emptied cell removes its figure. A changed figure that fails
    the plausibility check (the import's) stops the save with CellWarnings unless `confirmed` holds, for that
    cell, the same figure the user confirmed after seeing the warning. A reviewer's changes are corrections and
    need a reason. One audit event records every changed cell.
    """
    p = _month(month)
    if is_future(p):
        raise ValidationError("不能填报未来月份的数据")
    reason = (reason or "").strip()
    if len(reason) > MAX_REASON:
        raise ValidationError(f"更正原因不能超过{MAX_REASON}字")
    indicators = {i.id: i for i in session.scalars(select(Indicator).where(Indicator.id.in_({k[0] for k in entries})))}
    units = {u.id: u for u in towns(session)}
    existing = {
        (v.indicator_id, v.unit_id): v
        for v in session.scalars(
            select(MetricValue).where(MetricValue.month == p.code, MetricValue.indicator_id.in_(list(indicators)))
        )
    }
    errors: dict[CellKey, str] = {}
    conflicts: dict[CellKey, Value | None] = {}
    changes: list[tuple[Indicator, Unit | None, MetricValue | None, Value | None, str]] = []
    for key, entry in entries.items():
        raw, seen_version = entry[0], entry[1]
        shown = entry[2] if len(entry) > 2 else False
        ind_id, unit_id = key
        ind = indicators.get(ind_id)
        if ind is None or not ind.is_active:
            errors[key] = "指标不存在或已停用"
            continue
        if unit_id is not None and unit_id not in units:
            errors[key] = "单位不存在或不是在用的镇(街道)"
            continue
        if not applies(ind, unit_id):
            errors[key] = "该指标按全区填报" if ind.scope == SCOPE_DISTRICT else "该指标按镇(街道)填报"
            continue
        if ind.code in REGISTER_CODES:
            errors[key] = register_message(ind)
            continue
        source = write_source(actor, EntryTarget(ind, unit_id))
        if source is None:
            raise PermissionDenied("您没有权限填报该数据")
        try:
            new = parse_value(ind, raw)
        except ValidationError as e:
            errors[key] = str(e)
            continue
        if shown is not False:
            try:
                if parse_value(ind, shown) == new:
                    continue  # left as shown
            except ValidationError:
                pass
        row = existing.get(key)
        old = stored(ind, row.count, row.amount) if row else None
        if new == old:
            continue
        if (row.version if row else 0) != (seen_version or 0):
            conflicts[key] = old
            continue
        changes.append((ind, units.get(unit_id) if unit_id else None, row, new, source))
    if errors:
        raise CellErrors(errors)
    if conflicts:
        raise GridConflict(conflicts)
    warnings = _grid_warnings(session, p, changes, confirmed or {})
    if warnings:
        raise CellWarnings(warnings)
    is_correction = any(c[4] == SOURCE_CORRECTION for c in changes)
    if is_correction and not reason:
        raise ValidationError("审核更正须填写更正原因")
    before, after = {}, {}
    counts = {"inserted": 0, "updated": 0, "deleted": 0}
    now = clock.now()
    for ind, unit, row, new, source in changes:
        name = _cell_name(ind, unit)
        before[name] = _audit_value(stored(ind, row.count, row.amount) if row else None)
        after[name] = _audit_value(new)
        note = reason if source == SOURCE_CORRECTION else ""
        if row is None:
            session.add(
                MetricValue(
                    indicator_id=ind.id,
                    unit_id=unit.id if unit else None,
                    month=p.code,
                    source=source,
                    note=note,
                    updated_at=now,
                    updated_by_id=actor.id,
                    **_columns(ind, new),
                )
            )
            counts["inserted"] += 1
        elif new is None:
            session.delete(row)
            counts["deleted"] += 1
        else:
            for k, v in _columns(ind, new).items():
                setattr(row, k, v)
            row.source, row.note, row.updated_at, row.updated_by_id = source, note, now, actor.id
            counts["updated"] += 1
    if changes:
        session.flush()
        who = getattr(getattr(actor, "unit", None), "name", None) or getattr(actor, "username", "")
        verb = "更正" if is_correction else "保存"
        record(
            session,
            actor,
            "metrics.correct" if is_correction else "metrics.save",
            object_type="MetricMonth",
            object_id=p.year * 100 + p.first,
            before=before,
            after={**after, **({"更正原因": reason} if is_correction else {})},
            summary=f"{who} {verb} {p.label} 两降两升数据 {len(changes)} 项"
            + (f",原因:{reason}" if is_correction else ""),
        )
    return SaveResult(p, len(changes), **counts)


# -- reading values ----------------------------------------------------------------------


def _shift(p: Period, months: int) -> Period:
    n = p.year * 12 + (p.first - 1) + months
    return Period.month(n // 12, n % 12 + 1)


class _Store:
    """All loaded figures of some months, with the aggregation rules applied in Python (Decimal, never float)."""

    def __init__(self, indicators: Iterable[Indicator], rows: Iterable[tuple], session: Session | None = None):
        self.ind = {i.id: i for i in indicators}
        self.data: dict[tuple[int, int | None, str], Value] = {}
        self.months: dict[int, set[str]] = defaultdict(set)
        self.by_month: dict[tuple[int, str], list[Value]] = defaultdict(list)  # township figures per month
        self.units: dict[int, set[int]] = defaultdict(set)  # towns with any figure, per indicator
        self.session = session
        self.names: dict[int, tuple[tuple, str]] | None = None  # town id -> (display order, name)
        for ind_id, unit_id, month, count, amount in rows:
            v = stored(self.ind[ind_id], count, amount)
            self.data[(ind_id, unit_id, month)] = v
            self.months[ind_id].add(month)
            if unit_id is not None:
                self.by_month[(ind_id, month)].append(v)
                self.units[ind_id].add(unit_id)

    @classmethod
    def load(
        cls, session: Session, indicators: list[Indicator], months: Iterable[str], unit_id: int | None = None
    ) -> _Store:
        """The figures of the indicators in the months: every town's and the district's, or, given a unit, only
        that town's (enough for `level` of that unit)."""
        codes = sorted(set(months))
        query = select(
            MetricValue.indicator_id, MetricValue.unit_id, MetricValue.month, MetricValue.count, MetricValue.amount
        ).where(MetricValue.indicator_id.in_([i.id for i in indicators]), MetricValue.month.in_(codes))
        if unit_id is not None:
            query = query.where(MetricValue.unit_id == unit_id)
        return cls(indicators, session.execute(query), session)

    def use_towns(self, town_list: Iterable[Unit]) -> None:
        """Name the towns of missing figures from a list already read (else they are read when first needed)."""
        self.names = {u.id: ((u.sort_order, u.id), u.name) for u in town_list}

    def covered(self, ind: Indicator, period: Period) -> list[Period]:
        have = self.months.get(ind.id, set())
        return [m for m in period.months() if m.code in have]

    def level(self, ind: Indicator, unit_id: int | None, months: list[Period]) -> Value | None:
        """The figure of a town (or the district) over the given months."""
        if unit_id is not None or ind.scope == SCOPE_DISTRICT:
            vals = [self.data[k] for m in months if (k := (ind.id, unit_id, m.code)) in self.data]
            return _combine(ind, vals)
        if ind.aggregate == AGG_SUM:
            vals = [v for m in months for v in self.by_month.get((ind.id, m.code), ())]
            return _combine(ind, vals)
        per_month = [_combine(ind, vs) for m in months if (vs := self.by_month.get((ind.id, m.code)))]
        return _combine(ind, per_month)

    def pair(self, ind: Indicator, unit_id: int | None, months: list[Period], shift: int) -> _Pairing:
        """The unit-months of `months` and of the same months `shift` months away that both have a figure, and
        those missing on one side (a town, or the district's own row, without a figure where the other side has
        one; the district as a whole when nobody has a figure in the other month)."""
        single = unit_id is not None or ind.scope == SCOPE_DISTRICT
        units = [unit_id] if single else sorted(self.units.get(ind.id, ()))
        have = self.months.get(ind.id, set())
        now: list[tuple[int | None, str]] = []
        then: list[tuple[int | None, str]] = []
        missing: list[tuple[int | None, str]] = []
        wholes: list[tuple[int | None, str]] = []
        for m in months:
            other = _shift(m, shift).code
            whole = not single and other not in have
            if whole:
                wholes.append((None, other))
            for u in units:
                a, b = (ind.id, u, m.code) in self.data, (ind.id, u, other) in self.data
                if a and b:
                    now.append((u, m.code))
                    then.append((u, other))
                elif a and not whole:
                    missing.append((u, other))
                elif b:
                    missing.append((u, m.code))
        # a month nobody has figures for is named only when the rest of the span was compared (a span whose
        # other period has no figures at all is simply not compared: 无同期数据)
        return _Pairing(now, then, missing + wholes if now else missing)

    def level_of(self, ind: Indicator, unit_id: int | None, keys: list[tuple[int | None, str]]) -> Value | None:
        """The figure of a town (or the district) over exactly these unit-months."""
        if not keys:
            return None
        vals = [self.data[(ind.id, u, m)] for u, m in keys]
        if unit_id is not None or ind.scope == SCOPE_DISTRICT or ind.aggregate == AGG_SUM:
            return _combine(ind, vals)
        per_month: dict[str, list[Value]] = defaultdict(list)
        for (_u, m), v in zip(keys, vals, strict=True):
            per_month[m].append(v)
        return _combine(ind, [_combine(ind, per_month[m]) for m in sorted(per_month)])

    def named(self, missing: list[tuple[int | None, str]]) -> tuple[tuple[str, str], ...]:
        """Missing unit-months as (unit name, month), in the towns' order then by month; the district is 全区."""
        if not missing:
            return ()
        if self.names is None:
            self.names = {}
            if self.session is not None:
                self.use_towns(towns(self.session, include_inactive=True))
        names = self.names

        def key(item: tuple[int | None, str]) -> tuple:
            u, m = item
            return (1, (0, 0), m) if u is None else (0, names.get(u, ((0, u), ""))[0], m)

        seen: dict[tuple[str, str], None] = {}
        for u, m in sorted(set(missing), key=key):
            seen[(DISTRICT_LABEL if u is None else names.get(u, ((0, u), f"#{u}"))[1], m)] = None
        return tuple(seen)


@dataclass(frozen=True)
class _Pairing:
    now: list[tuple[int | None, str]]  # unit-months of this span that have a counterpart
    then: list[tuple[int | None, str]]  # their counterparts, in the same order
    missing: list[tuple[int | None, str]]  # unit-months without a figure (unit None: the district)


def _combine(ind: Indicator, vals: list[Value]) -> Value | None:
    if not vals:
        return None
    if ind.aggregate == AGG_MEAN:
        return _q(sum((Decimal(v) for v in vals), Decimal(0)) / len(vals), ind.decimals)
    if ind.is_count:
        return sum(int(v) for v in vals)
    return sum((Decimal(v) for v in vals), Decimal(0))


def _q(d: Decimal, decimals: int) -> Decimal:
    return d.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def _comparison_months(period: Period) -> list[str]:
    months = period.months()
    codes = [m.code for m in months] + [_shift(m, -12).code for m in months]
    if period.kind in ("month", "quarter"):
        n = len(months)
        codes += [_shift(m, -n).code for m in months]
    return codes


def value(session: Session, code: str, unit_id: int | None, period: Period) -> Value | None:
    """The figure of a town (unit_id) or the district (None) over the period; None when no month has data."""
    ind = get_indicator(session, code)
    if ind is None:
        raise NotFound(f"指标 {code} 不存在")
    store = _Store.load(session, [ind], period.month_codes())
    return store.level(ind, unit_id, period.months())


# -- comparisons -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Comparison:
    """A figure with last year's, the year-on-year and period-on-period changes and whether it moved well.

    yoy_pct and mom_pct are percentages (12.5 means +12.5 %), None when the change is judged by the
    difference (small base, rates) or there is nothing to compare with.
    """

    value: Value | None
    last_year: Value | None
    yoy_abs: Value | None
    yoy_pct: Decimal | None
    mom_abs: Value | None
    judged_by: str | None  # 'pct' | 'abs' | None
    improved: bool | None  # None: no comparison
    direction: str
    previous: Value | None = None
    mom_pct: Decimal | None = None
    months: tuple[str, ...] = ()  # the months the figure covers
    # (unit name, YYYY-MM) without a figure while the other period has one: left out of the 同比 (missing) and the
    # 环比 (mom_missing) so both compare like for like; 全区 when nobody has a figure in that month
    missing: tuple[tuple[str, str], ...] = ()
    mom_missing: tuple[tuple[str, str], ...] = ()

    @property
    def state(self) -> str:
        """good / bad / none: the colour of the arrow."""
        return "none" if self.improved is None else ("good" if self.improved else "bad")

    @property
    def arrow(self) -> str:
        if self.yoy_abs is None:
            return "–"
        return "↑" if self.yoy_abs > 0 else ("↓" if self.yoy_abs < 0 else "→")

    @property
    def has_last_year(self) -> bool:
        return self.last_year is not None


def _change(ind: Indicator, now: Value, base: Value) -> tuple[Value, Decimal | None]:
    diff = now - base
    if ind.aggregate == AGG_MEAN or base == 0 or base < ind.small_base:
        return diff, None
    return diff, _q(Decimal(diff) * 100 / Decimal(base), 1)


def judge(
    ind: Indicator, val: Value | None, last: Value | None, prev: Value | None = None, months: tuple[str, ...] = ()
) -> Comparison:
    """Compare a figure with last year's (and the previous span's) by the indicator's rules. Without a figure
    there is no comparison, but last year's figure is still shown."""
    if val is None:
        return Comparison(None, last, None, None, None, None, None, ind.direction, months=months)
    mom_abs, mom_pct = _change(ind, val, prev) if prev is not None else (None, None)
    if last is None:
        return Comparison(val, None, None, None, mom_abs, None, None, ind.direction, prev, mom_pct, months)
    yoy_abs, yoy_pct = _change(ind, val, last)
    if yoy_abs == 0:
        # Holding at zero is as good as a fall for a lower-is-better figure (no cases both years).
        improved = ind.direction == DOWN and val == 0
    else:
        improved = yoy_abs < 0 if ind.direction == DOWN else yoy_abs > 0
    return Comparison(
        val,
        last,
        yoy_abs,
        yoy_pct,
        mom_abs,
        "pct" if yoy_pct is not None else "abs",
        improved,
        ind.direction,
        prev,
        mom_pct,
        months,
    )


def _compare(ind: Indicator, store: _Store, unit_id: int | None, period: Period) -> Comparison:
    """Like for like: the 同比 adds up only the unit-months that have a figure both this year and last year, the
    环比 only those with a figure in both spans; what is left out is named in `missing` and `mom_missing`."""
    months = store.covered(ind, period)
    if not months:
        return judge(ind, None, None)
    codes = tuple(m.code for m in months)
    yoy = store.pair(ind, unit_id, months, -12)
    if yoy.now:
        c = judge(ind, store.level_of(ind, unit_id, yoy.now), store.level_of(ind, unit_id, yoy.then), months=codes)
    else:
        # nothing to compare: this year's and last year's figures as they are, without a change
        val = store.level(ind, unit_id, months)
        last = store.level(ind, unit_id, [_shift(m, -12) for m in months])
        c = Comparison(val, last, None, None, None, None, None, ind.direction, months=codes)
    prev = mom_abs = mom_pct = None
    mom_missing: tuple[tuple[str, str], ...] = ()
    if period.kind in ("month", "quarter"):
        n = len(period.months())
        mom = store.pair(ind, unit_id, months, -n)
        if mom.now:
            prev = store.level_of(ind, unit_id, mom.then)
            mom_abs, mom_pct = _change(ind, store.level_of(ind, unit_id, mom.now), prev)
        else:
            prev = store.level(ind, unit_id, [_shift(m, -n) for m in months])
        mom_missing = store.named(mom.missing)
    return replace(
        c, previous=prev, mom_abs=mom_abs, mom_pct=mom_pct, missing=store.named(yoy.missing), mom_missing=mom_missing
    )


def compare(session: Session, code: str, unit_id: int | None, period: Period) -> Comparison:
    """Value, same period last year, year-on-year and period-on-period change of one town or the district."""
    ind = get_indicator(session, code)
    if ind is None:
        raise NotFound(f"指标 {code} 不存在")
    store = _Store.load(session, [ind], _comparison_months(period))
    return _compare(ind, store, unit_id, period)


def change_rate(ind: Indicator, c: Comparison) -> Decimal | None:
    """The year-on-year change as a fraction of last year's figure, but never of less than the small base.

    Used to rank: 12 → 6 is -0.5; 3 → 1 is -2/10 = -0.2 (a tiny base cannot make a small change look big).
    """
    if c.yoy_abs is None or c.last_year is None:
        return None
    return Decimal(c.yoy_abs) / Decimal(max(c.last_year, ind.small_base, 1))


def _competition_ranks(keys: list) -> list[int]:
    """1,1,3 ranking of already sorted keys: equal keys share the rank of the first of them."""
    ranks: list[int] = []
    for i, k in enumerate(keys):
        ranks.append(ranks[i - 1] if i and k == keys[i - 1] else i + 1)
    return ranks


@dataclass
class UnitSummary:
    """One town's comparisons for the span, its 两降两升 verdict and its place in the combined ranking."""

    unit: Unit
    comparisons: dict[str, Comparison]
    two_down_two_up: bool
    rank: int = 0
    improved_count: int = 0
    ranks: dict[str, int] = field(default_factory=dict)  # rank per indicator

    @property
    def verdict(self) -> str:
        return verdict_of(self.comparisons)

    @property
    def missing(self) -> list[tuple[str, str]]:
        """(unit, month) missing from the town's 同比 of any of the four."""
        return _union(self.comparisons.get(k) and self.comparisons[k].missing for k in CORE_CODES)


@dataclass(frozen=True)
class Summary:
    """The district and every town for one span: what the overview, the CLI and the assessment read."""

    period: Period
    indicators: list[Indicator]
    district: dict[str, Comparison]
    two_down_two_up: bool
    units: list[UnitSummary]

    def indicator(self, code: str) -> Indicator | None:
        return next((i for i in self.indicators if i.code == code), None)

    @property
    def verdict(self) -> str:
        return verdict_of(self.district)

    @property
    def missing(self) -> list[tuple[str, str]]:
        """(unit, month) missing from the district's 同比 of any of the four: while there are any the verdict is
        数据不全."""
        return _union(self.district.get(k) and self.district[k].missing for k in CORE_CODES)

    @property
    def mom_missing(self) -> list[tuple[str, str]]:
        """(unit, month) left out of the district's 环比 of the four."""
        return _union(self.district.get(k) and self.district[k].mom_missing for k in CORE_CODES)

    @property
    def core(self) -> list[Indicator]:
        return [i for i in self.indicators if i.code in CORE_CODES]

    @property
    def town_indicators(self) -> list[Indicator]:
        return [i for i in self.indicators if i.scope == SCOPE_TOWNSHIP]

    def ranked(self, code: str | None = None) -> list[UnitSummary]:
        """Towns in the order of the combined ranking, or of one indicator's ranking."""
        if code is None:
            return sorted(self.units, key=lambda u: (u.rank, u.unit.sort_order, u.unit.id))
        return sorted(self.units, key=lambda u: (u.ranks.get(code, 10**6), u.unit.sort_order, u.unit.id))


def _union(groups) -> list[tuple[str, str]]:
    seen: dict[tuple[str, str], None] = {}
    for g in groups:
        for item in g or ():
            seen[tuple(item)] = None
    return list(seen)


def verdict_of(comparisons: dict[str, Comparison]) -> str:
    """MET when all four improved with nothing missing; UNMET when one with nothing missing did not improve;
    otherwise INCOMPLETE (a figure, last year's figure or some unit-months are missing)."""
    found = [comparisons.get(k) for k in CORE_CODES]
    if any(c is not None and c.improved is False and not c.missing for c in found):
        return UNMET
    return MET if all(c is not None and c.improved is True and not c.missing for c in found) else INCOMPLETE


def _meets(comparisons: dict[str, Comparison]) -> bool:
    return verdict_of(comparisons) == MET


def _rate_key(ind: Indicator, c: Comparison | None) -> tuple:
    """Sort key: the best change first, no comparison last."""
    rate = change_rate(ind, c) if c is not None else None
    if rate is None:
        return (1, Decimal(0))
    return (0, rate if ind.direction == DOWN else -rate)


def summary(session: Session, period: Period) -> Summary:
    """Every active indicator for the district and each active town, the verdicts and the rankings.

    Three queries whatever the number of towns: indicators, towns, and every figure of the months needed.

    Combined ranking (综合排名): more of the four 两降两升 indicators improved year on year ranks higher; equal counts
    are ordered by the change in cases (发案数), measured as the difference over last year's figure but at least
    the small base; towns still equal share a rank (1, 1, 3).
    """
    indicators = active_indicators(session)
    every_town = towns(session, include_inactive=True)
    town_list = [u for u in every_town if u.is_active]
    store = _Store.load(session, indicators, _comparison_months(period))
    store.use_towns(every_town)
    district = {i.code: _compare(i, store, None, period) for i in indicators}
    town_inds = [i for i in indicators if i.scope == SCOPE_TOWNSHIP]
    units = []
    for u in town_list:
        comps = {i.code: _compare(i, store, u.id, period) for i in town_inds}
        units.append(
            UnitSummary(
                u, comps, _meets(comps), improved_count=sum(1 for k in CORE_CODES if comps.get(k) and comps[k].improved)
            )
        )
    cases = next((i for i in indicators if i.code == "cases"), None)

    def combined_key(s: UnitSummary) -> tuple:
        return (-s.improved_count, _rate_key(cases, s.comparisons.get("cases")) if cases else (1, 0))

    ordered = sorted(units, key=combined_key)
    for s, r in zip(ordered, _competition_ranks([combined_key(s) for s in ordered]), strict=True):
        s.rank = r
    for ind in town_inds:
        ordered = sorted(units, key=lambda s, ind=ind: _rate_key(ind, s.comparisons.get(ind.code)))
        keys = [_rate_key(ind, s.comparisons.get(ind.code)) for s in ordered]
        for s, r in zip(ordered, _competition_ranks(keys), strict=True):
            s.ranks[ind.code] = r
    return Summary(period, indicators, district, _meets(district), units)


# -- series ------------------------------------------------------------------------------------


def monthly_series(session: Session, code: str, unit_id: int | None, year: int) -> list[Value | None]:
    """The twelve monthly figures of a town or the district in a year (None where there is none)."""
    ind = get_indicator(session, code)
    if ind is None:
        raise NotFound(f"指标 {code} 不存在")
    levels = _monthly_levels(session, [ind], unit_id, [f"{year}-{m:02d}" for m in range(1, 13)])
    return [levels.get((ind.id, f"{year}-{m:02d}")) for m in range(1, 13)]


def trends(
    session: Session, indicators: list[Indicator], unit_id: int | None, year: int
) -> dict[str, tuple[list[Value | None], list[Value | None]]]:
    """For each indicator the monthly figures of `year` and of the year before, in one query; the district's
    like for like (see trends_and_missing)."""
    return trends_and_missing(session, indicators, unit_id, year)[0]


def trends_and_missing(
    session: Session, indicators: list[Indicator], unit_id: int | None, year: int
) -> tuple[dict[str, tuple[list[Value | None], list[Value | None]]], list[tuple[str, str]]]:
    """The monthly figures of `year` and of the year before per indicator, and the (unit, month) left out.

    A town's are its figures. The district's months are compared like for like: where both years have figures
    for a month, each year's point adds up only the towns with a figure in both (so 柳溪镇 missing in 2026-08
    drops its 2025-08 figure from last year's point too); a month with figures in one year only shows that
    year's total."""
    if unit_id is not None:
        codes = [Period.month(y, m).code for y in (year - 1, year) for m in range(1, 13)]
        levels = _monthly_levels(session, indicators, unit_id, codes)
        return {
            ind.code: (
                [levels.get((ind.id, f"{year}-{m:02d}")) for m in range(1, 13)],
                [levels.get((ind.id, f"{year - 1}-{m:02d}")) for m in range(1, 13)],
            )
            for ind in indicators
        }, []
    months = [Period.month(year, m) for m in range(1, 13)]
    store = _Store.load(session, indicators, [c for m in months for c in (m.code, _shift(m, -12).code)])
    out: dict[str, tuple[list[Value | None], list[Value | None]]] = {}
    missing: list[tuple[int | None, str]] = []
    for ind in indicators:
        this: list[Value | None] = []
        last: list[Value | None] = []
        for m in months:
            p = store.pair(ind, None, [m], -12)
            if p.now:
                this.append(store.level_of(ind, None, p.now))
                last.append(store.level_of(ind, None, p.then))
                missing.extend(p.missing)
            else:
                this.append(store.level(ind, None, [m]))
                last.append(store.level(ind, None, [_shift(m, -12)]))
        out[ind.code] = (this, last)
    return out, list(store.named(missing))


def _monthly_levels(
    session: Session, indicators: list[Indicator], unit_id: int | None, codes: list[str]
) -> dict[tuple[int, str], Value]:
    """The figure of a town (or the district) in each month, by (indicator id, month).

    The district's figure of a town-level count indicator is summed by the database (a sum, or the mean of the
    towns' figures: sum / number of towns), which is exact for integers; decimal amounts are added in Python with
    Decimal, as everywhere else (SQLite has no exact decimal arithmetic)."""
    levels: dict[tuple[int, str], Value] = {}
    in_sql = [i for i in indicators if unit_id is None and i.scope == SCOPE_TOWNSHIP and i.is_count]
    if in_sql:
        by_id = {i.id: i for i in in_sql}
        rows = session.execute(
            select(MetricValue.indicator_id, MetricValue.month, func.sum(MetricValue.count), func.count())
            .where(
                MetricValue.indicator_id.in_(list(by_id)),
                MetricValue.month.in_(codes),
                MetricValue.unit_id.is_not(None),
            )
            .group_by(MetricValue.indicator_id, MetricValue.month)
        )
        for ind_id, month, total, n in rows:
            ind = by_id[ind_id]
            levels[(ind_id, month)] = (
                int(total) if ind.aggregate == AGG_SUM else _q(Decimal(int(total)) / n, ind.decimals)
            )
    rest = [i for i in indicators if i not in in_sql]
    if rest:
        store = _Store.load(session, rest, codes, unit_id)
        for ind in rest:
            for code in codes:
                if (v := store.level(ind, unit_id, [Period.parse(code)])) is not None:
                    levels[(ind.id, code)] = v
    return levels


def latest_month(session: Session) -> Period:
    """The latest month with any figure up to this month; the previous month when there are none."""
    now = current_month()
    code = session.scalar(
        select(MetricValue.month).where(MetricValue.month <= now.code).order_by(MetricValue.month.desc()).limit(1)
    )
    return Period.parse(code) if code else now.previous()


@dataclass(frozen=True)
class MonthRow:
    """A town's (or the district's) figures for one month, for tables and export."""

    unit: Unit | None
    month: str
    values: dict[str, Value | None]


def figures(
    session: Session,
    indicators: list[Indicator],
    start: Period,
    end: Period,
    unit_ids: list[int] | None = None,
    include_district: bool = True,
) -> list[MonthRow]:
    """Stored figures (no aggregation) of the months from start to end, by unit then month; one query for values."""
    from ..periods import month_range

    months = [m.code for m in month_range(start, end)]
    if len(months) > 600:
        raise ValidationError("导出范围不能超过50年")
    q = select(
        MetricValue.indicator_id, MetricValue.unit_id, MetricValue.month, MetricValue.count, MetricValue.amount
    ).where(
        MetricValue.month >= months[0],
        MetricValue.month <= months[-1],
        MetricValue.indicator_id.in_([i.id for i in indicators]),
    )
    by_id = {i.id: i for i in indicators}
    grouped: dict[tuple[int | None, str], dict[str, Value]] = defaultdict(dict)
    for ind_id, uid, month, count, amount in session.execute(q):
        if unit_ids is not None and uid is not None and uid not in unit_ids:
            continue
        if uid is None and not include_district:
            continue
        grouped[(uid, month)][by_id[ind_id].code] = stored(by_id[ind_id], count, amount)
    units = {u.id: u for u in towns(session, include_inactive=True)}
    order = {u.id: (u.sort_order, u.id) for u in units.values()}
    keys = sorted(grouped, key=lambda k: (k[0] is None, order.get(k[0], (0, 0)), k[1]))
    return [MonthRow(units.get(uid) if uid else None, month, grouped[(uid, month)]) for uid, month in keys]


def resolve_units(session: Session) -> dict[str, Unit | None]:
    """Every name a spreadsheet may use for a town/street (names and other names), and the district's names."""
    names: dict[str, Unit | None] = {n: None for n in DISTRICT_NAMES}
    for u in towns(session, include_inactive=True):
        for n in [u.name, *u.alias_list()]:
            names.setdefault(n, u)
    return names


def set_register_values(session: Session, actor, unit_id: int, month: str, values: dict[str, int]) -> None:
    """Store a town's monthly figures counted from the publicity register (code -> count; 0 removes the figure,
    so a month without activities reads 未录入 like any month without data). Audited when a figure changes."""
    indicators = {i.code: i for i in session.scalars(select(Indicator).where(Indicator.code.in_(list(values))))}
    rows = {
        v.indicator_id: v
        for v in session.scalars(
            select(MetricValue).where(
                MetricValue.unit_id == unit_id,
                MetricValue.month == month,
                MetricValue.indicator_id.in_([i.id for i in indicators.values()]),
            )
        )
    }
    before, after = {}, {}
    now = clock.now()
    for code, count in values.items():
        if code not in REGISTER_CODES:
            raise ValueError(f"{code} is not counted from the register")
        ind = indicators.get(code)
        if ind is None:
            continue
        row = rows.get(ind.id)
        old = row.count if row else None
        new = count or None
        if old == new:
            continue
        before[code], after[code] = old, new
        if new is None:
            session.delete(row)
        elif row is None:
            session.add(
                MetricValue(
                    indicator_id=ind.id,
                    unit_id=unit_id,
                    month=month,
                    count=new,
                    source=SOURCE_REGISTER,
                    updated_at=now,
                    updated_by_id=getattr(actor, "id", None),
                )
            )
        else:
            row.count, row.amount, row.source, row.note = new, None, SOURCE_REGISTER, ""
            row.updated_at, row.updated_by_id = now, getattr(actor, "id", None)
    if after:
        session.flush()
        record(
            session,
            actor,
            "metrics.register",
            object_type="Unit",
            object_id=unit_id,
            before=before,
            after=after,
            summary=f"{month} 宣传台账统计:" + ",".join(f"{c} {before[c]}→{after[c]}" for c in after),
        )
