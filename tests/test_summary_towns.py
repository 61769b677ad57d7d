"""The summary compares every town with `compare_unit`, a town's `compare_in` spelt out: both must give the same
comparison (values, their types, changes, verdict, what is missing) for every town, indicator and kind of period,
whatever is missing on either side."""

from __future__ import annotations

from collections import namedtuple
from decimal import Decimal
from itertools import product

import pytest

from tracker.metrics import service
from tracker.metrics.comparisons import Comparison, FigureStore, Rules, compare_in, comparison_months
from tracker.metrics.indicators import active_indicators
from tracker.metrics.models import AGG_MEAN, AGG_SUM, DOWN, SCOPE_TOWNSHIP, UP
from tracker.metrics.town_comparisons import compare_towns, compare_unit
from tracker.metrics.units import towns
from tracker.periods import Period

Town = namedtuple("Town", "id sort_order name")

TOWNS = [Town(1, 1, "甲镇"), Town(2, 2, "乙镇"), Town(3, 3, "丙街道"), Town(4, 4, "丁镇")]
CASES = Rules(1, "cases", SCOPE_TOWNSHIP, AGG_SUM, 0, True, 10, DOWN)
LOSSES = Rules(2, "losses", SCOPE_TOWNSHIP, AGG_SUM, 2, False, 10, DOWN)
RATE = Rules(3, "rate", SCOPE_TOWNSHIP, AGG_MEAN, 1, False, 10, UP)
PERIODS = [
    Period.parse(p) for p in ("2026-Q3", "2026-Q1", "2026-08", "2026-07", "2026-01", "2026", "2026-YTD-09", "2027-Q1")
]


def _rows() -> list[tuple]:
    """Figures of 2024-07 to 2026-09 with holes: 甲镇 every month; 乙镇 without August 2026 and without 2025's
    third quarter; 丙街道 only in 2026; 丁镇 only in 2025; zeros and a figure below the small base among them."""
    rows = []
    for town, year, month in product(TOWNS, (2024, 2025, 2026), range(1, 13)):
        code = f"{year}-{month:02d}"
        if (year, month) < (2024, 7) or (year, month) > (2026, 9):
            continue
        if town.id == 2 and (code == "2026-08" or (year == 2025 and 7 <= month <= 9)):
            continue
        if (town.id == 3 and year != 2026) or (town.id == 4 and year != 2025):
            continue
        n = (town.id * 7 + month * 3 + year) % 23
        rows.append((CASES.id, town.id, code, 0 if n == 5 else n, None))
        rows.append((LOSSES.id, town.id, code, None, Decimal(n * 13) / 4))
        rows.append((RATE.id, town.id, code, None, Decimal(50 + n) / 3))
    return rows


@pytest.mark.parametrize("period", PERIODS, ids=lambda p: p.code)
def test_each_town_is_compared_as_compare_in_compares_it(period):
    rows = [r for r in _rows() if r[2] in set(comparison_months(period))]
    store = FigureStore([CASES, LOSSES, RATE], rows)
    store.use_towns(TOWNS)
    for rules, town in product((CASES, LOSSES, RATE), [*TOWNS, Town(9, 9, "无数据镇")]):
        expected = compare_in(rules, store, town.id, period)
        found = compare_unit(rules, store, town.id, period)
        assert found == expected
        assert repr(found) == repr(expected)  # the same types too: an int stays an int, a Decimal its digits


@pytest.mark.parametrize("period", PERIODS, ids=lambda p: p.code)
def test_all_towns_compared_at_once_as_each_alone(period):
    """One call for every town (full, with holes, without any figure) gives each town what compare_in gives it."""
    store = FigureStore([CASES, LOSSES, RATE], [r for r in _rows() if r[2] in set(comparison_months(period))])
    store.use_towns(TOWNS)
    ids = [9, 3, 1, 2, 4]
    for rules in (CASES, LOSSES, RATE):
        found = compare_towns(rules, store, ids, period)
        expected = [compare_in(rules, store, uid, period) for uid in ids]
        assert repr(found) == repr(expected)


def test_the_missing_months_are_named_on_both_sides():
    period = Period.parse("2026-Q3")
    store = FigureStore([CASES], [r for r in _rows() if r[0] == CASES.id])
    store.use_towns(TOWNS)
    # 乙镇: July and September 2026 without their 2025 months (none of 2025's third quarter), no August 2026
    c = compare_unit(CASES, store, 2, period)
    assert c.missing == (("乙镇", "2025-07"), ("乙镇", "2025-09"))
    assert c.mom_missing == (("乙镇", "2026-08"),)  # the second quarter has May; August has no figure
    assert c.yoy_abs is None and c.improved is None and c.last_year is None  # nothing pairs with last year
    assert c == compare_in(CASES, store, 2, period)


@pytest.fixture
def demo(app, session, frozen, demo_districts):
    """The demo district on 3 December 2026 (柳溪镇 without August 2026)."""
    demo_districts.install(app, (2026, 12, 3, 9))
    frozen(2026, 12, 3, 9)
    return app


def test_the_summary_of_the_demo_matches_compare_in(demo, session):
    period = Period.parse("2026-Q3")
    summary = service.summary(session, period)
    store = FigureStore.load(session, active_indicators(session), comparison_months(period))
    store.use_towns(towns(session, include_inactive=True))
    assert summary.units
    for u in summary.units:
        for code, c in u.comparisons.items():
            assert c == compare_in(summary.indicator(code), store, u.unit.id, period)


def test_the_verdict_of_every_mix_of_the_four():
    """达成 when all four improved with nothing missing; 未达成 when one with nothing missing did not; else 数据不全."""
    from tracker.metrics.indicators import CORE_CODES
    from tracker.metrics.summary import INCOMPLETE, MET, UNMET, verdict_of

    gap = (("甲镇", "2026-08"),)
    kinds = [None] + [
        Comparison(1, 2, -1, None, None, "abs", improved, "down", missing=missing)
        for improved, missing in product((True, False, None), ((), gap))
    ]
    for mix in product(kinds, repeat=len(CORE_CODES)):
        comps = {code: c for code, c in zip(CORE_CODES, mix, strict=True) if c is not None}
        found = [c for c in mix if c is not None and not c.missing]
        if any(c.improved is False for c in found):
            expected = UNMET
        elif len(found) == len(CORE_CODES) and all(c.improved is True for c in found):
            expected = MET
        else:
            expected = INCOMPLETE
        assert verdict_of(comps) == expected, mix
