"""The joint meeting's briefing (联席会议通报) as one plain object: the quarter's figures and charts, the tasks'
progress, overdue reports and urges, scores and card recommendations, cards, decisions followed up, evidence and
the publicity section."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache

from markupsafe import Markup
from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import Session, joinedload

from .. import clock
from ..assessment.models import Card, CardStatus
from ..assessment.results import quarter_results
from ..meetings import service as meetings
from ..metrics import pages as metric_pages
from ..metrics.charts import SERIF_FONT as CHART_FONT
from ..metrics.service import Summary
from ..periods import Period
from ..plans.models import Plan
from ..progress.models import Urge
from ..publicity import report as publicity_report
from . import official
from .rows import (
    ISSUER,
    CardRow,
    DecisionRow,
    OverdueRow,
    RecommendationRow,
    TaskProgress,
    Titled,
    UrgeRow,
    card_row,
    decision_row,
    follow_up_row,
    recommendations,
)
from .task_progress import evidence_per_unit, plan_tasks, task_progress


@dataclass(frozen=True)
class Briefing(Titled):
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


@dataclass(frozen=True)
class _Figures:
    """A period's 两降两升 figures and charts, and for a quarter its results (scores, publication, changes)."""

    results: object  # assessment.results.QuarterResults, or None for a month or a year
    summary: Summary
    trend_charts: list[Markup]
    bar_charts: list[Markup]


def _figures(session: Session, plan: Plan, period: Period, plan_duties: list) -> _Figures:
    """A quarter's figures, scores and ranks come from one place: frozen once published, live before (plan_duties:
    the plan's duties, which live scores count)."""
    results = quarter_results(session, plan, period, plan_duties=plan_duties) if period.kind == "quarter" else None
    if results is None:
        overview = metric_pages.overview(session, period, CHART_FONT)
        return _Figures(None, overview.summary, overview.trends, overview.bars)
    figures = results.summary
    return _Figures(
        results,
        figures,
        metric_pages.trend_charts_of(results.trends, figures.core, period.year, "全区", CHART_FONT),
        metric_pages.bar_charts_of(figures, CHART_FONT),
    )


def _period_urges(session: Session, period: Period) -> list[Urge]:
    """The period's urges, read once: counted per report in the task section, listed in the urge section."""
    return list(session.scalars(_urges_query(), {"months": period.month_codes()}))


# the briefing's own statements, each built once (built anew, SQLAlchemy would work out their cache keys again on
# every request): the urges of a span's months, the cards it may show by deadline
@cache
def _urges_query():
    return (
        select(Urge)
        .where(Urge.period.in_(bindparam("months", expanding=True)))
        .options(joinedload(Urge.unit, innerjoin=True), joinedload(Urge.task, innerjoin=True))
        .order_by(Urge.at, Urge.id)  # urges made in the same instant: in the order they were made
    )


@cache
def _cards_by_deadline():
    """The active cards and those closed since `since`, by deadline, each with its unit, rule and rectifications
    (`cards_query`' loads) joined in the one statement: a few cards, where every card with three more statements
    built for their loads cost far more."""
    return (
        select(Card)
        .where(or_(Card.status == CardStatus.ACTIVE, Card.closed_at >= bindparam("since", type_=Card.closed_at.type)))
        .options(joinedload(Card.unit, innerjoin=True), joinedload(Card.rule), joinedload(Card.rectifications))
        .order_by(Card.deadline, Card.id)
    )


def _shown_cards(session: Session, period: Period) -> list[Card]:
    """The cards the briefing may show: active, or closed from a day before the period's first day on (a margin;
    `_closed_within` picks those closed within the period)."""
    since = datetime.combine(period.start - timedelta(days=1), datetime.min.time(), tzinfo=clock.CHINA_TZ)
    return list(session.scalars(_cards_by_deadline(), {"since": since}).unique())


def _closed_within(cards: list, status: CardStatus, period: Period, today: date) -> list[CardRow]:
    """The cards escalated or lifted from the period's first day to its last (or today, when later)."""
    start = datetime.combine(period.start, datetime.min.time(), tzinfo=clock.CHINA_TZ)
    end = clock.end_of_day_utc(max(period.end, today))
    return [card_row(c, today) for c in cards if c.status == status and c.closed_at and start <= c.closed_at <= end]


def briefing(session: Session, plan: Plan, period: Period, meeting=None, district: str = "") -> Briefing:
    """Everything the joint meeting reads for a period (and a meeting)."""
    today = clock.today()
    # the plan's tasks and duties, read once for the progress section and for the quarter's live scores
    tasks_and_duties = plan_tasks(session, plan)
    figures = _figures(session, plan, period, tasks_and_duties[1])
    results = figures.results
    period_urges = _period_urges(session, period)
    urge_counts = Counter((u.task_id, u.unit_id, u.period) for u in period_urges)
    tasks, overdue = task_progress(session, plan, period, today, urge_counts, tasks_and_duties)
    cards_ = _shown_cards(session, period)
    recs = recommendations(session, period)
    earlier_before = meeting.date if meeting is not None else today
    previous = meetings.previous_meetings(session, earlier_before)
    earlier = [follow_up_row(d, today) for d in meetings.follow_up_rows(session, previous, earlier_before)]
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
        summary=figures.summary,
        trend_charts=figures.trend_charts,
        bar_charts=figures.bar_charts[:4],
        tasks=tasks,
        overdue=overdue,
        urges=[UrgeRow(u.at, u.unit.name, u.task.short_label, u.period, u.message) for u in period_urges],
        scores=results.snapshot if results is not None else None,
        scores_published=results is not None and results.published,
        recommendations=recs,
        active_cards=[card_row(c, today) for c in cards_ if c.status == CardStatus.ACTIVE],
        escalations=_closed_within(cards_, CardStatus.ESCALATED, period, today),
        lifted_cards=_closed_within(cards_, CardStatus.LIFTED, period, today),
        earlier_decisions=earlier,
        meeting_decisions=[decision_row(d, today) for d in meeting.decisions] if meeting is not None else [],
        previous_meeting_title="”、“".join(m.title for m in previous) or None,
        previous_meeting_date=previous[0].date if previous else None,
        changes=results.changes if results is not None else [],
        figures_frozen=results is None or results.figures_frozen,
        head=official.head(session, district, meeting=meeting),
        evidence=evidence_per_unit(session, plan, period),
        publicity=publicity_report.section(session, period),
    )
