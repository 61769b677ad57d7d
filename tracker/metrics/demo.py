"""Demo figures: two years of plausible monthly 两降两升 figures for the demo towns, the same on every machine.

Each town follows a profile so the demo shows every case the pages and the card rules deal with:
towns that meet 两降两升, a town whose cases rise by more than half (案件高发), a town whose cases rise month after
month from July of the current year, a town with fewer cases but higher losses, and one whose clearance falls.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..periods import Period, month_range
from .entry import save_grid
from .indicators import CORE_CODES, get_indicator
from .models import MetricValue
from .units import towns

D = Decimal
SEASON = [
    D("1.10"),
    D("1.15"),
    D("0.95"),
    D("0.90"),
    D("0.95"),
    D("1.00"),
    D("1.00"),
    D("1.05"),
    D("0.95"),
    D("1.00"),
    D("1.05"),
    D("1.10"),
]


@dataclass(frozen=True)
class Profile:
    """A town's monthly base of cases, and how the current year differs from the year before."""

    base_cases: int
    loss_per_case: Decimal  # 万元
    cases_factor: Decimal  # current year against last year
    loss_factor: Decimal  # loss per case, current year against last year
    clearance: tuple[Decimal, Decimal]  # share of cases solved: last year, current year
    arrest_factor: Decimal = D("1.00")
    cases_from_july: Decimal | None = None  # a different factor from July of the current year


# In the order of the demo towns: 青石镇, 柳溪镇, 云岭镇, 白沙镇, 东湖街道, 南山街道.
PROFILES = [
    Profile(14, D("5.6"), D("0.65"), D("0.90"), (D("0.40"), D("0.70")), D("1.10")),  # meets 两降两升
    Profile(12, D("4.2"), D("1.65"), D("0.80"), (D("0.40"), D("0.45"))),  # cases up by > 50 %
    Profile(10, D("3.8"), D("1.00"), D("0.90"), (D("0.40"), D("0.42")), D("1.00"), D("1.30")),  # up from July
    Profile(12, D("6.5"), D("0.75"), D("0.90"), (D("0.40"), D("0.65")), D("1.10")),  # meets 两降两升
    Profile(22, D("5.0"), D("0.80"), D("1.50"), (D("0.40"), D("0.60"))),  # fewer cases, more losses
    Profile(16, D("4.9"), D("0.70"), D("0.90"), (D("0.40"), D("0.35")), D("0.85")),  # clearance falls
]


def _pick(*keys) -> int:
    return int(hashlib.sha256("|".join(map(str, keys)).encode()).hexdigest()[:8], 16)


def _noise(*keys) -> Decimal:
    """A stable factor between 0.92 and 1.08."""
    return D(100 + _pick(*keys) % 17 - 8) / 100


def _int(d: Decimal) -> int:
    return int(d.quantize(D(1), rounding=ROUND_HALF_UP))


def month_figures(p: Profile, town: str, m: Period, current_year: int) -> dict[str, int | Decimal]:
    """The four figures of one town in one month."""
    this_year = m.year == current_year
    factor = D(1)
    if this_year:
        factor = p.cases_from_july if (p.cases_from_july and m.first >= 7) else p.cases_factor
    cases = _int(D(p.base_cases) * SEASON[m.first - 1] * factor * _noise(town, "cases", m.code))
    per_case = p.loss_per_case * (p.loss_factor if this_year else D(1)) * _noise(town, "losses", m.code)
    losses = (D(cases) * per_case).quantize(D("0.01"), rounding=ROUND_HALF_UP)
    clearance = p.clearance[1] if this_year else p.clearance[0]
    solved = _int(D(cases) * clearance * _noise(town, "solved", m.code))
    arrests = _int(D(solved) * D("1.3") * (p.arrest_factor if this_year else D(1)) * _noise(town, "arrests", m.code))
    return {"cases": cases, "losses": losses, "arrests": arrests, "solved": solved}


def load(session: Session, officer, today: date) -> int:
    """Enter the figures from January of last year to this month, one grid save per month, as `officer`.

    Does nothing when any figure exists already. Returns the number of figures written.
    """
    if session.scalar(select(MetricValue.id).limit(1)):
        return 0
    indicators = {c: get_indicator(session, c) for c in CORE_CODES}
    town_list = towns(session)
    written = 0
    for m in month_range(Period.month(today.year - 1, 1), Period.of_date(today)):
        entries = {}
        for i, town in enumerate(town_list):
            figures = month_figures(PROFILES[i % len(PROFILES)], town.name, m, today.year)
            for code, v in figures.items():
                entries[(indicators[code].id, town.id)] = (str(v), 0)
        written += save_grid(session, officer, m.code, entries).changed
    return written
