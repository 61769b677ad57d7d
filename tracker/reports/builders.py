"""The data of each report as one plain object, built by services; page and PDF render the same object."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime

from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from .. import clock
from ..assessment import cards as card_service
from ..assessment.models import Card, CardStatus, Recommendation, RecommendationStatus
from ..assessment.results import quarter_results
from ..evidence.models import Attachment, OwnerKind
from ..meetings import service as meetings
from ..metrics import pages as metric_pages
from ..metrics.charts import SERIF_FONT as CHART_FONT
from ..metrics.service import Summary
from ..org.models import Unit
from ..periods import Period
from ..plans.models import Plan, Task
from ..plans.service import active_plan, due_date, duties, in_plan_period, load_tasks
from ..progress.models import ACCEPTED, STATE_LABELS, ProgressReport, Urge
from ..progress.service import report_state
from ..publicity import report as publicity_report
from . import official

ISSUER = official.ISSUER
HIGHLIGHT_CHARS = 80


class _Titled:
    """The title in lines broken at sensible places (the PDF's and the Word file's title)."""

    @property
    def title_lines(self) -> list[str]:
        return official.title_lines(self.title)


@dataclass(frozen=True)
class UnitState:
    unit: str
    role: str
    states: dict[str, int]  # state -> months in that state over the period
    latest: str  # state in the period's last month


@dataclass(frozen=True)
class TaskProgress:
    number: int
    label: str
    leads: list[str]
    members: list[str]
    units: list[UnitState]
    highlights: list[tuple[str, str]]  # (unit, text)


@dataclass(frozen=True)
class OverdueRow:
    unit: str
    task: str
    month: str
    due: date
    state: str
    urges: int


@dataclass(frozen=True)
class UrgeRow:
    at: datetime
    unit: str
    task: str
    month: str
    message: str


@dataclass(frozen=True)
class CardRow:
    id: int
    unit: str
    colour: str
    colour_label: str
    rule: str
    reason: str
    figures: dict
    issued: date
    deadline: date
    plan_due: date
    state: str
    state_label: str
    escalated_from: int | None
    closed: date | None
    close_note: str
    trail: list[str]


@dataclass(frozen=True)
class RecommendationRow:
    unit: str
    colour_label: str
    rule: str
    reason: str
    status: str
    decision: str


@dataclass(frozen=True)
class DecisionRow:
    id: int
    meeting: str
    text: str
    lead: str
    supporting: list[str]
    deadline: date
    status: str
    status_label: str


@dataclass(frozen=True)
class Briefing(_Titled):
    """联席会议通报: cover, then seven sections."""

    district: str
    title: str
    period: Period
    issuer: str
    generated_at: datetime
    meeting_date: date | None
    meeting_title: str | None
    convener: str | None
    attending: list[str]
    summary: Summary
    trend_charts: list[Markup]
    bar_charts: list[Markup]
    tasks: list[TaskProgress]
    overdue: list[OverdueRow]
    urges: list[UrgeRow]
    scores: dict | None  # the assessment snapshot (published or live) of a quarter
    scores_published: bool
    recommendations: list[RecommendationRow]
    active_cards: list[CardRow]
    escalations: list[CardRow]
    lifted_cards: list[CardRow]
    earlier_decisions: list[DecisionRow]
    meeting_decisions: list[DecisionRow] = field(default_factory=list)
    # the meetings held on the last meeting day before this one (titles joined by ”、“, to be quoted): their
    # decisions, and earlier ones still open or closed since, are followed up
    previous_meeting_title: str | None = None
    previous_meeting_date: date | None = None
    # a published quarter: what differs today from the frozen figures, scores and ranks (the note 发布后数据有更新)
    changes: list = field(default_factory=list)
    figures_frozen: bool = True
    head: official.Head | None = None  # 版头, 主送, 落款, 版记
    # 佐证材料 attached to the period's progress reports: (unit, files), in the units' order; units without any left out
    evidence: list[tuple[str, int]] = field(default_factory=list)

    @property
    def evidence_total(self) -> int:
        return sum(n for _unit, n in self.evidence)

    publicity: publicity_report.PublicitySection | None = None  # 宣传教育: the register's figures and coverage


def _card_row(card: Card, today: date) -> CardRow:
    css, label = card_service.card_state(card, today)
    trail = [
        f"{clock.local(r.submitted_at):%Y-%m-%d} {r.kind_label}({r.status_label})"
        f"{':' + r.review_comment if r.review_comment else ''}"
        for r in card.rectifications
    ]
    return CardRow(
        card.id,
        card.unit.name,
        card.colour,
        card.colour_label,
        f"{card.rule.code} {card.rule.name}" if card.rule else "审核员提出",
        card.reason,
        card.figures,
        clock.local(card.issued_at).date(),
        card.deadline,
        card.plan_due,
        css,
        label,
        card.escalated_from_id,
        clock.local(card.closed_at).date() if card.closed_at else None,
        card.close_note,
        trail,
    )


def _decision_row(d, today: date) -> DecisionRow:
    status, label = meetings.decision_state(d, today)
    return DecisionRow(
        d.id, d.meeting.title, d.text, d.lead_unit.name, [u.name for u in d.supporting_units], d.deadline, status, label
    )


def _task_progress(
    session: Session, plan: Plan, period: Period, today: date, urge_counts: Counter | None = None
) -> tuple[list, list]:
    """Each task's units with their states over the period's months, and the overdue reports.

    urge_counts, keyed (task id, unit id, month code), when the caller has read the period's urges already.
    """
    tasks = load_tasks(session, plan)
    plan_duties = duties(session, plan, tasks)
    months = period.months()
    codes = [m.code for m in months]
    # the columns the section shows, as rows: whole reports (texts, times, versions) cost far more to build
    reports = {
        (r.task_id, r.unit_id, r.period): r
        for r in session.execute(
            select(
                ProgressReport.task_id,
                ProgressReport.unit_id,
                ProgressReport.period,
                ProgressReport.status,
                ProgressReport.progress,
            )
            .join(Task)
            .where(Task.plan_id == plan.id, ProgressReport.period.in_(codes))
        )
    }
    if urge_counts is None:
        urge_counts = Counter(
            tuple(u)
            for u in session.execute(select(Urge.task_id, Urge.unit_id, Urge.period).where(Urge.period.in_(codes)))
        )
    units = {d.unit.id: d.unit for d in plan_duties}
    duties_of: dict[int, list] = {t.id: [] for t in tasks}
    for d in plan_duties:
        duties_of[d.task.id].append(d)
    accepted_of: dict[int, list] = {t.id: [] for t in tasks}
    for (tid, _u, _p), r in reports.items():
        if tid in accepted_of and r.status == ACCEPTED and r.progress:
            accepted_of[tid].append(r)
    dues = [(m, due_date(plan, m)) for m in months if m.start <= today and in_plan_period(plan, m)]
    out, overdue = [], []
    for t in tasks:
        rows = []
        for d in duties_of[t.id]:
            states: Counter = Counter()
            latest = ""
            for m, due in dues:
                s = report_state(plan, m, reports.get((t.id, d.unit.id, m.code)), today)
                states[s] += 1
                latest = s
                if s == "overdue":
                    overdue.append(
                        OverdueRow(
                            d.unit.name,
                            t.short_label,
                            m.label,
                            due,
                            STATE_LABELS[s],
                            urge_counts.get((t.id, d.unit.id, m.code), 0),
                        )
                    )
            rows.append(UnitState(d.unit.name, d.role_label, dict(states), latest))
        # a report's unit is one of the plan's units, or (no longer responsible) read once from the session
        accepted = [(r, units.get(r.unit_id) or session.get(Unit, r.unit_id)) for r in accepted_of[t.id]]
        accepted.sort(key=lambda ru: (ru[0].period, ru[1].sort_order), reverse=True)
        highlights = [(u.name, _clip(r.progress)) for r, u in accepted[:3]]
        out.append(
            TaskProgress(
                t.number,
                t.label,
                [u.name for u in t.units_with_role("lead")],
                [d.unit.name for d in duties_of[t.id] if d.role == "member"],
                rows,
                highlights,
            )
        )
    return out, overdue


def _evidence_per_unit(session: Session, plan: Plan, period: Period) -> list[tuple[str, int]]:
    """How many files the units attached to their progress reports of the period's months (the plan's tasks)."""
    rows = session.execute(
        select(Unit.name, func.count(Attachment.id))
        .join(ProgressReport, ProgressReport.id == Attachment.owner_id)
        .join(Task, Task.id == ProgressReport.task_id)
        .join(Unit, Unit.id == ProgressReport.unit_id)
        .where(
            Attachment.owner_kind == OwnerKind.REPORT,
            Task.plan_id == plan.id,
            ProgressReport.period.in_(period.month_codes()),
        )
        .group_by(Unit.id, Unit.name, Unit.kind, Unit.sort_order)
        .order_by(Unit.kind, Unit.sort_order, Unit.id)
    )
    return [(name, n) for name, n in rows]


def _clip(text: str) -> str:
    """One highlight, without its closing punctuation: the list joins them with ";" and ends with "。"."""
    text = " ".join(text.split())
    text = text if len(text) <= HIGHLIGHT_CHARS else text[:HIGHLIGHT_CHARS] + "…"
    return text.rstrip("。.;；,，、 ") or text


def briefing(session: Session, plan: Plan, period: Period, meeting=None, district: str = "") -> Briefing:
    """Everything the joint meeting reads for a period (and a meeting)."""
    today = clock.today()
    # a quarter's figures, scores and ranks come from one place: frozen once published, live before
    results = quarter_results(session, plan, period) if period.kind == "quarter" else None
    if results is not None:
        figures = results.summary
        trend_charts = metric_pages.trend_charts_of(results.trends, figures.core, period.year, "全区", CHART_FONT)
        bar_charts = metric_pages.bar_charts_of(figures, CHART_FONT)
    else:
        overview = metric_pages.overview(session, period, CHART_FONT)
        figures, trend_charts, bar_charts = overview.summary, overview.trends, overview.bars
    # the period's urges, read once: counted per report in the task section, listed in the urge section
    period_urges = list(
        session.scalars(
            select(Urge)
            .where(Urge.period.in_(period.month_codes()))
            .options(selectinload(Urge.unit), selectinload(Urge.task))
            .order_by(Urge.at)
        )
    )
    urge_counts = Counter((u.task_id, u.unit_id, u.period) for u in period_urges)
    tasks, overdue = _task_progress(session, plan, period, today, urge_counts)
    urges = [UrgeRow(u.at, u.unit.name, u.task.short_label, u.period, u.message) for u in period_urges]
    cards_ = list(
        session.scalars(
            select(Card)
            .options(selectinload(Card.unit), selectinload(Card.rule), selectinload(Card.rectifications))
            .order_by(Card.deadline)
        )
    )
    start = datetime.combine(period.start, datetime.min.time(), tzinfo=clock.CHINA_TZ)
    end = clock.end_of_day_utc(max(period.end, today))
    recs = _recommendations(session, period)
    earlier_before = meeting.date if meeting is not None else today
    previous = meetings.previous_meetings(session, earlier_before)
    earlier = [_decision_row(d, today) for d in meetings.follow_up_decisions(session, previous, earlier_before)]
    this_meeting = [_decision_row(d, today) for d in meeting.decisions] if meeting is not None else []
    return Briefing(
        district=district,
        title=meeting.title if meeting is not None else f"{period.label}打击治理电信网络诈骗工作通报",
        period=period,
        issuer=ISSUER,
        generated_at=clock.now(),
        meeting_date=meeting.date if meeting is not None else None,
        meeting_title=meeting.title if meeting is not None else None,
        convener=meeting.convener if meeting is not None else None,
        attending=[u.name for u in meeting.units] if meeting is not None else [],
        summary=figures,
        trend_charts=trend_charts,
        bar_charts=bar_charts[:4],
        tasks=tasks,
        overdue=overdue,
        urges=urges,
        scores=results.snapshot if results is not None else None,
        scores_published=results is not None and results.published,
        recommendations=recs,
        active_cards=[_card_row(c, today) for c in cards_ if c.status == CardStatus.ACTIVE],
        escalations=[
            _card_row(c, today)
            for c in cards_
            if c.status == CardStatus.ESCALATED and c.closed_at and start <= c.closed_at <= end
        ],
        lifted_cards=[
            _card_row(c, today)
            for c in cards_
            if c.status == CardStatus.LIFTED and c.closed_at and start <= c.closed_at <= end
        ],
        earlier_decisions=earlier,
        meeting_decisions=this_meeting,
        previous_meeting_title="”、“".join(m.title for m in previous) or None,
        previous_meeting_date=previous[0].date if previous else None,
        changes=results.changes if results is not None else [],
        figures_frozen=results is None or results.figures_frozen,
        head=official.head(session, district, meeting=meeting),
        evidence=_evidence_per_unit(session, plan, period),
        publicity=publicity_report.section(session, period),
    )


def _recommendations(session: Session, period: Period) -> list[RecommendationRow]:
    """The period's card recommendations and what was decided on each."""
    return [
        RecommendationRow(
            r.unit.name,
            "红牌" if r.colour == "red" else "黄牌",
            f"{r.rule.code} {r.rule.name}",
            r.reason,
            r.status,
            _rec_decision(r),
        )
        for r in session.scalars(
            select(Recommendation)
            .where(Recommendation.period == period.code)
            .options(selectinload(Recommendation.unit), selectinload(Recommendation.rule))
            .order_by(Recommendation.id)
        )
    ]


