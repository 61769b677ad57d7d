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

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import cache, lru_cache

from sqlalchemy import Select, bindparam, select, type_coerce
from sqlalchemy.orm import Session
from sqlalchemy.types import NullType

from ..db import driver_rows
from ..errors import NotFound
from ..org.models import Unit
from ..periods import Period
from .indicators import get_indicator
from .models import (
    AGG_MEAN,
    AGG_SUM,
    DOWN,
    SCOPE_DISTRICT,
    Indicator,
    MetricValue,
)
from .units import DISTRICT_LABEL, towns
from .values import Value, shift_month

# -- reading values ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rules:
    """An indicator's aggregation and comparison rules as plain values, read from the model once per store: the
    comparisons of every town read them thousands of times, and an ORM attribute costs far more than a slot."""

    id: int
    code: str
    scope: str
    aggregate: str
    decimals: int
    is_count: bool
    small_base: int
    direction: str

    @classmethod
    def of(cls, ind: Indicator | Rules) -> Rules:
        if isinstance(ind, Rules):
            return ind
        decimals = ind.decimals
        return cls(ind.id, ind.code, ind.scope, ind.aggregate, decimals, decimals == 0, ind.small_base, ind.direction)


_NONE = object()  # no figure (a stored figure may be None)
_NOBODY: dict[int, Value] = {}


@lru_cache(maxsize=4096)
def _shift_code(code: str, months: int) -> str:
    """The YYYY-MM `months` months away from the YYYY-MM `code` (shift_month on codes, remembered)."""
    n = int(code[:4]) * 12 + int(code[5:7]) - 1 + months
    return f"{n // 12}-{n % 12 + 1:02d}"


@cache
def _figures_query(one_unit: bool) -> Select:
    """`FigureStore.load`'s statement, with the indicators' ids, the months and the unit as parameters: built once
    for each of its two shapes (every unit's figures, or one unit's), since building a statement costs more than
    executing it; what it reads is each request's own."""
    # the amount as the driver gives it (a Decimal, or SQLite's stored text), converted by the constructor for the
    # rows that use it, not by ExactDecimal's result processing for every row
    amount = type_coerce(MetricValue.amount, NullType())
    query = select(MetricValue.indicator_id, MetricValue.unit_id, MetricValue.month, MetricValue.count, amount).where(
        MetricValue.indicator_id.in_(bindparam("ids", expanding=True)),
        MetricValue.month.in_(bindparam("codes", expanding=True)),
    )
    return query.where(MetricValue.unit_id == bindparam("unit")) if one_unit else query


