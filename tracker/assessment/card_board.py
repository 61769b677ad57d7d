"""Reading the cards for display: the card board (active by colour, then the history) and a unit's active cards."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, selectinload

from ..db import plain_rows
from ..org.models import Unit
from .calendar import load as load_calendar
from .lifting import monthly_reports
from .models import Card, CardRule, CardStatus, Recommendation, RecommendationStatus, Rectification


def active_cards(session: Session, unit_id: int) -> list[Card]:
    """The unit's active cards, red before yellow, earliest deadline first (its to-do page), as `board` lists them."""
    cards = session.scalars(
        select(Card)
        .where(Card.unit_id == unit_id, Card.status == CardStatus.ACTIVE)
        .options(selectinload(Card.rectifications))
        .order_by(Card.deadline)
    )
    return sorted(cards, key=lambda c: c.colour != "red")


def board(session: Session, unit_id: int | None = None) -> dict:
    """Active cards by colour and deadline, and the history."""
    q = select(Card).options(selectinload(Card.rule), selectinload(Card.rectifications))
    if unit_id:
        q = q.where(Card.unit_id == unit_id)  # one unit: the caller has it already
    else:
        q = q.options(selectinload(Card.unit))
    return _grouped(session, list(session.scalars(q.order_by(Card.deadline))))


@dataclass(slots=True)
class BoardCard:
    """A card as the board page lists it, read as a plain row with its unit's and its rule's names (None: a
    reviewer's own card): what `cards.card_state` and `lifting.monthly_reports` read of a card, its rectifications
    as rows of (card_id, kind, status, submitted_at) in the order of their ids."""

    id: int
    unit_id: int
    colour: str
    status: str
    issued_at: datetime
    plan_due: date
    deadline: date
    closed_at: datetime | None
    unit_name: str
    rule_name: str | None
    rectifications: list = field(default_factory=list)


def board_rows(session: Session, unit_id: int | None = None) -> dict:
    """The board as `board` groups it, each card a `BoardCard`: two statements of plain rows instead of the cards
    with their units, rules and rectifications as entities (the page shows a few columns of each)."""
    params = {"unit_id": unit_id} if unit_id else {}
    cards = [BoardCard(*row) for row in plain_rows(session, _board_cards_query(bool(unit_id)), params)]
    by_id = {c.id: c for c in cards}
    for rect in plain_rows(session, _board_rectifications_query(bool(unit_id)), params):
        by_id[rect.card_id].rectifications.append(rect)
    return _grouped(session, cards)


@cache
def _board_cards_query(of_unit: bool):
    """The board's cards, built once. The names are read by subqueries so that the statement reads the cards
    table alone, sorted as `board` sorts it: cards of the same deadline come in the same order."""
    unit_name = select(Unit.name).where(Unit.id == Card.unit_id).scalar_subquery()
    rule_name = select(CardRule.name).where(CardRule.id == Card.rule_id).scalar_subquery()
    q = select(
        Card.id,
        Card.unit_id,
        Card.colour,
        Card.status,
        Card.issued_at,
        Card.plan_due,
        Card.deadline,
        Card.closed_at,
        unit_name,
        rule_name,
    )
    if of_unit:
        q = q.where(Card.unit_id == bindparam("unit_id"))
    return q.order_by(Card.deadline)


@cache
def _board_rectifications_query(of_unit: bool):
    """The rectifications of the board's cards, built once, in the order of their ids (each card's in the order
    of its relationship)."""
    q = select(Rectification.card_id, Rectification.kind, Rectification.status, Rectification.submitted_at)
    if of_unit:
        q = q.join(Card, Card.id == Rectification.card_id).where(Card.unit_id == bindparam("unit_id"))
    return q.order_by(Rectification.id)


def _grouped(session: Session, cards: list) -> dict:
    """The cards (in deadline order) grouped for the board: the active red and yellow ones, the history by closing
    time, latest first, and the monthly reports of each active red card (the calendar read only when there is one)."""
    active = [c for c in cards if c.status == CardStatus.ACTIVE]
    red = [c for c in active if c.colour == "red"]
    wc = load_calendar(session) if red else None
    return {
        "monthly": {c.id: monthly_reports(session, c, wc=wc) for c in red},
        "red": red,
        "yellow": [c for c in active if c.colour == "yellow"],
        "history": sorted([c for c in cards if c.status != CardStatus.ACTIVE], key=lambda c: c.closed_at, reverse=True),
    }


def pending_rows(session: Session) -> list:
    """The pending recommendations as `cards.pending` lists them, each a plain row with its unit's name and its
    rule's code and name: what the board shows of them and what `in_progress_rows` matches."""
    return plain_rows(session, _pending_query())


@cache
def _pending_query():
    """The pending recommendations, built once; the names read by subqueries, so that recommendations of the same
    colour and unit come in the order `cards.pending` gives them."""
    unit_name = select(Unit.name).where(Unit.id == Recommendation.unit_id).scalar_subquery()
    rule = select(CardRule).where(CardRule.id == Recommendation.rule_id)
    return (
        select(
            Recommendation.id,
            Recommendation.period,
            Recommendation.unit_id,
            Recommendation.rule_id,
            Recommendation.colour,
            Recommendation.reason,
            Recommendation.figures,
            Recommendation.version,
            unit_name.label("unit_name"),
            rule.with_only_columns(CardRule.code).scalar_subquery().label("rule_code"),
            rule.with_only_columns(CardRule.name).scalar_subquery().label("rule_name"),
        )
        .where(Recommendation.status == RecommendationStatus.PENDING)
        .order_by(Recommendation.colour.desc(), Recommendation.unit_id)
    )


def in_progress_rows(session: Session, recs: list) -> dict:
    """Recommendation id -> the active card (a row of its id) it would duplicate, as `cards.in_progress` finds it
    for entities: an active card of the same unit and rule on the same figures, the first by id."""
    if not recs:
        return {}
    params = {"units": sorted({r.unit_id for r in recs}), "rules": sorted({r.rule_id for r in recs})}
    active: dict[tuple[int, int], list] = {}
    for card in plain_rows(session, _active_of_query(), params):
        active.setdefault((card.unit_id, card.rule_id), []).append(card)
    found = {}
    for rec in recs:
        figures = rec.figures or {}
        card = next((c for c in active.get((rec.unit_id, rec.rule_id), ()) if (c.figures or {}) == figures), None)
        if card is not None:
            found[rec.id] = card
    return found


@cache
def _active_of_query():
    """The active cards of some units (`units`) and rules (`rules`), built once, by id."""
    return (
        select(Card.id, Card.unit_id, Card.rule_id, Card.figures)
        .where(
            Card.unit_id.in_(bindparam("units", expanding=True)),
            Card.rule_id.in_(bindparam("rules", expanding=True)),
            Card.status == CardStatus.ACTIVE,
        )
        .order_by(Card.id)
    )
