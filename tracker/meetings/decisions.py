"""Supervised decisions (督办事项) as read: their state, the lists and filters, the facts counted per unit, a unit's
open items, and the decisions a meeting follows up."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import cache
from typing import NamedTuple

from sqlalchemy import bindparam, exists, func, or_, select
from sqlalchemy.orm import Session, contains_eager, joinedload, selectinload

from .. import clock, policy
from ..db import plain_rows
from ..errors import ValidationError
from ..org.models import Unit
from ..periods import Period
from .models import (
    ANSWERED,
    CLOSED,
    DECISION_COLOURS,
    DECISION_LABELS,
    DECISION_ORDER,
    HELD,
    OPEN,
    OVERDUE,
    RETURNED,
    Decision,
    Meeting,
    decision_supporting_units,
)

ANSWERABLE = (OPEN, RETURNED)
# Listing filters: the stored states, the derived 逾期, and 待办 (what the unit still owes: open or returned).
PENDING = "pending"
FILTERS = {PENDING: "待办", OPEN: "未反馈", ANSWERED: "已反馈", RETURNED: "已退回", OVERDUE: "逾期", CLOSED: "已销号"}


def decision_status(decision: Decision, today: date | None = None) -> str:
    """open, answered, returned or closed as stored; overdue when not closed and the deadline has passed."""
    today = today or clock.today()
    if decision.status != CLOSED and decision.deadline < today:
        return OVERDUE
    return decision.status


def decision_state(decision: Decision, today: date | None = None) -> tuple[str, str]:
    """The state in the product's colour language (not_due, submitted, returned, accepted, overdue) and its label."""
    status = decision_status(decision, today)
    label = DECISION_LABELS[status]
    if status == CLOSED and decision.closed_on_time is False:
        label = "已销号(逾期)"
    elif status == OVERDUE:
        label = f"逾期({DECISION_LABELS[decision.status]})"
    return DECISION_COLOURS[status], label


def _decisions_query():
    """Decisions with their meeting (from the join the filters and order use), lead unit (joined) and supporting
    units (a second statement): two statements whatever the number of decisions."""
    return (
        select(Decision)
        .join(Meeting)
        .options(
            contains_eager(Decision.meeting),
            joinedload(Decision.lead_unit, innerjoin=True),
            selectinload(Decision.supporting_units),
        )
    )


def list_decisions(
    session: Session,
    actor,
    unit_id: int | None = None,
    status: str | None = None,
    meeting_id: int | None = None,
    due_in: Period | None = None,
    today: date | None = None,
) -> list[Decision]:
    """Supervised items the actor may see, earliest deadline first.

    actor None reads everything (other areas' reports). An officer sees the items its unit leads or supports.
    unit_id filters by lead unit; status is one of FILTERS, as displayed (overdue is derived and takes the item
    out of its stored state's list; pending, the unit's to-do, is open or returned whether overdue or not);
    due_in keeps the items whose deadline falls in the period.
    """
    today = today or clock.today()
    q = _decisions_query()
    if actor is not None and not policy.can(actor, "meeting.view_all"):
        own = getattr(actor, "unit_id", None)
        q = q.where(
            or_(
                Decision.lead_unit_id == own,
                exists().where(
                    decision_supporting_units.c.decision_id == Decision.id, decision_supporting_units.c.unit_id == own
                ),
            )
        )
    if unit_id:
        q = q.where(Decision.lead_unit_id == unit_id)
    if meeting_id:
        q = q.where(Decision.meeting_id == meeting_id)
    if due_in is not None:
        q = q.where(Decision.deadline >= due_in.start, Decision.deadline <= due_in.end)
    if status == OVERDUE:
        q = q.where(Decision.status != CLOSED, Decision.deadline < today)
    elif status == PENDING:
        q = q.where(Decision.status.in_(ANSWERABLE))
    elif status == CLOSED:
        q = q.where(Decision.status == CLOSED)
    elif status in (OPEN, ANSWERED, RETURNED):
        # as displayed: an overdue item is listed under 逾期, not under its stored state
        q = q.where(Decision.status == status, Decision.deadline >= today)
    elif status:
        raise ValidationError("状态筛选无效")
    return list(session.scalars(q.order_by(Decision.deadline, Meeting.date, Decision.number)))


