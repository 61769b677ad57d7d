"""Building facts for assessment and card tests through the services users go through."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import select

from tracker.metrics.models import Indicator, MetricValue
from tracker.metrics.service import save_grid

from .conftest import get_unit, get_user


def flat(html: str) -> str:
    """Page text without tags and whitespace, so a note or a table row reads as one string."""
    return re.sub(r"\s+", "", re.sub(r"<[^>]+>", "", html))


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


def q3_meeting_for_qingshi(session, frozen, **other_towns_july) -> int:
    """Q3 2026 with 青石镇 26 cases in July (20 a year before), and any other town's July given as
    town=(last year, this year); a meeting on the quarter for 青石镇 scheduled on 20 October. Its id."""
    from tracker.meetings import service as meetings

    frozen(2026, 9, 20, 9)
    for town, (before, now) in {"青石镇": (20, 26), **other_towns_july}.items():
        put_figures(session, "2025-07", town, cases=before)
        put_figures(session, "2026-07", town, cases=now)
    frozen(2026, 10, 20, 9)
    meeting = meetings.schedule_meeting(
        session,
        get_user(session, "reviewer"),
        title="第三季度联席会议",
        meeting_date=date(2026, 10, 28),
        convener="区委政法委",
        unit_ids=[get_unit(session, "青石镇").id],
        period="2026-Q3",
    )
    session.commit()
    return meeting.id


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