class FigureStore:
    """All loaded figures of some months, with the aggregation rules applied in Python (Decimal, never float)."""

    def __init__(self, indicators: Iterable[Indicator], rows: Iterable[tuple], session: Session | None = None):
        self.ind = {i.id: i for i in indicators}
        self.rules = {i.id: Rules.of(i) for i in self.ind.values()}
        # the district's own figures (unit None), by (indicator id, None, month)
        self.data: dict[tuple[int, int | None, str], Value] = {}
        self.months: dict[int, set[str]] = defaultdict(set)
        # the towns with a figure, per indicator and month, with their figures (town id -> figure, in the rows'
        # order): every town figure is kept here only, one dictionary entry a row
        self.towns: dict[tuple[int, str], dict[int, Value]] = defaultdict(dict)
        self.session = session
        self.names: dict[int, tuple[tuple, str]] | None = None  # town id -> (display order, name)
        self._covered: dict[tuple[int, Period], tuple[list[Period], tuple[str, ...]]] = {}
        # what `values.stored` does per row, with each indicator's quantum worked out once
        quantum = {i: Decimal(1).scaleb(-r.decimals) if r.decimals else None for i, r in self.rules.items()}
        data, months, towns_of = self.data, self.months, self.towns
        for ind_id, unit_id, month, count, amount in rows:
            if count is not None:
                v = count
            elif amount is None:
                v = None
            else:
                if not isinstance(amount, Decimal):  # the stored text (SQLite), as ExactDecimal reads it
                    amount = Decimal(str(amount))
                q = quantum[ind_id]
                v = amount.quantize(q) if q is not None else amount
            if unit_id is None:
                data[(ind_id, None, month)] = v
                months[ind_id].add(month)
            else:
                towns_of[(ind_id, month)][unit_id] = v
        for ind_id, month in towns_of:  # the months of town figures, once each rather than once a figure
            months[ind_id].add(month)

    def rules_of(self, ind: Indicator | Rules) -> Rules:
        """The plain rules of an indicator (one of the store's, or read from the model)."""
        r = self.rules.get(ind.id)
        return r if r is not None else Rules.of(ind)

    @classmethod
    def load(
        cls, session: Session, indicators: list[Indicator], months: Iterable[str], unit_id: int | None = None
    ) -> FigureStore:
        """The figures of the indicators in the months: every town's and the district's, or, given a unit, only
        that town's (enough for `level` of that unit)."""
        params = {"ids": [i.id for i in indicators], "codes": sorted(set(months))}
        if unit_id is not None:
            params["unit"] = unit_id
        # the driver's tuples (no column here has a result processor): thousands of rows, a Row made for none
        return cls(indicators, driver_rows(session, _figures_query(unit_id is not None), params), session)

    def use_towns(self, town_list: Iterable[Unit]) -> None:
        """Name the towns of missing figures from a list already read (else they are read when first needed)."""
        self.names = {u.id: ((u.sort_order, u.id), u.name) for u in town_list}

    def covered(self, ind: Indicator | Rules, period: Period) -> list[Period]:
        return self._covered_codes(ind.id, period)[0]

    def _covered_codes(self, ind_id: int, period: Period) -> tuple[list[Period], tuple[str, ...]]:
        """The months of the period with any figure of the indicator, and their codes (remembered per period)."""
        key = (ind_id, period)
        found = self._covered.get(key)
        if found is None:
            have = self.months.get(ind_id, set())
            months = [m for m in period.months() if m.code in have]
            found = self._covered[key] = (months, tuple(m.code for m in months))
        return found

    def level(self, ind: Indicator | Rules, unit_id: int | None, months: list[Period]) -> Value | None:
        """The figure of a town (or the district) over the given months."""
        r = self.rules_of(ind)
        if unit_id is not None:
            vals = [figures[unit_id] for m in months if unit_id in (figures := self.towns.get((r.id, m.code), {}))]
            return _combine(r, vals)
        if r.scope == SCOPE_DISTRICT:
            vals = [self.data[k] for m in months if (k := (r.id, None, m.code)) in self.data]
            return _combine(r, vals)
        by_month = [list(figures.values()) for m in months if (figures := self.towns.get((r.id, m.code)))]
        if r.aggregate == AGG_SUM:
            return _combine(r, [v for vs in by_month for v in vs])
        return _combine(r, [_combine(r, vs) for vs in by_month])

    def pair(self, ind: Indicator | Rules, unit_id: int | None, months: list[Period], shift: int) -> _Pairing:
        """The unit-months of `months` and of the same months `shift` months away that both have a figure, and
        those missing on one side (a town, or the district's own row, without a figure where the other side has
        one; the district as a whole when nobody has a figure in the other month)."""
        return self._pair(self.rules_of(ind), unit_id, [m.code for m in months], shift)

    def _pair(self, r: Rules, unit_id: int | None, codes, shift: int) -> _Pairing:
        if unit_id is None and r.scope != SCOPE_DISTRICT:
            return self._pair_towns(r, codes, shift)
        figure, rid = self._figure, r.id
        now: list[tuple[int | None, str]] = []
        then: list[tuple[int | None, str]] = []
        missing: list[tuple[int | None, str]] = []
        for code in codes:
            other = _shift_code(code, shift)
            a, b = figure(rid, unit_id, code) is not _NONE, figure(rid, unit_id, other) is not _NONE
            if a and b:
                now.append((unit_id, code))
                then.append((unit_id, other))
            elif a:
                missing.append((unit_id, other))
            elif b:
                missing.append((unit_id, code))
        return _Pairing(now, then, missing)

    def _pair_towns(self, r: Rules, codes, shift: int) -> _Pairing:
        """The district of a town-level indicator: the towns with a figure in both months, in the towns' id order
        month by month; a town with a figure in one of them only is missing in the other (the whole district when
        nobody has a figure in the other month)."""
        have, towns, nobody = self.months.get(r.id, set()), self.towns, {}
        now: list[tuple[int | None, str]] = []
        then: list[tuple[int | None, str]] = []
        missing: list[tuple[int | None, str]] = []
        wholes: list[tuple[int | None, str]] = []
        for code in codes:
            other = _shift_code(code, shift)
            here, there = towns.get((r.id, code), nobody).keys(), towns.get((r.id, other), nobody).keys()
            common = here & there
            both = sorted(common)
            now += [(u, code) for u in both]
            then += [(u, other) for u in both]
            if other not in have:
                wholes.append((None, other))
            elif len(common) != len(here):  # some town here is not there
                missing += [(u, other) for u in here - there]
            if len(common) != len(there):
                missing += [(u, code) for u in there - here]
        # a month nobody has figures for is named only when the rest of the span was compared (a span whose
        # other period has no figures at all is simply not compared: 无同期数据)
        return _Pairing(now, then, missing + wholes if now else missing)

    def level_of(self, ind: Indicator | Rules, unit_id: int | None, keys: list[tuple[int | None, str]]) -> Value | None:
        """The figure of a town (or the district) over exactly these unit-months."""
        if not keys:
            return None
        r = self.rules_of(ind)
        if unit_id is None and r.scope != SCOPE_DISTRICT:
            vals = self._town_figures(r.id, keys)
        else:
            rid, figure = r.id, self._figure
            vals = [figure(rid, u, m) for u, m in keys]
        if unit_id is not None or r.scope == SCOPE_DISTRICT or r.aggregate == AGG_SUM:
            return _combine(r, vals)
        per_month: dict[str, list[Value]] = defaultdict(list)
        for (_u, m), v in zip(keys, vals, strict=True):
            per_month[m].append(v)
        return _combine(r, [_combine(r, per_month[m]) for m in sorted(per_month)])

    def _figure(self, rid: int, unit_id: int | None, code: str):
        """The stored figure of a town (or the district's own) in a month; _NONE where there is none."""
        if unit_id is None:
            return self.data.get((rid, None, code), _NONE)
        return self.towns.get((rid, code), _NOBODY).get(unit_id, _NONE)

    def _town_figures(self, rid: int, keys: list[tuple[int | None, str]]) -> list[Value]:
        """The figures of towns' unit-months (as `pair` gives them for the district: month by month), each month's
        figures by town looked up once a month rather than once a figure."""
        towns, vals, month = self.towns, [], None
        for u, m in keys:
            if m != month:
                figures, month = towns[(rid, m)], m
            vals.append(figures[u])
        return vals

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
        return rounded(sum(map(Decimal, vals), Decimal(0)) / len(vals), ind.decimals)
    if ind.is_count:
        return sum(map(int, vals))
    return sum(map(Decimal, vals), Decimal(0))