def status_counts(decisions: Iterable[Decision], today: date | None = None) -> dict[str, int]:
    """How many of the decisions are in each displayed state (逾期 counted instead of the stored state)."""
    counts = dict.fromkeys(DECISION_ORDER, 0)
    for d in decisions:
        counts[decision_status(d, today)] += 1
    return counts


def previous_meetings(session: Session, before: date) -> list[Meeting]:
    """The meetings held on the last day a meeting was held before the date (usually one)."""
    return list(session.scalars(_previous_query(), {"before": before}))


# the statements a meeting's agenda and the briefing read, each built once (built anew, SQLAlchemy would work out
# their cache keys again on every call)
@cache
def _previous_query():
    last = (
        select(func.max(Meeting.date))
        .where(Meeting.status == HELD, Meeting.date < bindparam("before"))
        .scalar_subquery()
    )
    return select(Meeting).where(Meeting.status == HELD, Meeting.date == last).order_by(Meeting.id)


def _following_up(query):
    """`query` (of decisions joined to their meeting) narrowed to the decisions a meeting on the date `before`
    follows up, in their order (see `follow_up_decisions`)."""
    return query.where(
        Meeting.status == HELD,
        Meeting.date < bindparam("before"),
        or_(
            Meeting.date == bindparam("day"),
            Decision.status != CLOSED,
            Decision.closed_at >= bindparam("since", type_=Decision.closed_at.type),
        ),
    ).order_by(Meeting.date, Meeting.id, Decision.number)


@cache
def _follow_up_query():
    return _following_up(_decisions_query())


@cache
def _follow_up_rows_query():
    return _following_up(
        select(
            Decision.id,
            Meeting.title.label("meeting"),
            Decision.text,
            Unit.name.label("lead"),
            Decision.deadline,
            Decision.status,
            Decision.closed_on_time,
        )
        .select_from(Decision)
        .join(Meeting)
        .join(Unit, Unit.id == Decision.lead_unit_id)
    )


@cache
def _supporting_names_query():
    """The supporting units' names of some decisions, each decision's in `Decision.supporting_units`' order."""
    link = decision_supporting_units.c
    return (
        select(link.decision_id, Unit.name)
        .join(Unit, Unit.id == link.unit_id)
        .where(link.decision_id.in_(bindparam("ids", expanding=True)))
        .order_by(Unit.kind, Unit.sort_order, Unit.id)
    )


def _follow_up_params(previous: list[Meeting], before: date) -> dict:
    day = previous[0].date
    return {"before": before, "day": day, "since": datetime.combine(day, time.min, tzinfo=clock.CHINA_TZ)}


def follow_up_decisions(session: Session, previous: list[Meeting], before: date) -> list[Decision]:
    """The decisions to follow up at a meeting on the date `before`, oldest meeting first, in their current state.

    `previous` are the meetings held on the last day a meeting was held before that date (`previous_meetings`).
    Every decision of theirs, and those of earlier held meetings still open or closed on or after that day; items
    closed before it were reported there.
    """
    if not previous:
        return []
    return list(session.scalars(_follow_up_query(), _follow_up_params(previous, before)))


class FollowUp(NamedTuple):
    """A decision followed up, as the briefing shows it: plain values, not an entity with its meeting and units."""

    id: int
    meeting: str  # the meeting's title
    text: str
    lead: str  # the lead unit's name
    supporting: list[str]  # the supporting units' names, in `Decision.supporting_units`' order
    deadline: date
    status: str
    closed_on_time: bool | None


