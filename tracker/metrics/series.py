"""Figures as series and tables: a year's months, trends against last year, the latest month, stored rows."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from functools import cache

from sqlalchemy import Select, String, bindparam, cast, func, select
from sqlalchemy.orm import Session

from ..db import driver_rows
from ..errors import NotFound, ValidationError
from ..org.models import Unit
from ..periods import Period
from .comparisons import FigureStore, rounded
from .indicators import get_indicator
from .models import (
    AGG_SUM,
    SCOPE_TOWNSHIP,
    Indicator,
    MetricValue,
)
from .units import towns
from .values import Value, current_month, shift_month, stored

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
    out: dict[str, tuple[list[Value | None], list[Value | None]]] = {}
    missing: list[tuple[int | None, str]] = []
    postgres = session.get_bind().dialect.name == "postgresql"
    # sums of town figures are added up by the database (PostgreSQL's NUMERIC is exact; SQLite keeps amounts as
    # text, so there only whole numbers); means and district-level figures are read row by row
    summable = [
        i for i in indicators if i.scope == SCOPE_TOWNSHIP and i.aggregate == AGG_SUM and (i.is_count or postgres)
    ]
    if summable:
        out, missing = _summed_trends(session, summable, year, postgres)
    rest = [i for i in indicators if i.code not in out]
    months = [Period.month(year, m) for m in range(1, 13)]
    codes = [c for m in months for c in (m.code, shift_month(m, -12).code)]
    store = FigureStore.load(session, rest, codes) if rest else FigureStore(rest, (), session)
    for ind in rest:
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
                last.append(store.level(ind, None, [shift_month(m, -12)]))
        out[ind.code] = (this, last)
    return {ind.code: out[ind.code] for ind in indicators}, list(store.named(missing))


def _summed_trends(
    session: Session, indicators: list[Indicator], year: int, amounts: bool
) -> tuple[dict[str, tuple[list[Value | None], list[Value | None]]], list[tuple[int | None, str]]]:
    """The district's like-for-like trend of town-level sums, with the totals added up by the database: one row
    per indicator and month (its towns' total and which towns have a figure), about a hundred rows instead of every
    town's 24 months.

    A month whose towns are the same both years is its two totals; a month with no town in one of the years is
    that year's total alone (as FigureStore's `level`); only a month whose towns differ between the years while
    some have both is read town by town, and compared as FigureStore's `pair` and `level_of` do (one more
    statement, for those months only). An indicator whose stored rows the database would not add up to the same
    figure (a whole-number indicator holding an amount, or one with decimals holding a count or an amount with
    more decimal places than it shows, which Python rounds first; the indicator page refuses both) is read row by
    row instead: it is left out of the result. `amounts`: sum the amounts too (PostgreSQL's exact NUMERIC)."""
    totals, irregular = _town_totals(session, indicators, year, amounts)
    out: dict[str, tuple[list[Value | None], list[Value | None]]] = {}
    uneven: dict[int, list[Period]] = defaultdict(list)  # indicator id -> months read town by town
    for ind in indicators:
        if ind.id in irregular:
            continue
        this: list[Value | None] = []
        last: list[Value | None] = []
        for m in range(1, 13):
            now = totals.get((ind.id, f"{year}-{m:02d}"))
            then = totals.get((ind.id, f"{year - 1}-{m:02d}"))
            if now is not None and then is not None and now[1] != then[1] and _differ_but_meet(now[1], then[1]):
                uneven[ind.id].append(Period.month(year, m))
            this.append(None if now is None else now[0])
            last.append(None if then is None else then[0])
        out[ind.code] = (this, last)
    missing: list[tuple[int | None, str]] = []
    if uneven:
        listed = [i for i in indicators if i.id in uneven]
        codes = [c for months in uneven.values() for m in months for c in (m.code, shift_month(m, -12).code)]
        store = FigureStore.load(session, listed, codes)
        for ind in listed:
            this, last = out[ind.code]
            for m in uneven[ind.id]:
                p = store.pair(ind, None, [m], -12)
                this[m.last - 1] = store.level_of(ind, None, p.now)
                last[m.last - 1] = store.level_of(ind, None, p.then)
                missing.extend(p.missing)
    return out, missing


def _differ_but_meet(a: str, b: str) -> bool:
    """Whether two lists of towns (their ids, comma-separated, in any order) name different towns, some in both."""
    here, there = set(a.split(",")), set(b.split(","))
    return here != there and bool(here & there)


@cache
def _totals_query(amounts: bool) -> Select:
    """`_town_totals`' statement, with the indicators' ids and the first and last month as parameters: built once,
    since its shape depends only on whether amounts are summed (what it reads is each request's own)."""
    mv = MetricValue
    columns = [
        mv.indicator_id,
        mv.month,
        func.sum(mv.count),
        func.count(mv.count),
        func.count(mv.amount),
        func.aggregate_strings(cast(mv.unit_id, String), ","),
    ]
    if amounts:
        columns += [func.sum(mv.amount), func.max(func.min_scale(mv.amount))]
    return (
        select(*columns)
        .where(
            mv.indicator_id.in_(bindparam("ids", expanding=True)),
            mv.month >= bindparam("first"),
            mv.month <= bindparam("last"),
            mv.unit_id.is_not(None),
        )
        .group_by(mv.indicator_id, mv.month)
    )


def _town_totals(
    session: Session, indicators: list[Indicator], year: int, amounts: bool
) -> tuple[dict[tuple[int, str], tuple[Value, str]], set[int]]:
    """`_summed_trends`' one statement: per indicator and month of the year and the one before, its towns' total and
    which towns have a figure (their ids, comma-separated: the same text is the same towns, and another text is
    read as a set only where it is compared); and the indicators whose rows the database would not add up as Python
    does."""
    params = {"ids": [i.id for i in indicators], "first": f"{year - 1}-01", "last": f"{year}-12"}
    # the driver's tuples, as FigureStore.load reads them: no column here needs a result processor (the sum of
    # amounts is read as Decimal(…) below)
    rows = driver_rows(session, _totals_query(amounts), params)
    # each indicator's kind, decimal places and quantum read once, not once a row
    kinds = {i.id: (i.is_count, i.decimals, Decimal(1).scaleb(-i.decimals)) for i in indicators}
    irregular: set[int] = set()
    totals: dict[tuple[int, str], tuple[Value, str]] = {}
    for row in rows:
        ind_id = row[0]
        is_count, decimals, quantum = kinds[ind_id]
        if is_count:
            if row[4]:
                irregular.add(ind_id)
                continue
            total: Value = int(row[2])
        else:
            if row[3] or (row[7] or 0) > decimals:
                irregular.add(ind_id)
                continue
            total = Decimal(row[6]).quantize(quantum)
        totals[(ind_id, row[1])] = (total, row[5])
    return totals, irregular


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
                int(total) if ind.aggregate == AGG_SUM else rounded(Decimal(int(total)) / n, ind.decimals)
            )
    rest = [i for i in indicators if i not in in_sql]
    if rest:
        store = FigureStore.load(session, rest, codes, unit_id)
        for ind in rest:
            for code in codes:
                if (v := store.level(ind, unit_id, [Period.parse(code)])) is not None:
                    levels[(ind.id, code)] = v
    return levels


def latest_month(session: Session) -> Period:
    """The latest month with any figure up to this month; the previous month when there are none."""
    now = current_month()
    # each indicator's latest through the (indicator, month, unit) index, the latest of those: no index by month alone
    latest_of_each = (
        select(func.max(MetricValue.month))
        .where(MetricValue.indicator_id == Indicator.id, MetricValue.month <= now.code)
        .scalar_subquery()
    )
    code = session.scalar(select(func.max(latest_of_each)).select_from(Indicator))
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
