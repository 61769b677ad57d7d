"""Building facts for assessment and card tests through the services users go through."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from tracker.metrics.models import Indicator, MetricValue
from tracker.metrics.service import save_grid

from .conftest import get_unit, get_user


def put_figures(session, month: str, town: str, **values) -> None:
    """公安分局 enters a town's figures for a month: put_figures(s, "2026-07", "青石镇", cases=12, losses="3.50")."""
    police = get_user(session, "police")
    unit = get_unit(session, town)
    inds = {i.code: i for i in session.scalars(select(Indicator))}
    seen = {
        v.indicator_id: v.version
        for v in session.scalars(select(MetricValue).where(MetricValue.unit_id == unit.id, MetricValue.month == month))
    }
    entries = {(inds[code].id, unit.id): (str(v), seen.get(inds[code].id)) for code, v in values.items()}
    save_grid(session, police, month, entries)
    session.commit()


def fill_year(session, year: int, town: str, months=range(1, 13), **values) -> None:
    for m in months:
        put_figures(session, f"{year}-{m:02d}", town, **values)


def make_decision(session, lead: str, deadline: date, title: str = "督办会议"):
    from tracker.meetings import service as meetings

    reviewer = get_user(session, "reviewer")
    unit = get_unit(session, lead)
    m = meetings.schedule_meeting(
        session,
        reviewer,
        title=f"{title}{deadline}",
        meeting_date=date(2026, 7, 10),
        convener="区委政法委",
        unit_ids=[unit.id],
        period="2026-Q2",
    )
    return meetings.record_decision(
        session, reviewer, m.id, text="开展专项整治", lead_unit_id=unit.id, deadline=deadline
    )
