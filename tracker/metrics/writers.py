"""Who may write which figure: the owner as an entry, a reviewer as a correction (the policy decides)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from .. import policy
from ..org.models import Unit
from .indicators import active_indicators
from .models import (
    REGISTER_CODES,
    SCOPE_DISTRICT,
    SOURCE_CORRECTION,
    SOURCE_ENTRY,
    Indicator,
)
from .units import towns

# -- who may write what -----------------------------------------------------------


@dataclass(frozen=True)
class EntryTarget:
    """A cell of the entry grid: an indicator for a town (unit_id) or for the district (unit_id None)."""

    indicator: Indicator
    unit_id: int | None


def write_source(actor, target: EntryTarget) -> str | None:
    """How the actor may write this cell: as its owner ('entry'), as a reviewer ('correction'), or not at all
    (an indicator counted from the publicity register is nobody's to type)."""
    if target.indicator.code in REGISTER_CODES:
        return None
    if policy.can(actor, "metrics.enter", target):
        return SOURCE_ENTRY
    if policy.can(actor, "metrics.correct", target):
        return SOURCE_CORRECTION
    return None


def applies(indicator: Indicator, unit_id: int | None) -> bool:
    """Town indicators take town rows, district indicators the district row."""
    return (unit_id is None) == (indicator.scope == SCOPE_DISTRICT)


def can_enter_any(
    session: Session, actor, indicators: list[Indicator] | None = None, town_list: list[Unit] | None = None
) -> bool:
    """Whether the entry grid has anything for this user to write. A caller that has just read the active
    indicators and towns (a summary) passes them, so they are not read again."""
    if town_list is None:
        town_list = towns(session)
    return bool(writable_indicators(session, actor, town_list, indicators))


def writable_indicators(
    session: Session, actor, town_list: list[Unit], indicators: list[Indicator] | None = None
) -> list[Indicator]:
    out = []
    for ind in active_indicators(session) if indicators is None else indicators:
        rows = [None] if ind.scope == SCOPE_DISTRICT else [u.id for u in town_list]
        if any(write_source(actor, EntryTarget(ind, r)) for r in rows):
            out.append(ind)
    return out
