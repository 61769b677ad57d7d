"""The briefing's 宣传教育 chart sets each target group's activities beside the period before's, which it reads with
`activities_per_target` (one statement) instead of the whole statistics of that period: the same count per group."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from tracker.periods import Period
from tracker.publicity.models import FORM, FRAUD, TARGET
from tracker.publicity.report import section
from tracker.publicity.service import options
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


def test_the_lists_are_counted_in_their_order_from_one_read(demo, session):
    """The statistics list each kind's active options in the lists' order (as `service.options` reads them), now
    taken from the one read of every option: after one is deactivated and another moved to the front as well."""
    period = Period.parse("2026-Q4")
    targets = options(session, TARGET)
    targets[1].is_active = False
    targets[-1].sort_order = -1
    session.flush()
    sent: list[str] = []
    engine = session.get_bind()
    listen = lambda *a: sent.append(a[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listen)
    try:
        stats = statistics(session, period)
    finally:
        event.remove(engine, "before_cursor_execute", listen)
    assert sum("FROM publicity_options" in s for s in sent) == 1
    names = [o.name for o in options(session, TARGET)]
    assert list(stats.by_target)[: len(names)] == names and names[0] == targets[-1].name
    assert list(stats.by_form)[: len(options(session, FORM))] == [o.name for o in options(session, FORM)]
    assert list(stats.by_fraud)[: len(options(session, FRAUD))] == [o.name for o in options(session, FRAUD)]
    session.rollback()