def _rec_decision(r: Recommendation) -> str:
    if r.status == RecommendationStatus.ISSUED:
        return f"已发牌(#{r.card_id})"
    if r.status == RecommendationStatus.DISMISSED:
        return f"不予发牌:{r.dismiss_reason}"
    return "待决定"


@dataclass(frozen=True)
class CardReport(_Titled):
    """红黄牌考评通报 for a quarter."""

    district: str
    title: str
    period: Period
    issuer: str
    generated_at: datetime
    issued: list[CardRow]
    escalated: list[CardRow]
    lifted: list[CardRow]
    active: list[CardRow]
    recommendations: list[RecommendationRow]
    published: bool | None = None  # None: not a quarter
    changes: list = field(default_factory=list)  # since publication (the note 发布后数据有更新)
    head: official.Head | None = None


def card_report(session: Session, period: Period, district: str = "") -> CardReport:
    """Each card issued, escalated or lifted in the quarter, why, the deadline and the rectification trail."""
    today = clock.today()
    plan = active_plan(session)
    results = quarter_results(session, plan, period) if plan and period.kind == "quarter" else None
    first = datetime.combine(period.start, datetime.min.time(), tzinfo=clock.CHINA_TZ)
    end = clock.end_of_day_utc(period.end)
    cards_ = list(
        session.scalars(
            select(Card)
            .options(selectinload(Card.unit), selectinload(Card.rule), selectinload(Card.rectifications))
            .order_by(Card.issued_at)
        )
    )

    def within(dt) -> bool:
        return dt is not None and first <= dt <= end

    recs = _recommendations(session, period)
    return CardReport(
        district=district,
        title=f"{period.label}红黄牌考评通报",
        period=period,
        issuer=ISSUER,
        generated_at=clock.now(),
        issued=[_card_row(c, today) for c in cards_ if within(c.issued_at) or c.period == period.code],
        escalated=[_card_row(c, today) for c in cards_ if c.status == CardStatus.ESCALATED and within(c.closed_at)],
        lifted=[_card_row(c, today) for c in cards_ if c.status == CardStatus.LIFTED and within(c.closed_at)],
        active=[_card_row(c, today) for c in cards_ if c.status == CardStatus.ACTIVE],
        recommendations=recs,
        published=results.published if results is not None else None,
        changes=results.changes if results is not None else [],
        head=official.head(session, district),
    )


