"""The overview's town rows write each indicator's unit and each verdict once per page: the table must be the one
the cells wrote before (`tests/data/metric_cells_before.py`), for every kind of cell and on the demo district."""

from __future__ import annotations

import importlib.util
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest

from tracker.metrics import cells, service
from tracker.metrics.comparisons import Comparison
from tracker.periods import Period

_spec = importlib.util.spec_from_file_location(
    "metric_cells_before", Path(__file__).parent / "data" / "metric_cells_before.py"
)
before = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(before)


def _href(uid: int) -> str:
    return f"/metrics/units/{uid}?period=2026-Q3&x=<1>"


def _both(s) -> tuple[str, str]:
    return str(before.town_rows(s, _href)), str(cells.town_rows(s, _href))


def test_every_kind_of_cell_as_before():
    cases = SimpleNamespace(name="发案数", unit_label="起", decimals=0, small_base=10, code="cases")
    losses = SimpleNamespace(name="损失<金额>", unit_label="万元&", decimals=2, small_base=10, code="losses")
    kinds = [
        Comparison(30, 20, 10, Decimal("50.0"), None, "pct", False, "down"),  # worse, a percentage
        Comparison(4, 9, -5, None, None, "abs", True, "down"),  # better, by the difference (small base)
        Comparison(12, 12, 0, Decimal("0.0"), None, "pct", False, "down"),  # the same
        Comparison(0, 0, 0, None, None, "abs", True, "down"),  # held at zero
        Comparison(None, 7, None, None, None, None, None, "down"),  # no figure
        Comparison(8, None, None, None, None, None, None, "down"),  # no figure last year
        Comparison(8, 5, None, None, None, None, None, "down"),  # nothing comparable
        Comparison(
            Decimal("1234.50"), Decimal("10.25"), Decimal("1224.25"), Decimal("11943.9"), None, "pct", False, "down"
        ),
        Comparison(Decimal("3.10"), Decimal("5.00"), Decimal("-1.90"), None, None, "abs", True, "down"),
    ]
    units = []
    for n, (a, b) in enumerate([(x, y) for x in kinds for y in kinds]):
        unit = SimpleNamespace(id=n, name=f"<b>镇{n}</b>" if n % 5 == 0 else f"镇{n}", sort_order=n)
        verdict = ("met", "unmet", "incomplete")[n % 3]
        units.append(
            SimpleNamespace(
                rank=n // 2 + 1, unit=unit, comparisons={"cases": a, "losses": b}, improved_count=n % 3, verdict=verdict
            )
        )
    s = SimpleNamespace(town_indicators=[cases, losses], core=[cases, losses], ranked=lambda: units)
    old, new = _both(s)
    assert new == old
    assert new.count("<tr>") == 81 and "<b>" not in new and "&lt;1&gt;" in new


def test_a_core_indicator_without_a_comparison_as_before():
    cases = SimpleNamespace(name="发案数", unit_label="起", decimals=0, small_base=10, code="cases")
    solved = SimpleNamespace(name="破案数", unit_label="起", decimals=0, small_base=10, code="solved")
    c = Comparison(30, 20, 10, Decimal("50.0"), None, "pct", False, "down")
    unit = SimpleNamespace(id=1, name="甲镇", sort_order=1)
    u = SimpleNamespace(rank=1, unit=unit, comparisons={"cases": c}, improved_count=0, verdict="incomplete")
    s = SimpleNamespace(town_indicators=[cases], core=[cases, solved], ranked=lambda: [u])
    old, new = _both(s)
    assert new == old and "破案" in new


@pytest.fixture
def demo(app, session, frozen, demo_districts):
    """The demo district on 3 December 2026."""
    demo_districts.install(app, (2026, 12, 3, 9))
    frozen(2026, 12, 3, 9)
    return app


@pytest.mark.parametrize("period", ["2026-Q3", "2026-Q4", "2026-08", "2026", "2025-Q4"])
def test_the_demo_towns_as_before(demo, session, period):
    s = service.summary(session, Period.parse(period))
    assert s.units
    old, new = _both(s)
    assert new == old
