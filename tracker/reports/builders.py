"""The data of each report as one plain object, built by services; page and PDF render the same object.

The briefing is built in `briefing.py` (its progress section in `task_progress.py`), the rows every report shares in
`rows.py`; the card report and a unit's scorecard here."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from .. import clock
from ..assessment.models import Card, CardStatus
from ..assessment.results import quarter_results
from ..meetings import service as meetings
from ..org.models import Unit
from ..periods import Period
from ..plans.models import Plan
from ..plans.service import active_plan
from ..publicity import report as publicity_report
from . import official
from .briefing import Briefing, briefing
from .rows import (
    ISSUER,
    CardRow,
    DecisionRow,
    RecommendationRow,
    Titled,
    UnitState,
    card_row,
    cards_query,
    decision_row,
    recommendations,
)
from .task_progress import task_progress

__all__ = ["Briefing", "CardReport", "Scorecard", "briefing", "card_report", "scorecard"]


@dataclass(frozen=True)
class CardReport(Titled):
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
    cards_ = list(session.scalars(cards_query().order_by(Card.issued_at)))

    def within(dt) -> bool:
        return dt is not None and first <= dt <= end

    recs = recommendations(session, period)
    return CardReport(
        district=district,
        title=f"{period.label}红黄牌考评通报",
        period=period,
        issuer=ISSUER,
        generated_at=clock.now(),
        issued=[card_row(c, today) for c in cards_ if within(c.issued_at) or c.period == period.code],
        escalated=[card_row(c, today) for c in cards_ if c.status == CardStatus.ESCALATED and within(c.closed_at)],
        lifted=[card_row(c, today) for c in cards_ if c.status == CardStatus.LIFTED and within(c.closed_at)],
        active=[card_row(c, today) for c in cards_ if c.status == CardStatus.ACTIVE],
        recommendations=recs,
        published=results.published if results is not None else None,
        changes=results.changes if results is not None else [],
        head=official.head(session, district),
    )


@dataclass(frozen=True)
class Scorecard(Titled):
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
    tasks, _ = task_progress(session, plan, period, today)
    rows = [UnitState(f"{t.label}", s.role, s.states, s.latest) for t in tasks for s in t.units if s.unit == unit.name]
    cards_ = [
        card_row(c, today)
        for c in session.scalars(cards_query().where(Card.unit_id == unit.id).order_by(Card.issued_at))
    ]
    # the cards the quarter's rectification item reads (issued by the quarter's end, active or closed since it
    # began), apart from the others, so the score's "本期应整改的红黄牌:无" never stands beside a list of cards
    current = [c for c in cards_ if c.issued <= period.end and (c.closed is None or c.closed >= period.start)]
    earlier = [c for c in cards_ if c not in current]
    decisions = [decision_row(d, today) for d in meetings.list_decisions(session, None, unit_id=unit.id)]
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