def follow_up_rows(session: Session, previous: list[Meeting], before: date) -> list[FollowUp]:
    """The decisions of `follow_up_decisions`, in its order, as plain rows read in two statements (the decisions with
    their meeting's title and lead unit's name, then their supporting units' names): no entities built."""
    if not previous:
        return []
    rows = plain_rows(session, _follow_up_rows_query(), _follow_up_params(previous, before))
    supporting: dict[int, list[str]] = {r[0]: [] for r in rows}
    if rows:
        for decision_id, name in plain_rows(session, _supporting_names_query(), {"ids": list(supporting)}):
            supporting[decision_id].append(name)
    return [
        FollowUp(did, meeting, text, lead, supporting[did], deadline, status, on_time)
        for did, meeting, text, lead, deadline, status, on_time in rows
    ]


@dataclass(frozen=True)
class DecisionFacts:
    """One lead unit's decisions due in a span, as the record stands at the end of `today`.

    due = closed_on_time + closed_late + overdue + open_not_due. Each count has its decision ids.
    """

    unit_id: int
    due_ids: tuple[int, ...] = ()
    closed_on_time_ids: tuple[int, ...] = ()
    closed_late_ids: tuple[int, ...] = ()
    overdue_ids: tuple[int, ...] = ()
    open_not_due_ids: tuple[int, ...] = ()

    @property
    def due(self) -> int:
        return len(self.due_ids)

    @property
    def closed_on_time(self) -> int:
        return len(self.closed_on_time_ids)

    @property
    def closed_late(self) -> int:
        return len(self.closed_late_ids)

    @property
    def overdue(self) -> int:
        return len(self.overdue_ids)

    @property
    def open_not_due(self) -> int:
        return len(self.open_not_due_ids)

    @property
    def decision_ids(self) -> tuple[int, ...]:
        return self.due_ids


def decision_facts(
    session: Session, unit_id: int | None, start: date, end: date, today: date
) -> dict[int, DecisionFacts]:
    """Per lead unit: decisions whose deadline falls in [start, end], closed on time, closed late, overdue
    (not closed and deadline before `today`) and open but not yet due. One query.

    An item closed after `today` counts as not closed, so a past date gives the figures as they stood then.
    """
    q = select(Decision.id, Decision.lead_unit_id, Decision.deadline, Decision.closed_at, Decision.closed_on_time)
    q = q.where(Decision.deadline >= start, Decision.deadline <= end)
    if unit_id is not None:
        q = q.where(Decision.lead_unit_id == unit_id)
    acc: dict[int, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for did, lead, deadline, closed_at, on_time in session.execute(q.order_by(Decision.deadline, Decision.id)):
        c = acc[lead]
        c["due_ids"].append(did)
        if closed_at is not None and clock.local(closed_at).date() <= today:
            c["closed_on_time_ids" if on_time else "closed_late_ids"].append(did)
        elif deadline < today:
            c["overdue_ids"].append(did)
        else:
            c["open_not_due_ids"].append(did)
    return {lead: DecisionFacts(lead, **{k: tuple(v) for k, v in c.items()}) for lead, c in acc.items()}


@dataclass(frozen=True)
class UnitTodo:
    """What a unit owes on supervised items: open and returned ones, earliest deadline first."""

    items: list[Decision] = field(default_factory=list)
    overdue: int = 0


def unit_todo(session: Session, unit_id: int, today: date | None = None) -> UnitTodo:
    today = today or clock.today()
    items = list(
        session.scalars(
            select(Decision)
            .options(selectinload(Decision.meeting))  # the to-do shows the meeting's title, not the units
            .where(Decision.lead_unit_id == unit_id, Decision.status.in_(ANSWERABLE))
            .order_by(Decision.deadline, Decision.id)
        )
    )
    return UnitTodo(items, sum(1 for d in items if d.deadline < today))