@dataclass(frozen=True)
class Scorecard(_Titled):
    """A unit's scorecard for a quarter: score breakdown, figures, reports, cards, decisions."""

    district: str
    title: str
    unit: str
    unit_kind: str
    period: Period
    issuer: str
    generated_at: datetime
    score: dict | None
    published: bool
    comparisons: dict | None  # code -> Comparison (towns)
    indicators: list
    report_rows: list[UnitState]
    cards: list[CardRow]
    decisions: list[DecisionRow]
    changes: list = field(default_factory=list)  # this unit's, since publication (the note 发布后数据有更新)
    figures_frozen: bool = True
    not_applicable: str = "rescale"  # how the scores treated items with nothing due (frozen with the quarter)
    head: official.Head | None = None
    # the unit's other cards: closed before the quarter or issued after it (`cards`: those to rectify in it)
    earlier_cards: list[CardRow] = field(default_factory=list)
    publicity: object = None  # the unit's publicity activities in the quarter (a publicity Tally)


def scorecard(session: Session, plan: Plan, unit: Unit, period: Period, district: str = "") -> Scorecard:
    today = clock.today()
    # score, rank and 两降两升 figures from one place: frozen once the quarter is published
    results = quarter_results(session, plan, period)
    row = results.row(unit.id)
    mine = next((u for u in results.summary.units if u.unit.id == unit.id), None)
    tasks, _ = _task_progress(session, plan, period, today)
    rows = [UnitState(f"{t.label}", s.role, s.states, s.latest) for t in tasks for s in t.units if s.unit == unit.name]
    cards_ = [
        _card_row(c, today)
        for c in session.scalars(
            select(Card)
            .where(Card.unit_id == unit.id)
            .options(selectinload(Card.unit), selectinload(Card.rule), selectinload(Card.rectifications))
            .order_by(Card.issued_at)
        )
    ]
    # the cards the quarter's rectification item reads (issued by the quarter's end, active or closed since it
    # began), apart from the others, so the score's "本期应整改的红黄牌:无" never stands beside a list of cards
    current = [c for c in cards_ if c.issued <= period.end and (c.closed is None or c.closed >= period.start)]
    earlier = [c for c in cards_ if c not in current]
    decisions = [_decision_row(d, today) for d in meetings.list_decisions(session, None, unit_id=unit.id)]
    return Scorecard(
        district=district,
        title=f"{unit.name}{period.label}考评记分卡",
        unit=unit.name,
        unit_kind=unit.kind_label,
        period=period,
        issuer=ISSUER,
        generated_at=clock.now(),
        score=row,
        published=results.published,
        comparisons=mine.comparisons if mine else None,
        indicators=results.summary.town_indicators if mine else [],
        report_rows=rows,
        cards=current,
        earlier_cards=earlier,
        decisions=decisions,
        changes=[c for c in results.changes if c.who == unit.name],
        figures_frozen=results.figures_frozen,
        not_applicable=results.snapshot.get("not_applicable", "full"),
        head=official.head(session, district, recipients=f"{unit.name}:"),
        publicity=publicity_report.unit_line(session, unit, period),
    )
