"""The data each 两降两升 page shows, built once as frozen dataclasses (page and, later, PDF read the same)."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup
from sqlalchemy.orm import Session

from ..org.models import Unit
from ..periods import MIN_YEAR, Period
from . import service
from .charts import FONT, PREVIOUS, Bar, Series, bar_chart, trend_chart
from .comparisons import Comparison
from .models import Indicator
from .summary import Summary, UnitSummary
from .values import current_month

MONTH_LABELS = [f"{m}月" for m in range(1, 13)]


def step(period: Period, n: int) -> Period:
    """The span of the same kind n steps later (n < 0: earlier)."""
    if period.kind == "month":
        p = period
        for _ in range(abs(n)):
            p = p.next() if n > 0 else p.previous()
        return p
    if period.kind == "quarter":
        q = period.year * 4 + period.last // 3 - 1 + n
        return Period.quarter(q // 4, q % 4 + 1)
    if period.kind == "year":
        return Period(period.year + n, 1, 12, "year")
    return Period(period.year + n, 1, period.last, "ytd")


@dataclass(frozen=True)
class PeriodNav:
    """The span shown, the spans before and after it, and quick choices."""

    period: Period
    prev: Period | None  # None before the first year a period may name
    next: Period | None
    quick: list[tuple[str, str]]


def period_nav(period: Period) -> PeriodNav:
    now = current_month()
    nxt = step(period, 1)
    last_q = step(now.in_quarter, -1)
    quick = [
        ("本月", now.code),
        ("上月", now.previous().code),
        ("本季度", now.in_quarter.code),
        ("上季度", last_q.code),
        ("今年累计", Period.ytd(now.year, now.first).code),
        ("去年全年", str(now.year - 1)),
    ]
    prev = step(period, -1)
    return PeriodNav(period, prev if prev.year >= MIN_YEAR else None, nxt if nxt.start <= now.end else None, quick)


def _trend_charts(
    session: Session, indicators: list[Indicator], unit_id: int | None, year: int, who: str
) -> list[Markup]:
    return trend_charts_of(service.trends(session, indicators, unit_id, year), indicators, year, who)


def trend_charts_of(data: dict, indicators: list, year: int, who: str, font: str = FONT) -> list[Markup]:
    """A chart per indicator from its monthly figures: data is code -> (this year, last year); font: the charts'
    family (a printed document passes the serif its text is set in)."""
    out = []
    for ind in indicators:
        this, last = data[ind.code]
        out.append(
            trend_chart(
                f"{who}{ind.name}月度走势",
                MONTH_LABELS,
                [Series(f"{year - 1}年", last, PREVIOUS, dashed=True), Series(f"{year}年", this)],
                ind.unit_label,
                ind.decimals,
                font=font,
            )
        )
    return out


@dataclass(frozen=True)
class Overview:
    summary: Summary
    nav: PeriodNav
    trends: list[Markup]
    bars: list[Markup]
    trend_missing: list[tuple[str, str]] = ()  # (unit, month) left out of the district's like-for-like trend


def overview(session: Session, period: Period, font: str = FONT) -> Overview:
    """District figures and verdict, the town table, the district's trends and a bar chart per indicator."""
    s = service.summary(session, period)
    data, trend_missing = service.trends_and_missing(session, s.core, None, period.year)
    trends = trend_charts_of(data, s.core, period.year, "全区", font)
    return Overview(s, period_nav(period), trends, bar_charts_of(s, font), trend_missing)


def bar_charts_of(s: Summary, font: str = FONT) -> list[Markup]:
    """A bar chart per town indicator: each town's figure against last year's."""
    period = s.period
    towns = [(u.unit.name, u.comparisons) for u in s.units]  # each town's name read once for every chart
    bars = []
    for ind in s.town_indicators:
        code = ind.code
        items = [
            Bar(name, c.value, c.last_year, c.state) for name, comps in towns if (c := comps.get(code)) is not None
        ]
        bars.append(bar_chart(f"各镇(街道){ind.name}({period.label})", items, ind.unit_label, ind.decimals, font=font))
    return bars


@dataclass(frozen=True)
class MonthLine:
    month: Period
    values: dict[str, Comparison]


@dataclass(frozen=True)
class TownPage:
    unit: Unit
    summary: Summary
    mine: UnitSummary | None
    nav: PeriodNav
    trends: list[Markup]
    months: list[MonthLine]


def town(session: Session, unit: Unit, period: Period) -> TownPage:
    """One town: its comparisons and verdict for the span, rank, trends, and month by month this year."""
    s = service.summary(session, period)
    mine = next((u for u in s.units if u.unit.id == unit.id), None)
    inds = s.town_indicators
    trends = _trend_charts(session, inds, unit.id, period.year, unit.name)
    data = service.trends(session, inds, unit.id, period.year)
    lines = []
    for m in range(1, 13):
        p = Period.month(period.year, m)
        if p.start > current_month().end:
            break
        vals = {}
        for ind in inds:
            this, last = data[ind.code][0][m - 1], data[ind.code][1][m - 1]
            vals[ind.code] = service.judge(ind, this, last)
        lines.append(MonthLine(p, vals))
    return TownPage(unit, s, mine, period_nav(period), trends, lines)
