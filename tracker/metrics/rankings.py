"""Rankings of towns: competition ranks (1, 1, 3) by the year-on-year change, measured against last year's figure
but never against less than the indicator's small base."""

from __future__ import annotations

from decimal import Decimal

from .comparisons import Comparison, Rules, change_rate
from .models import DOWN, Indicator


def competition_ranks(keys: list) -> list[int]:
    """1,1,3 ranking of already sorted keys: equal keys share the rank of the first of them."""
    ranks: list[int] = []
    for i, k in enumerate(keys):
        ranks.append(ranks[i - 1] if i and k == keys[i - 1] else i + 1)
    return ranks


def rate_key(ind: Indicator | Rules, c: Comparison | None) -> tuple:
    """Sort key: the best change first, no comparison last."""
    rate = change_rate(ind, c) if c is not None else None
    if rate is None:
        return (1, Decimal(0))
    return (0, rate if ind.direction == DOWN else -rate)


def rank_towns(towns: list, indicators: list[Indicator] | list[Rules]) -> None:
    """Set each town summary's combined `rank` and its `ranks` per town indicator (towns: objects with
    `comparisons` by code, `improved_count`, `rank` and `ranks`).

    Combined ranking (综合排名): more of the four 两降两升 indicators improved year on year ranks higher; equal counts
    are ordered by the change in cases (发案数); towns still equal share a rank (1, 1, 3).
    """
    cases = next((i for i in indicators if i.code == "cases"), None)

    def combined_key(s) -> tuple:
        return (-s.improved_count, rate_key(cases, s.comparisons.get("cases")) if cases else (1, 0))

    ordered = sorted(towns, key=combined_key)
    for s, r in zip(ordered, competition_ranks([combined_key(s) for s in ordered]), strict=True):
        s.rank = r
    for ind in indicators:
        ordered = sorted(towns, key=lambda s, ind=ind: rate_key(ind, s.comparisons.get(ind.code)))
        keys = [rate_key(ind, s.comparisons.get(ind.code)) for s in ordered]
        for s, r in zip(ordered, competition_ranks(keys), strict=True):
            s.ranks[ind.code] = r
