"""A unit's score figures, each worked out once, are what its items and adjustments make (figures by hand)."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

from tracker.assessment.scoring import AdjustmentScore, ItemScore, UnitScore


def _item(code: str, weight: str, points: str | None) -> ItemScore:
    return ItemScore(code, code, "report_share", Decimal(weight), None if points is None else Decimal(points))


def test_figures_from_items_and_adjustments():
    """Items 40 (30 points), 30 (not applicable) and 30 (15 points), a deduction of 2: the maximum is 70, the items
    make 45, on a scale of 100 that is 4500/70 = 64.2857… = 64.29, less 2 gives 62.29."""
    unit = SimpleNamespace(id=1, name="甲镇", kind="township", sort_order=1)
    s = UnitScore(
        unit,
        [_item("A", "40", "30"), _item("B", "30", None), _item("C", "30", "15")],
        [AdjustmentScore("K1", "迟报", "deduction", "late_report", 2, Decimal("-2.00"))],
    )
    assert [i.code for i in s.counted] == ["A", "C"]
    assert (s.max, s.subtotal, s.scaled, s.total) == (Decimal(70), Decimal(45), Decimal("64.29"), Decimal("62.29"))
    assert s.scored and s.total == Decimal("62.29")  # read again: the same


def test_no_item_counting_has_no_score_and_total_never_below_zero():
    unit = SimpleNamespace(id=2, name="乙镇", kind="township", sort_order=2)
    none = UnitScore(unit, [_item("B", "30", None)], [])
    assert (none.max, none.scored, none.scaled, none.total) == (Decimal(0), False, None, None)
    low = UnitScore(
        unit,
        [_item("A", "50", "1")],
        [AdjustmentScore("K2", "逾期", "deduction", "overdue_report", 3, Decimal("-9.00"))],
    )
    assert (low.scaled, low.total) == (Decimal("2.00"), Decimal("0.00"))
