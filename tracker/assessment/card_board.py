"""Reading the cards for display: the card board (active by colour, then the history) and a unit's active cards."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from .calendar import load as load_calendar
from .lifting import monthly_reports
from .models import Card, CardStatus


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
    cards = list(session.scalars(q.order_by(Card.deadline)))
    active = [c for c in cards if c.status == CardStatus.ACTIVE]
    wc = load_calendar(session)
    monthly = {c.id: monthly_reports(session, c, wc=wc) for c in active if c.colour == "red"}
    return {
        "monthly": monthly,
        "red": [c for c in active if c.colour == "red"],
        "yellow": [c for c in active if c.colour == "yellow"],
        "history": sorted([c for c in cards if c.status != CardStatus.ACTIVE], key=lambda c: c.closed_at, reverse=True),
    }
