"""What is due, computed from the data at run time: nothing in the other areas calls in here.

`events` turns what happened recently (urges, returns, acceptances, decisions, cards, meetings) into notices;
`day` turns the deadlines around a China date into reminders. Each notice has a key naming the item and the day,
so making it twice (a rerun, a second worker) finds it already there."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from .. import clock
from ..assessment.models import (
    Card,
    CardStatus,
    Recommendation,
    RecommendationStatus,
    Rectification,
    RectificationStatus,
)
from ..meetings.models import CLOSED, Decision, DecisionEvent, DecisionStatus, Meeting, MeetingStatus
from ..org.models import Unit
from ..periods import Period
from ..plans.service import active_plan, due_date, duties
from ..progress.models import ACCEPTED, RETURNED, SUBMITTED, ProgressReport, ReportEvent, Urge
from ..templating import cn_date

REVIEWERS = "reviewers"
LEAD_DAYS = 3  # "due in 3 days"


@dataclass
class Notice:
    """One reminder: to a unit's officers (unit_id) or to every reviewer (unit_id None)."""

    key: str
    kind: str
    unit_id: int | None
    title: str
    lines: list[str] = field(default_factory=list)
    link: str = "/"

    @property
    def body(self) -> str:
        return "\n".join(self.lines)


def _task_list(tasks) -> str:
    return "、".join(t.short_label for t in sorted(tasks, key=lambda t: t.number))


# -- things that happened ------------------------------------------------------


def events(session: Session, since: datetime) -> list[Notice]:
    """Notices for what happened since `since` (and not later than now)."""
    now = clock.now()
    return (
        _urges(session, since, now)
        + _report_reviews(session, since, now)
        + _decision_events(session, since, now)
        + _cards_issued(session, since, now)
        + _meetings_scheduled(session, since, now)
    )


def _urges(session: Session, since: datetime, now: datetime) -> list[Notice]:
    out: list[Notice] = []
    for u in session.scalars(
        select(Urge).where(Urge.at >= since, Urge.at <= now).options(selectinload(Urge.task), selectinload(Urge.unit))
    ):
        p = Period.parse(u.period)
        out.append(
            Notice(
                f"urge:{u.id}",
                "urge",
                u.unit_id,
                f"催办:{u.unit.name} {u.task.short_label} {p.label}进展报告",
                [u.message, f"月份:{p.label}"],
                f"/progress/tasks/{u.task_id}/units/{u.unit_id}/{u.period}",
            )
        )
    return out


def _report_reviews(session: Session, since: datetime, now: datetime) -> list[Notice]:
    """A report returned (with the comment and the deadline to file again) or accepted."""
    plan = active_plan(session)
    out: list[Notice] = []
    for e in session.scalars(
        select(ReportEvent)
        .where(ReportEvent.action.in_(("return", "accept")), ReportEvent.at >= since, ReportEvent.at <= now)
        .options(selectinload(ReportEvent.report).selectinload(ProgressReport.task))
        .options(selectinload(ReportEvent.report).selectinload(ProgressReport.unit))
    ):
        r = e.report
        p = Period.parse(r.period)
        verb = "退回" if e.action == "return" else "审核通过"
        lines = [f"月份:{p.label}"]
        if e.action == "return":
            lines += [f"退回意见:{e.comment}", "请修改后重新报送。"]
            if plan is not None:
                lines.append(f"报送截止:{cn_date(due_date(plan, p))}")
        out.append(
            Notice(
                f"report.{e.action}:{e.id}",
                f"report.{e.action}",
                r.unit_id,
                f"{r.unit.name} {r.task.short_label} {p.label}进展报告已{verb}",
                lines,
                f"/progress/tasks/{r.task_id}/units/{r.unit_id}/{r.period}",
            )
        )
    return out


def _decision_events(session: Session, since: datetime, now: datetime) -> list[Notice]:
    """A new supervised decision for its lead unit, or its feedback returned."""
    out: list[Notice] = []
    for e in session.scalars(
        select(DecisionEvent)
        .where(DecisionEvent.action.in_(("create", "return")), DecisionEvent.at >= since, DecisionEvent.at <= now)
        .options(selectinload(DecisionEvent.decision).selectinload(Decision.meeting))
        .options(selectinload(DecisionEvent.decision).selectinload(Decision.lead_unit))
    ):
        d = e.decision
        if e.action == "create":
            title = f"新督办事项:{d.label}(牵头 {d.lead_unit.name})"
            lines = [d.text[:200], f"办理期限:{cn_date(d.deadline)}"]
        else:
            title = f"督办事项反馈被退回:{d.label}({d.lead_unit.name})"
            lines = [f"退回意见:{e.body[:200]}", f"办理期限:{cn_date(d.deadline)}"]
        out.append(
            Notice(
                f"decision.{e.action}:{e.id}",
                f"decision.{e.action}",
                d.lead_unit_id,
                title,
                lines,
                f"/meetings/decisions/{d.id}",
            )
        )
    return out


