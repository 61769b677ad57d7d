"""The 两降两升 summary of a span: the district and every town compared, their verdicts and rankings."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from ..org.models import Unit
from ..periods import Period
from .comparisons import Comparison, FigureStore, compare_in, comparison_months
from .indicators import CORE_CODES, active_indicators
from .models import (
    SCOPE_TOWNSHIP,
    Indicator,
)
from .rankings import rank_towns
from .town_comparisons import compare_towns
from .units import towns

# the 两降两升 verdict of a span: all four improved; one of them did not; none failed but some cannot be compared yet


MET, UNMET, INCOMPLETE = "met", "unmet", "incomplete"


VERDICT_LABELS = {MET: "达成", UNMET: "未达成", INCOMPLETE: "数据不全"}


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
    _by_code: dict[str, Indicator] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_code: dict[str, Indicator] = {}
        for i in self.indicators:
            by_code.setdefault(i.code, i)  # the first of a code, as a scan would find it
        object.__setattr__(self, "_by_code", by_code)

    def indicator(self, code: str) -> Indicator | None:
        return self._by_code.get(code)

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
    met = True
    for k in CORE_CODES:
        c = comparisons.get(k)
        if c is None or c.missing:
            met = False
        elif c.improved is False:
            return UNMET
        elif c.improved is not True:
            met = False
    return MET if met else INCOMPLETE


def _meets(comparisons: dict[str, Comparison]) -> bool:
    return verdict_of(comparisons) == MET


def summary(session: Session, period: Period) -> Summary:
    """Every active indicator for the district and each active town, the verdicts and the rankings.

    Three queries whatever the number of towns: indicators, towns, and every figure of the months needed. The
    rankings: `rankings.rank_towns`.
    """
    indicators = active_indicators(session)
    every_town = towns(session, include_inactive=True)
    town_list = [u for u in every_town if u.is_active]
    store = FigureStore.load(session, indicators, comparison_months(period))
    store.use_towns(every_town)
    district = {i.code: compare_in(i, store, None, period) for i in indicators}
    town_rules = [store.rules_of(i) for i in indicators if i.scope == SCOPE_TOWNSHIP]
    town_ids = [u.id for u in town_list]
    compared = [(r.code, compare_towns(r, store, town_ids, period)) for r in town_rules]
    units = []
    for n, u in enumerate(town_list):
        comps = {code: of_towns[n] for code, of_towns in compared}
        improved = len([k for k in CORE_CODES if (c := comps.get(k)) is not None and c.improved])
        units.append(UnitSummary(u, comps, _meets(comps), improved_count=improved))
    rank_towns(units, town_rules)
    return Summary(period, indicators, district, _meets(district), units)
