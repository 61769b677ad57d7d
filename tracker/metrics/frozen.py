"""A 两降两升 summary as plain JSON and back: what a published quarter keeps of the figures it used."""

from __future__ import annotations

from dataclasses import dataclass, fields
from decimal import Decimal

from .comparisons import Comparison
from .summary import Summary, UnitSummary

# Comparison fields that hold words, not numbers (every other string in the JSON is a Decimal)
_TEXT_FIELDS = {"judged_by", "direction"}
# Comparison fields holding (unit, month) pairs: the unit-months a like-for-like comparison left out
_PAIR_FIELDS = {"missing", "mom_missing"}


@dataclass(frozen=True)
class FrozenIndicator:
    """An indicator as it was when the figures were frozen (its name, unit and decimals may change later)."""

    code: str
    name: str
    unit_label: str
    decimals: int
    scope: str
    direction: str


@dataclass(frozen=True)
class FrozenUnit:
    """A town as it was named when the figures were frozen."""

    id: int
    name: str
    sort_order: int


def _encode(v):
    if isinstance(v, Decimal):
        return str(v)
    if isinstance(v, tuple):
        return list(v)
    return v


def comparison_to_json(c: Comparison) -> dict:
    out = {f.name: _encode(getattr(c, f.name)) for f in fields(Comparison)}
    for k in _PAIR_FIELDS:
        out[k] = [list(pair) for pair in getattr(c, k)]
    return out


def comparison_from_json(d: dict) -> Comparison:
    known = {f.name for f in fields(Comparison)}
    args = {}
    for k, v in d.items():
        if k not in known:
            continue
        if k in _PAIR_FIELDS:
            v = tuple(tuple(pair) for pair in v or ())
        elif isinstance(v, list):
            v = tuple(v)
        elif isinstance(v, str) and k not in _TEXT_FIELDS:
            v = Decimal(v)
        args[k] = v
    return Comparison(**args)


def summary_to_json(s: Summary, trends: dict | None = None) -> dict:
    """The district's and every town's comparisons, verdicts and ranks; trends: code -> (this year, last year)."""
    trends = list((trends or {}).items())
    return {
        "period": s.period.code,
        "indicators": [
            {
                "code": i.code,
                "name": i.name,
                "unit_label": i.unit_label,
                "decimals": i.decimals,
                "scope": i.scope,
                "direction": i.direction,
            }
            for i in s.indicators
        ],
        "district": {code: comparison_to_json(c) for code, c in s.district.items()},
        "two_down_two_up": s.two_down_two_up,
        "units": [
            {
                "unit_id": u.unit.id,
                "unit": u.unit.name,
                "sort_order": u.unit.sort_order,
                "rank": u.rank,
                "improved_count": u.improved_count,
                "ranks": dict(u.ranks),
                "two_down_two_up": u.two_down_two_up,
                "comparisons": {code: comparison_to_json(c) for code, c in u.comparisons.items()},
            }
            for u in s.units
        ],
        "trends": {code: [[_encode(v) for v in this], [_encode(v) for v in last]] for code, (this, last) in trends},
    }


def summary_from_json(d: dict, period) -> Summary:
    """A Summary the pages render as they render a live one, from what summary_to_json kept."""
    indicators = [FrozenIndicator(**i) for i in d["indicators"]]
    units = [
        UnitSummary(
            FrozenUnit(u["unit_id"], u["unit"], u["sort_order"]),
            {code: comparison_from_json(c) for code, c in u["comparisons"].items()},
            u["two_down_two_up"],
            rank=u["rank"],
            improved_count=u["improved_count"],
            ranks=dict(u["ranks"]),
        )
        for u in d["units"]
    ]
    district = {code: comparison_from_json(c) for code, c in d["district"].items()}
    return Summary(period, indicators, district, d["two_down_two_up"], units)


def _decode_value(v):
    return Decimal(v) if isinstance(v, str) else v


def trends_from_json(d: dict) -> dict:
    """code -> (this year's twelve monthly figures, last year's), as summary_to_json kept them."""
    return {
        code: ([_decode_value(v) for v in this], [_decode_value(v) for v in last])
        for code, (this, last) in d.get("trends", {}).items()
    }
