"""The demo figures: deterministic, two years long, and showing every case the pages and card rules meet."""

from __future__ import annotations

import hashlib
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from tracker.audit.models import AuditEvent
from tracker.audit.service import verify
from tracker.metrics import service
from tracker.metrics.demo import load
from tracker.metrics.models import MetricValue
from tracker.periods import Period

from .conftest import get_unit, get_user
from .metrics_util import NOW

TODAY = date(*NOW[:3])


@pytest.fixture
def demo(seeded, session, frozen):
    frozen(*NOW)
    n = load(session, get_user(session, "police"), TODAY)
    session.commit()
    return session, n


def test_two_years_of_figures_for_every_town_one_audit_event_per_month(demo):
    session, n = demo
    months = sorted(set(session.scalars(select(MetricValue.month))))
    assert months[0] == "2025-01" and months[-1] == "2026-11" and len(months) == 23
    assert n == 23 * 6 * 4
    assert len(session.scalars(select(AuditEvent).where(AuditEvent.action == "metrics.save")).all()) == 23
    assert load(session, get_user(session, "police"), TODAY) == 0  # runs once
    assert verify(session) == []  # the audit chain still checks out


def test_figures_are_the_same_on_every_run(demo):
    """The figures come from a hash of (town, indicator, month), never from a random generator."""
    from tracker.metrics.demo import PROFILES, month_figures
    from tracker.periods import month_range

    session, _ = demo
    names = [u.name for u in service.towns(session)]
    text = "|".join(
        f"{n},{m.code}," + ",".join(str(v) for v in month_figures(PROFILES[i], n, m, 2026).values())
        for i, n in enumerate(names)
        for m in month_range(Period.parse("2025-01"), Period.parse("2026-11"))
    )
    assert (
        hashlib.sha256(text.encode()).hexdigest() == "eafdfc3ef0735225c826ba084e2a221a4c2ad6391200d6e7b3f0aec47bfd47cf"
    )
    q = get_unit(session, "青石镇").id
    assert service.value(session, "cases", q, Period.parse("2025-01")) == 14
    assert service.value(session, "losses", q, Period.parse("2025-01")) == Decimal("83.10")
    amounts = session.scalars(select(MetricValue.amount).where(MetricValue.amount.is_not(None))).all()
    assert amounts and all(isinstance(a, Decimal) for a in amounts)


def test_demo_shows_towns_meeting_and_missing_the_goal(demo):
    session, _ = demo
    s = service.summary(session, Period.parse("2026-Q3"))
    verdicts = {u.unit.name: u.two_down_two_up for u in s.units}
    assert verdicts["青石镇"] and verdicts["白沙镇"]
    assert not verdicts["柳溪镇"] and not verdicts["东湖街道"] and not verdicts["南山街道"]
    assert s.district["cases"].improved is True  # the district as a whole fell


def test_demo_has_a_town_with_cases_up_by_half_in_the_last_quarter(demo):
    session, _ = demo
    s = service.summary(session, Period.parse("2026-Q3"))
    c = next(u for u in s.units if u.unit.name == "柳溪镇").comparisons["cases"]
    assert c.judged_by == "pct" and c.yoy_pct >= 50


def test_demo_has_a_town_with_cases_up_in_consecutive_months(demo):
    session, _ = demo
    town = get_unit(session, "云岭镇").id
    for month in ("2026-08", "2026-09", "2026-10", "2026-11"):
        assert service.compare(session, "cases", town, Period.parse(month)).yoy_abs > 0, month