_QUANTA = [Decimal(1).scaleb(-d) for d in range(10)]  # 1, 0.1, 0.01 … by decimal places


def rounded(d: Decimal, decimals: int) -> Decimal:
    q = _QUANTA[decimals] if 0 <= decimals < len(_QUANTA) else Decimal(1).scaleb(-decimals)
    return d.quantize(q, rounding=ROUND_HALF_UP)


def comparison_months(period: Period) -> list[str]:
    months = period.months()
    codes = [m.code for m in months] + [shift_month(m, -12).code for m in months]
    if period.kind in ("month", "quarter"):
        n = len(months)
        codes += [shift_month(m, -n).code for m in months]
    return codes


def value(session: Session, code: str, unit_id: int | None, period: Period) -> Value | None:
    """The figure of a town (unit_id) or the district (None) over the period; None when no month has data."""
    ind = get_indicator(session, code)
    if ind is None:
        raise NotFound(f"指标 {code} 不存在")
    store = FigureStore.load(session, [ind], period.month_codes())
    return store.level(ind, unit_id, period.months())


# -- comparisons -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)  # slots: the summary makes one for every town and indicator
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
    return diff, rounded(Decimal(diff) * 100 / Decimal(base), 1)


def _improved(direction: str, val: Value, yoy_abs: Value) -> bool:
    if yoy_abs == 0:
        # Holding at zero is as good as a fall for a lower-is-better figure (no cases both years).
        return direction == DOWN and val == 0
    return yoy_abs < 0 if direction == DOWN else yoy_abs > 0


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
    improved = _improved(ind.direction, val, yoy_abs)
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


