"""The rows the reports share: a unit's report states, cards, card recommendations and supervised decisions, each
as a plain frozen object built from the models."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from .. import clock
from ..assessment import cards as card_service
from ..assessment.models import Card, Recommendation, RecommendationStatus
from ..meetings import service as meetings
from . import official

ISSUER = official.ISSUER


class Titled:
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


def cards_query():
    """Every card with its unit, rule and rectifications (each report orders and filters them; selectin loads keep
    the database's order of cards sharing a deadline as it was)."""
    return select(Card).options(selectinload(Card.unit), selectinload(Card.rule), selectinload(Card.rectifications))


def card_row(card: Card, today: date) -> CardRow:
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


def decision_row(d, today: date) -> DecisionRow:
    status, label = meetings.decision_state(d, today)
    return DecisionRow(
        d.id, d.meeting.title, d.text, d.lead_unit.name, [u.name for u in d.supporting_units], d.deadline, status, label
    )


def follow_up_row(f, today: date) -> DecisionRow:
    """`decision_row` of a decision read as a plain row (`meetings.follow_up_rows`)."""
    status, label = meetings.decision_state(f, today)
    return DecisionRow(f.id, f.meeting, f.text, f.lead, f.supporting, f.deadline, status, label)


def recommendations(session: Session, period) -> list[RecommendationRow]:
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
            .options(joinedload(Recommendation.unit, innerjoin=True), joinedload(Recommendation.rule, innerjoin=True))
            .order_by(Recommendation.id)
        )
    ]


def _rec_decision(r: Recommendation) -> str:
    if r.status == RecommendationStatus.ISSUED:
        return f"已发牌(#{r.card_id})"
    if r.status == RecommendationStatus.DISMISSED:
        return f"不予发牌:{r.dismiss_reason}"
    return "待决定"
