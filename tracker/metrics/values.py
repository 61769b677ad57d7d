"""A figure's value: parsing what a user typed, formatting, the plausibility check shared by the entry grid
and the import, and the months a figure may be written for."""

from __future__ import annotations

import statistics
import unicodedata
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from .. import clock
from ..errors import ValidationError
from ..org.models import Unit
from ..periods import Period
from .models import (
    REGISTER_CODES,
    Indicator,
)
from .units import DISTRICT_LABEL

Value = int | Decimal


CellKey = tuple[int, int | None]  # (indicator id, unit id or None for the district)


MAX_VALUE = Decimal(10) ** 13


MAX_REASON = 500


# -- values: parsing ------------------------------------------------------------------


def register_message(indicator: Indicator) -> str:
    """Why a figure counted from the publicity register cannot be typed, and where to record it instead."""
    return f"“{indicator.name}”由宣传活动台账按月自动统计,不能直接填写;请在“宣传活动台账”中登记宣传活动"


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
    if type(raw) is int and 0 <= raw < MAX_VALUE and indicator.decimals == 0:
        return raw  # the common case of an import, in short: a whole number for a count
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
MEDIAN_AFTER = 3  # earlier figures needed before a 万元 figure is compared with their median
JUMP_AFTER = 6  # earlier figures needed before a figure is compared with their highest


def plausibility(ind: Indicator, new: Value, history: list[Value]) -> str | None:
    """A warning when a figure looks wrong against the same unit's figures of the 24 months before (history),
    else None. The entry grid and the import both ask this, so both warn alike and in the same words:

    - a 万元 figure of 10 000 or more, or at least 1000 × the median of 3 or more earlier figures (entered in 元);
    - with 6 or more earlier figures, more than 3 × their highest and at least the small base above it.
    """
    if new == 0:
        return None
    d = Decimal(new)
    if ind.unit_label == "万元":
        med = Decimal(statistics.median(history)) if len(history) >= MEDIAN_AFTER else None
        if d >= YUAN_ABSOLUTE or (med is not None and med > 0 and d >= YUAN_FACTOR * med):
            return (
                f"{fmt(new, ind.decimals)} 万元明显偏大,疑似按“元”填写(应以万元为单位,"
                f"{fmt(new, ind.decimals)} 元 = {fmt(d / 10000, 4)} 万元),请核对"
            )
    if len(history) >= JUMP_AFTER:
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


def value_columns(indicator: Indicator, value: Value | None) -> dict:
    if value is None:
        return {"count": None, "amount": None}
    if indicator.is_count:
        return {"count": int(value), "amount": None}
    return {"count": None, "amount": Decimal(value)}


def audit_name(indicator: Indicator, unit: Unit | None) -> str:
    return f"{unit.name if unit else DISTRICT_LABEL}/{indicator.name}"


def audit_value(v: Value | None):
    return None if v is None else (v if isinstance(v, int) else format(v, "f"))


def entry_month(text: str) -> Period:
    p = Period.parse(text)
    if p.kind != "month":
        raise ValidationError("请选择一个月份(如 2026-10)")
    return p


def current_month() -> Period:
    return Period.of_date(clock.today())


def is_future(month: Period) -> bool:
    now = current_month()
    return (month.year, month.first) > (now.year, now.first)


def shift_month(p: Period, months: int) -> Period:
    """The month `months` away from p. Arithmetic, not input: like Period.previous() it may step outside the years
    a typed month may name (2000-01 less 24 months is 1998-01, the start of a window with nothing in it)."""
    n = p.year * 12 + (p.first - 1) + months
    m = n % 12 + 1
    return Period(n // 12, m, m, "month")