def _cards_issued(session: Session, since: datetime, now: datetime) -> list[Notice]:
    return [
        Notice(
            f"card.issue:{c.id}",
            "card.issue",
            c.unit_id,
            f"{c.unit.name}被亮{c.colour_label}({c.period})",
            [c.reason[:200], f"整改方案截止:{cn_date(c.plan_due)}", f"整改期限:{cn_date(c.deadline)}"],
            f"/cards/{c.id}",
        )
        for c in session.scalars(
            select(Card).where(Card.issued_at >= since, Card.issued_at <= now).options(selectinload(Card.unit))
        )
    ]


def _meetings_scheduled(session: Session, since: datetime, now: datetime) -> list[Notice]:
    """A meeting scheduled: one notice for each unit that attends."""
    out: list[Notice] = []
    for m in session.scalars(
        select(Meeting)
        .where(Meeting.created_at >= since, Meeting.created_at <= now, Meeting.status == MeetingStatus.SCHEDULED)
        .options(selectinload(Meeting.units))
    ):
        for unit in m.units:
            out.append(
                Notice(
                    f"meeting:{m.id}:{unit.id}",
                    "meeting",
                    unit.id,
                    f"会议通知:{m.title}({unit.name}参会)",
                    [f"时间:{cn_date(m.date)}", f"地点:{m.location or '另行通知'}", f"召集:{m.convener}"],
                    f"/meetings/{m.id}",
                )
            )
    return out


# -- deadlines around a day ------------------------------------------------------


def day(session: Session, today: date) -> list[Notice]:
    """The reminders of one China date: due in 3 days, due today, overdue since yesterday; reviewers' queue."""
    return _reports(session, today) + _decisions(session, today) + _cards(session, today) + _reviewer(session, today)


def _reports(session: Session, today: date) -> list[Notice]:
    plan = active_plan(session)
    if plan is None:
        return []
    out = []
    for period, kind, when in _report_moments(plan, today):
        due = due_date(plan, period)
        statuses = {
            (t, u): s
            for t, u, s in session.execute(
                select(ProgressReport.task_id, ProgressReport.unit_id, ProgressReport.status).where(
                    ProgressReport.period == period.code
                )
            )
        }
        owing: dict[int, list] = defaultdict(list)
        units: dict[int, Unit] = {}
        for d in duties(session, plan):
            if statuses.get((d.task.id, d.unit.id)) not in (SUBMITTED, ACCEPTED, RETURNED):
                owing[d.unit.id].append(d.task)
                units[d.unit.id] = d.unit
        for unit_id, tasks in owing.items():
            name = units[unit_id].name
            title = {
                "due3": f"{name}:{period.label}进展报告{LEAD_DAYS}天后截止",
                "due0": f"{name}:{period.label}进展报告今天截止",
                "overdue": f"{name}:{period.label}进展报告已逾期",
            }[kind]
            out.append(
                Notice(
                    f"report.{kind}:{period.code}:{unit_id}",
                    f"report.{kind}",
                    unit_id,
                    title,
                    [f"未报送:{_task_list(tasks)}", f"截止日期:{cn_date(due)}{when}"],
                    "/progress/todo",
                )
            )
    return out


def _report_moments(plan, today: date):
    """(month, kind, note) whose report deadline is 3 days ahead, today, or was yesterday."""
    for delta, kind, note in ((LEAD_DAYS, "due3", ""), (0, "due0", "(今天)"), (-1, "overdue", ",已过期")):
        day_ = today + timedelta(days=delta)
        period = Period.of_date(day_)
        if due_date(plan, period) == day_:
            yield period, kind, note


def _decisions(session: Session, today: date) -> list[Notice]:
    out = []
    soon, late = today + timedelta(days=LEAD_DAYS), today - timedelta(days=1)
    for d in session.scalars(
        select(Decision)
        .where(Decision.status != CLOSED, Decision.deadline.in_((soon, late)))
        .options(selectinload(Decision.meeting), selectinload(Decision.lead_unit))
    ):
        kind = "due3" if d.deadline == soon else "overdue"
        title = (
            f"督办事项{LEAD_DAYS}天后到期:{d.label}({d.lead_unit.name})"
            if kind == "due3"
            else f"督办事项已逾期:{d.label}({d.lead_unit.name})"
        )
        out.append(
            Notice(
                f"decision.{kind}:{d.id}",
                f"decision.{kind}",
                d.lead_unit_id,
                title,
                [d.text[:200], f"办理期限:{cn_date(d.deadline)}"],
                f"/meetings/decisions/{d.id}",
            )
        )
    return out


def _cards(session: Session, today: date) -> list[Notice]:
    out = []
    soon, late = today + timedelta(days=LEAD_DAYS), today - timedelta(days=1)
    has_plan = (
        select(Rectification.id)
        .where(
            Rectification.card_id == Card.id,
            Rectification.kind == "plan",
            Rectification.status != RectificationStatus.RETURNED,
        )
        .exists()
    )
    for c in session.scalars(
        select(Card)
        .where(Card.status == CardStatus.ACTIVE, Card.plan_due.in_((soon, late)), ~has_plan)
        .options(selectinload(Card.unit))
    ):
        kind = "plan_due3" if c.plan_due == soon else "plan_overdue"
        what = f"整改方案{LEAD_DAYS}天后截止" if kind == "plan_due3" else "整改方案逾期未交"
        out.append(
            Notice(
                f"card.{kind}:{c.id}",
                f"card.{kind}",
                c.unit_id,
                f"{c.unit.name}{c.colour_label}({c.period}):{what}",
                [f"整改方案截止:{cn_date(c.plan_due)}", f"整改期限:{cn_date(c.deadline)}"],
                f"/cards/{c.id}",
            )
        )
    return out