def compare_in(ind: Indicator | Rules, store: FigureStore, unit_id: int | None, period: Period) -> Comparison:
    """Like for like: the 同比 adds up only the unit-months that have a figure both this year and last year, the
    环比 only those with a figure in both spans; what is left out is named in `missing` and `mom_missing`."""
    r = store.rules_of(ind)
    months, codes = store._covered_codes(r.id, period)
    if not months:
        return judge(r, None, None)
    yoy = store._pair(r, unit_id, codes, -12)
    if yoy.now:
        c = judge(r, store.level_of(r, unit_id, yoy.now), store.level_of(r, unit_id, yoy.then), months=codes)
    else:
        # nothing to compare: this year's and last year's figures as they are, without a change
        val = store.level(r, unit_id, months)
        last = store.level(r, unit_id, [shift_month(m, -12) for m in months])
        c = Comparison(val, last, None, None, None, None, None, r.direction, months=codes)
    prev = mom_abs = mom_pct = None
    mom_missing: tuple[tuple[str, str], ...] = ()
    if period.kind in ("month", "quarter"):
        n = period.last - period.first + 1
        mom = store._pair(r, unit_id, codes, -n)
        if mom.now:
            prev = store.level_of(r, unit_id, mom.then)
            mom_abs, mom_pct = _change(r, store.level_of(r, unit_id, mom.now), prev)
        else:
            prev = store.level(r, unit_id, [shift_month(m, -n) for m in months])
        mom_missing = store.named(mom.missing)
    # c with the 环比 and what was left out (dataclasses.replace, spelt out: it is called for every town and indicator)
    return Comparison(
        c.value,
        c.last_year,
        c.yoy_abs,
        c.yoy_pct,
        mom_abs,
        c.judged_by,
        c.improved,
        c.direction,
        prev,
        mom_pct,
        c.months,
        store.named(yoy.missing),
        mom_missing,
    )


def compare(session: Session, code: str, unit_id: int | None, period: Period) -> Comparison:
    """Value, same period last year, year-on-year and period-on-period change of one town or the district."""
    ind = get_indicator(session, code)
    if ind is None:
        raise NotFound(f"指标 {code} 不存在")
    store = FigureStore.load(session, [ind], comparison_months(period))
    return compare_in(ind, store, unit_id, period)


def change_rate(ind: Indicator, c: Comparison) -> Decimal | None:
    """The year-on-year change as a fraction of last year's figure, but never of less than the small base.

    Used to rank: 12 → 6 is -0.5; 3 → 1 is -2/10 = -0.2 (a tiny base cannot make a small change look big).
    """
    if c.yoy_abs is None or c.last_year is None:
        return None
    return Decimal(c.yoy_abs) / Decimal(max(c.last_year, ind.small_base, 1))
