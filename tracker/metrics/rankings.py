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


def _ranks(keys: list) -> list[int]:
    """The competition rank of each key, in the keys' order (equal keys in their order, as a stable sort keeps them)."""
    order = sorted(range(len(keys)), key=keys.__getitem__)
    ranks = [0] * len(keys)
    for i, r in zip(order, competition_ranks([keys[i] for i in order]), strict=True):
        ranks[i] = r
    return ranks


def rank_towns(towns: list, indicators: list[Indicator] | list[Rules]) -> None:
    """Set each town summary's combined `rank` and its `ranks` per town indicator (towns: objects with
    `comparisons` by code, `improved_count`, `rank` and `ranks`).

    Combined ranking (综合排名): more of the four 两降两升 indicators improved year on year ranks higher; equal counts
    are ordered by the change in cases (发案数); towns still equal share a rank (1, 1, 3). Each town's sort key of
    an indicator is worked out once, for both rankings.
    """
    keys = [[rate_key(ind, s.comparisons.get(ind.code)) for s in towns] for ind in indicators]
    cases = next((n for n, i in enumerate(indicators) if i.code == "cases"), None)
    combined = [(-s.improved_count, keys[cases][n] if cases is not None else (1, 0)) for n, s in enumerate(towns)]
    for s, r in zip(towns, _ranks(combined), strict=True):
        s.rank = r
    for ind, of_ind in zip(indicators, keys, strict=True):
        for s, r in zip(towns, _ranks(of_ind), strict=True):
            s.ranks[ind.code] = r
