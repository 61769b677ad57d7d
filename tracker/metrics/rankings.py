"""Rankings of towns: competition ranks (1, 1, 3) by the year-on-year change, worst base capped by the small base."""

from __future__ import annotations

from decimal import Decimal

from .comparisons import Comparison, change_rate
from .models import (
    DOWN,
    Indicator,
)


def competition_ranks(keys: list) -> list[int]:
    """1,1,3 ranking of already sorted keys: equal keys share the rank of the first of them."""
    ranks: list[int] = []
    for i, k in enumerate(keys):
        ranks.append(ranks[i - 1] if i and k == keys[i - 1] else i + 1)
    return ranks


def rate_key(ind: Indicator, c: Comparison | None) -> tuple:
    """Sort key: the best change first, no comparison last."""
    rate = change_rate(ind, c) if c is not None else None
    if rate is None:
        return (1, Decimal(0))
    return (0, rate if ind.direction == DOWN else -rate)
