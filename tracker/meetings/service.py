"""Joint meetings: scheduling, holding, recording decisions, the units' feedback, closing, and the facts counted."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

from sqlalchemy import bindparam, exists, func, or_, select
from sqlalchemy.orm import Session, selectinload

from .. import clock, policy
from ..audit.service import record
from ..errors import NotFound, StaleEdit, ValidationError, WorkflowError, on_unique_violation
from ..org.models import Unit
from ..periods import Period
from .agenda import Agenda, FactsRow, agenda, meeting_facts
from .decisions import (
    ANSWERABLE,
    FILTERS,
    PENDING,
    DecisionFacts,
    UnitTodo,
    decision_facts,
    decision_state,
    decision_status,
    follow_up_decisions,
    follow_up_rows,
    list_decisions,
    previous_meetings,
    status_counts,
    unit_todo,
)
from .models import (
    ANSWERED,
    CLOSED,
    HELD,
    OPEN,
    RETURNED,
    SCHEDULED,
    Decision,
    DecisionEvent,
    Meeting,
    meeting_units,
)

# the reading side of decisions and the agenda, defined in the modules above, are called through this interface too
__all__ = [
    "ANSWERABLE",
    "FILTERS",
    "PENDING",
    "Agenda",
    "DecisionFacts",
    "FactsRow",
    "UnitTodo",
    "agenda",
    "decision_facts",
    "decision_state",
    "decision_status",
    "follow_up_decisions",
    "follow_up_rows",
    "list_decisions",
    "meeting_facts",
    "previous_meetings",
    "status_counts",
    "unit_todo",
]

MAX_TITLE = 200
MAX_CONVENER = 64
MAX_LOCATION = 200
MAX_NOTES = 5000
MAX_TEXT = 5000
MAX_COMMENT = 2000

# -- reading ---------------------------------------------------------------


def get_meeting(session: Session, meeting_id: int) -> Meeting:
    meeting = session.get(Meeting, meeting_id)
    if meeting is None:
        raise NotFound("会议不存在")
    return meeting


def get_decision(session: Session, decision_id: int) -> Decision:
    decision = session.get(Decision, decision_id)
    if decision is None:
        raise NotFound("督办事项不存在")
    return decision


def parse_period(text: str) -> Period:
    """The period a meeting reviews: a quarter (2026-Q3) or a month (2026-10)."""
    if not (text or "").strip():
        raise ValidationError("请填写会议研究的期间,如 2026-Q3 或 2026-10")
    p = Period.parse(text)
    if p.kind not in ("month", "quarter"):
        raise ValidationError(f"会议研究的期间应为季度(如 2026-Q3)或月份(如 2026-10),收到“{text}”")
    return p


def _period_codes(p: Period) -> list[str]:
    """Codes of the meeting periods inside p: itself, its quarters, its months."""
    codes = {p.code, *p.month_codes()}
    for q in range(1, 5):
        quarter = Period.quarter(p.year, q)
        if p.contains(quarter):
            codes.add(quarter.code)
    return sorted(codes)


def _visible_meetings(q, actor):
    if actor is None or policy.can(actor, "meeting.view_all"):
        return q
    unit_id = getattr(actor, "unit_id", None)
    return q.where(
        or_(
            exists().where(meeting_units.c.meeting_id == Meeting.id, meeting_units.c.unit_id == unit_id),
            exists().where(Decision.meeting_id == Meeting.id, Decision.lead_unit_id == unit_id),
        )
    )


@dataclass(frozen=True)
class MeetingList:
    upcoming: list[Meeting]  # scheduled, nearest first
    past: list[Meeting]  # held, newest first
    counts: dict[int, dict[str, int]]  # meeting id -> its decisions per displayed state


def list_meetings(session: Session, actor, period: str | None = None) -> MeetingList:
    """Meetings the actor may see (staff all; an officer those its unit attends or has decisions of)."""
    q = select(Meeting).options(selectinload(Meeting.units), selectinload(Meeting.decisions))
    q = _visible_meetings(q, actor)
    if period:
        q = q.where(Meeting.period.in_(_period_codes(parse_period_filter(period))))
    rows = list(session.scalars(q.order_by(Meeting.date, Meeting.id)))
    return MeetingList(
        [m for m in rows if m.status == SCHEDULED],
        [m for m in reversed(rows) if m.status == HELD],
        {m.id: status_counts(m.decisions) for m in rows},
    )


# what the meeting list and the decisions' deadline filter accept: a month, a quarter or a year
FILTER_KINDS = ("month", "quarter", "year")


def parse_period_filter(text: str) -> Period:
    return Period.parse(text, FILTER_KINDS)


def page_meeting(session: Session, meeting_id: int) -> Meeting | None:
    """The meeting as its page shows it (`page_options`), or None: by a statement built once (built anew, as
    `session.get` with the options builds it, SQLAlchemy would work out its cache key again on every request)."""
    return session.scalar(_page_query(), {"meeting_id": meeting_id})


@cache
def _page_query():
    return select(Meeting).where(Meeting.id == bindparam("meeting_id")).options(*page_options())


def page_options() -> list:
    """Loader options for a meeting shown with its decisions: its units, the decisions with their lead units
    (joined), and their supporting units, a statement per collection whatever the number of decisions."""
    decisions = selectinload(Meeting.decisions)
    return [
        selectinload(Meeting.units),
        decisions.joinedload(Decision.lead_unit, innerjoin=True),
        decisions.selectinload(Decision.supporting_units),
    ]


def next_number(session: Session, meeting: Meeting) -> int:
    return (session.scalar(select(func.max(Decision.number)).where(Decision.meeting_id == meeting.id)) or 0) + 1


# -- writing ---------------------------------------------------------------


def _text(value: str | None, label: str, limit: int, required: bool = True) -> str:
    value = (value or "").replace("\r\n", "\n").strip()
    if required and not value:
        raise ValidationError(f"请填写{label}")
    if len(value) > limit:
        raise ValidationError(f"{label}不能超过{limit}字")
    return value


def _units(session: Session, unit_ids: Iterable[int], label: str) -> list[Unit]:
    ids = list(dict.fromkeys(int(i) for i in unit_ids or []))
    q = select(Unit).where(Unit.id.in_(ids)).order_by(Unit.kind, Unit.sort_order, Unit.id)
    units = list(session.scalars(q)) if ids else []
    if len(units) != len(ids) or any(not u.is_active for u in units):
        raise ValidationError(f"{label}中有不存在或已停用的单位")
    return units


def _check_version(obj, version: int | None) -> None:
    if version is None or obj.version != version:
        raise StaleEdit()


def _meeting_fields(
    session: Session,
    *,
    title: str,
    meeting_date: date | None,
    convener: str,
    unit_ids,
    period: str,
    location: str,
    notes: str,
) -> dict:
    if meeting_date is None:
        raise ValidationError("请填写会议日期")
    if not 2000 <= meeting_date.year <= 2100:
        raise ValidationError("会议日期超出范围")
    units = _units(session, unit_ids, "参会单位")
    if not units:
        raise ValidationError("请至少选择一个参会单位")
    return {
        "title": _text(title, "会议名称", MAX_TITLE),
        "date": meeting_date,
        "convener": _text(convener, "召集人", MAX_CONVENER),
        "period": parse_period(period).code,
        "location": _text(location, "会议地点", MAX_LOCATION, required=False),
        "notes": _text(notes, "备注", MAX_NOTES, required=False),
        "units": units,
    }


def _title_taken(day: date | None, title: str) -> ValidationError:
    if not isinstance(day, date):
        return ValidationError(f"当天已有同名会议“{title}”")
    return ValidationError(f"{day:%Y年%m月%d日}已有同名会议“{title}”")


# the same answer when another transaction scheduled the meeting between the check and the write
on_unique_violation("uq_meetings_date_title", lambda row: _title_taken(row.get("date"), row.get("title", "")))


def _check_unique_title(session: Session, fields: dict, exclude_id: int | None = None) -> None:
    q = select(Meeting.id).where(Meeting.date == fields["date"], Meeting.title == fields["title"])
    if exclude_id is not None:
        q = q.where(Meeting.id != exclude_id)
    if session.scalar(q):
        raise _title_taken(fields["date"], fields["title"])


def schedule_meeting(
    session: Session,
    actor,
    *,
    title: str,
    meeting_date: date | None,
    convener: str,
    unit_ids: Iterable[int],
    period: str,
    location: str = "",
    notes: str = "",
) -> Meeting:
    """Schedule a joint meeting (it may also be entered after the fact and then marked held)."""
    policy.require(actor, "meeting.manage")
    fields = _meeting_fields(
        session,
        title=title,
        meeting_date=meeting_date,
        convener=convener,
        unit_ids=unit_ids,
        period=period,
        location=location,
        notes=notes,
    )
    _check_unique_title(session, fields)
    now = clock.now()
    meeting = Meeting(status=SCHEDULED, created_at=now, updated_at=now, created_by_id=actor.id, **fields)
    session.add(meeting)
    record(
        session,
        actor,
        "meeting.schedule",
        meeting,
        summary=f"安排联席会议“{meeting.title}”({meeting.date.isoformat()},研究{Period.parse(meeting.period).label})",
    )
    return meeting


def update_meeting(
    session: Session,
    actor,
    meeting_id: int,
    version: int | None,
    *,
    title: str,
    meeting_date: date | None,
    convener: str,
    unit_ids: Iterable[int],
    period: str,
    location: str = "",
    notes: str = "",
) -> Meeting:
    """Change a scheduled meeting; a held meeting is read-only."""
    meeting = get_meeting(session, meeting_id)
    policy.require(actor, "meeting.manage", meeting)
    _check_version(meeting, version)
    if meeting.status != SCHEDULED:
        raise WorkflowError("会议已召开,会议信息不能再修改")
    fields = _meeting_fields(
        session,
        title=title,
        meeting_date=meeting_date,
        convener=convener,
        unit_ids=unit_ids,
        period=period,
        location=location,
        notes=notes,
    )
    _check_unique_title(session, fields, exclude_id=meeting.id)
    first_deadline = min((d.deadline for d in meeting.decisions), default=None)
    if first_deadline is not None and fields["date"] > first_deadline:
        raise ValidationError("会议日期不能晚于已录入议定事项的办结期限")
    before = meeting.snapshot()
    for k, v in fields.items():
        setattr(meeting, k, v)
    meeting.updated_at = clock.now()  # always an UPDATE of the row, so the version moves even if only units changed
    session.flush()
    record(session, actor, "meeting.update", meeting, before=before, summary=f"修改联席会议“{meeting.title}”")
    return meeting


def mark_held(session: Session, actor, meeting_id: int, version: int | None) -> Meeting:
    """Record that the meeting took place (final): its details are then read-only."""
    meeting = get_meeting(session, meeting_id)
    policy.require(actor, "meeting.manage", meeting)
    _check_version(meeting, version)
    if meeting.status != SCHEDULED:
        raise WorkflowError("会议已标记为召开")
    if meeting.date > clock.today():
        raise WorkflowError(f"会议日期{meeting.date:%Y年%m月%d日}尚未到,不能标记为已召开")
    before = meeting.snapshot()
    now = clock.now()
    meeting.status, meeting.held_at, meeting.held_by_id, meeting.updated_at = HELD, now, actor.id, now
    session.flush()
    record(session, actor, "meeting.hold", meeting, before=before, summary=f"联席会议“{meeting.title}”已召开")
    return meeting


def _event(decision: Decision, action: str, actor, body: str = "", unit_id: int | None = None) -> DecisionEvent:
    e = DecisionEvent(action=action, actor_id=actor.id, unit_id=unit_id, at=clock.now(), body=body)
    decision.events.append(e)
    return e


def record_decision(
    session: Session,
    actor,
    meeting_id: int,
    *,
    text: str,
    lead_unit_id: int | None,
    supporting_unit_ids: Iterable[int] = (),
    deadline: date | None,
) -> Decision:
    """Record a decision of the meeting (during or after it); it becomes a supervised item of the lead unit."""
    meeting = get_meeting(session, meeting_id)
    policy.require(actor, "meeting.manage", meeting)
    if meeting.date > clock.today():
        raise WorkflowError("会议尚未召开,不能录入议定事项")
    body = _text(text, "议定事项内容", MAX_TEXT)
    if lead_unit_id is None:
        raise ValidationError("请选择牵头单位")
    lead = _units(session, [lead_unit_id], "牵头单位")[0]
    supporting = [u for u in _units(session, supporting_unit_ids, "配合单位") if u.id != lead.id]
    if deadline is None:
        raise ValidationError("请填写办结期限")
    if deadline < meeting.date:
        raise ValidationError(f"办结期限不能早于会议日期({meeting.date:%Y年%m月%d日})")
    if deadline > meeting.date + timedelta(days=366 * 2):
        raise ValidationError("办结期限不能超过会议日期后两年")
    decision = Decision(
        meeting=meeting,
        number=next_number(session, meeting),
        text=body,
        lead_unit=lead,
        supporting_units=supporting,
        deadline=deadline,
        status=OPEN,
        created_at=clock.now(),
        created_by_id=actor.id,
    )
    session.add(decision)
    _event(decision, "create", actor, body)
    record(
        session,
        actor,
        "decision.create",
        decision,
        summary=f"录入议定事项 {meeting.title} 第{decision.number}项,牵头单位{lead.name},期限{deadline.isoformat()}",
    )
    return decision


def answer_decision(session: Session, actor, decision_id: int, version: int | None, feedback: str) -> Decision:
    """The lead unit's officer reports back (反馈) on an open or returned item."""
    decision = get_decision(session, decision_id)
    policy.require(actor, "decision.answer", decision)
    _check_version(decision, version)
    if decision.status not in ANSWERABLE:
        raise WorkflowError("该事项已销号,不能再反馈" if decision.status == CLOSED else "已反馈,等待联席办审核")
    body = _text(feedback, "反馈内容", MAX_TEXT)
    before = decision.snapshot()
    decision.status, decision.answered_at = ANSWERED, clock.now()
    _event(decision, "answer", actor, body, unit_id=actor.unit_id)
    session.flush()
    record(
        session,
        actor,
        "decision.answer",
        decision,
        before=before,
        summary=f"{decision.lead_unit.name} 反馈 {decision.label}",
    )
    return decision