@dataclass
class Queue:
    """What waits for a reviewer, and the deadlines of the coming week."""

    reports: list = field(default_factory=list)
    rectifications: list = field(default_factory=list)
    feedback: list = field(default_factory=list)
    recommendations: list = field(default_factory=list)
    deadlines: list[tuple[date, str, str]] = field(default_factory=list)  # (day, what, link)

    @property
    def waiting(self) -> int:
        return len(self.reports) + len(self.rectifications) + len(self.feedback) + len(self.recommendations)

    def summary(self) -> str:
        parts = [
            (len(self.reports), "份进展报告待审核"),
            (len(self.rectifications), "份整改材料待审核"),
            (len(self.feedback), "条督办反馈待审核"),
            (len(self.recommendations), "条红黄牌建议待决定"),
        ]
        return "、".join(f"{n}{label}" for n, label in parts if n)


def reviewer_queue(session: Session, today: date, days: int = 7) -> Queue:
    """Reports submitted and waiting, rectification material and decision feedback waiting, pending card
    recommendations, and the deadlines from today to `days` - 1 days ahead."""
    q = Queue()
    q.reports = list(
        session.scalars(
            select(ProgressReport)
            .where(ProgressReport.status == SUBMITTED)
            .options(selectinload(ProgressReport.task), selectinload(ProgressReport.unit))
            .order_by(ProgressReport.submitted_at, ProgressReport.id)
        )
    )
    q.rectifications = list(
        session.scalars(
            select(Rectification)
            .where(Rectification.status == RectificationStatus.SUBMITTED)
            .options(selectinload(Rectification.card).selectinload(Card.unit))
            .order_by(Rectification.submitted_at)
        )
    )
    q.feedback = list(
        session.scalars(
            select(Decision)
            .where(Decision.status == DecisionStatus.ANSWERED)
            .options(selectinload(Decision.meeting), selectinload(Decision.lead_unit))
            .order_by(Decision.answered_at)
        )
    )
    q.recommendations = list(
        session.scalars(
            select(Recommendation)
            .where(Recommendation.status == RecommendationStatus.PENDING)
            .options(selectinload(Recommendation.unit), selectinload(Recommendation.rule))
            .order_by(Recommendation.period, Recommendation.id)
        )
    )
    end = today + timedelta(days=days - 1)
    plan = active_plan(session)
    if plan is not None:
        for p in {Period.of_date(today), Period.of_date(end)}:
            due = due_date(plan, p)
            if today <= due <= end:
                q.deadlines.append((due, f"{p.label}进展报告截止", "/progress/grid"))
    for d in session.scalars(
        select(Decision)
        .where(Decision.status != CLOSED, Decision.deadline >= today, Decision.deadline <= end)
        .options(selectinload(Decision.meeting), selectinload(Decision.lead_unit))
    ):
        q.deadlines.append((d.deadline, f"督办事项到期:{d.label}({d.lead_unit.name})", f"/meetings/decisions/{d.id}"))
    for c in session.scalars(
        select(Card)
        .where(Card.status == CardStatus.ACTIVE, Card.plan_due >= today, Card.plan_due <= end)
        .options(selectinload(Card.unit))
    ):
        q.deadlines.append((c.plan_due, f"{c.unit.name}{c.colour_label}整改方案截止", f"/cards/{c.id}"))
    q.deadlines.sort(key=lambda x: (x[0], x[1]))
    return q


def _reviewer(session: Session, today: date) -> list[Notice]:
    out = []
    q = reviewer_queue(session, today)
    if q.waiting:
        out.append(Notice(f"review.queue:{today}", "review.queue", None, f"待我处理:{q.summary()}", [], "/"))
    if today.weekday() == 0 and q.deadlines:
        out.append(
            Notice(
                f"review.week:{today}",
                "review.week",
                None,
                f"本周截止事项({len(q.deadlines)}项)",
                [f"{cn_date(d)} {what}" for d, what, _ in q.deadlines],
                "/",
            )
        )
    return out


def count_waiting(session: Session) -> int:
    """How many items wait for a reviewer (the number beside 待我处理)."""
    return sum(
        session.scalar(select(func.count()).select_from(model).where(cond)) or 0
        for model, cond in (
            (ProgressReport, ProgressReport.status == SUBMITTED),
            (Rectification, Rectification.status == RectificationStatus.SUBMITTED),
            (Decision, Decision.status == DecisionStatus.ANSWERED),
            (Recommendation, Recommendation.status == RecommendationStatus.PENDING),
        )
    )
