"""The briefing's 宣传教育 chart sets each target group's activities beside the period before's, which it reads with
`activities_per_target` (one statement) instead of the whole statistics of that period: the same count per group."""

from __future__ import annotations

import pytest

from tracker.periods import Period
from tracker.publicity.report import section
from tracker.publicity.statistics import activities_per_target, statistics


@pytest.fixture
def demo(app, session, frozen, demo_districts):
    """The demo district on 3 December 2026, with its publicity activities."""
    demo_districts.install(app, (2026, 12, 3, 9))
    frozen(2026, 12, 3, 9)
    return app


@pytest.mark.parametrize("code", ["2026-Q3", "2026-Q2", "2026-Q4", "2026-10", "2026-11", "2026", "2025-Q4"])
def test_each_target_groups_count_is_the_statistics(demo, session, code):
    period = Period.parse(code)
    by_target = statistics(session, period).by_target
    counted = activities_per_target(session, period)
    assert counted == {name: t.activities for name, t in by_target.items() if t.activities}
    assert set(counted) <= set(by_target)


def test_the_chart_compares_with_the_period_befores_counts(demo, session):
    """December against November, both with activities: each bar's previous figure is November's statistics."""
    dec, nov = Period.parse("2026-12"), Period.parse("2026-11")
    before = statistics(session, nov).by_target
    assert sum(t.activities for t in before.values())
    chart = str(section(session, dec).chart)
    assert "本期" in chart and "上一期" in chart
    counted = activities_per_target(session, dec.previous())
    assert counted == {n: t.activities for n, t in before.items() if t.activities}