def review_decision(
    session: Session, actor, decision_id: int, version: int | None, verdict: str, comment: str = ""
) -> Decision:
    """Close an answered item (销号, final) or return the feedback with a comment for the unit to answer again."""
    decision = get_decision(session, decision_id)
    policy.require(actor, "decision.review", decision)
    _check_version(decision, version)
    if decision.status != ANSWERED:
        raise WorkflowError("该事项已销号" if decision.status == CLOSED else "单位尚未反馈,不能审核")
    comment = _text(comment, "审核意见", MAX_COMMENT, required=False)
    before = decision.snapshot()
    now = clock.now()
    if verdict == "return":
        if not comment:
            raise ValidationError("退回时请填写退回意见")
        decision.status, decision.review_comment = RETURNED, comment
        _event(decision, "return", actor, comment)
        summary = f"退回 {decision.lead_unit.name} 对 {decision.label} 的反馈"
    elif verdict == "close":
        decision.status, decision.review_comment = CLOSED, comment
        decision.closed_at, decision.closed_by_id = now, actor.id
        decision.closed_on_time = clock.local(now).date() <= decision.deadline
        _event(decision, "close", actor, comment)
        summary = f"销号 {decision.label}({'按期' if decision.closed_on_time else '逾期'})"
    else:
        raise ValidationError("审核结论无效")
    session.flush()
    record(session, actor, f"decision.{verdict}", decision, before=before, summary=summary)
    return decision
