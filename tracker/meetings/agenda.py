"""A meeting's agenda: earlier decisions and where they stand, the period's progress reports, its due decisions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import clock
from ..org.models import Unit
from ..periods import Period
from ..plans.service import active_plan, due_date, in_plan_period, last_due_month
from ..progress.service import month_counts
from .decisions import DecisionFacts, decision_facts, follow_up_decisions, previous_meetings, status_counts
from .models import (
    Decision,
    Meeting,
)


@dataclass(frozen=True)
class FactsRow:
    unit: Unit
    facts: DecisionFacts


@dataclass(frozen=True)
class Agenda:
    """What the meeting reviews: earlier decisions and where they stand, the period's reports, its due decisions."""

    period: Period
    previous: list[Meeting]  # held on the last meeting day before this one: their decisions are followed up
    earlier: list[Decision]
    earlier_counts: dict[str, int]
    # the last month of the period whose due day has passed (never a month still open for reporting), whose
    # progress reports are counted
    report_month: Period | None
    report_due: date | None
    report_counts: dict[str, int]  # progress-report state -> count (empty without a plan or outside its period)
    facts: list[FactsRow]  # decisions due in the period, per lead unit
    report_in_plan: bool = True  # False: report_month lies outside the plan's period and owes nothing


_READ = object()  # agenda's plan when the caller has not read it


def meeting_facts(session: Session, meeting: Meeting, today: date) -> dict[int, DecisionFacts]:
    """The decisions due in the meeting's period per lead unit as of `today` (`decision_facts`): the agenda's
    table, and for a quarter the decision item of its scores."""
    period = Period.parse(meeting.period)
    return decision_facts(session, None, period.start, period.end, today)


def agenda(
    session: Session,
    meeting: Meeting,
    today: date | None = None,
    plan_duties: list | None = None,
    plan=_READ,
    facts: dict | None = None,
) -> Agenda:
    """The agenda facts of a meeting, from the live record (plan: the active plan, None when there is none, and
    plan_duties its `counting_duties`; facts: `meeting_facts`, when the caller has read them already)."""
    today = today or clock.today()
    period = Period.parse(meeting.period)
    previous = previous_meetings(session, meeting.date)
    earlier = follow_up_decisions(session, previous, meeting.date)
    if plan is _READ:
        plan = active_plan(session)
    month = Period.month(period.year, period.last)
    if plan is not None:
        # a period still running shows the last month whose reports have fallen due, not one still open
        month = min(month, last_due_month(plan, today))
    if facts is None:
        facts = meeting_facts(session, meeting, today)
    units = {u.id: u for u in session.scalars(select(Unit).where(Unit.id.in_(list(facts))))} if facts else {}
    rows = sorted(
        (FactsRow(units[uid], f) for uid, f in facts.items()), key=lambda r: (r.unit.kind, r.unit.sort_order, r.unit.id)
    )
    return Agenda(
        period,
        previous,
        earlier,
        status_counts(earlier, today),
        month if plan is not None else None,
        due_date(plan, month) if plan is not None else None,
        month_counts(session, plan, month, today, plan_duties) if plan is not None else {},
        rows,
        plan is None or in_plan_period(plan, month),
    )
