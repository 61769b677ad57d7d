"""The units figures belong to: the towns and streets, and the names a spreadsheet may use for the district."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..org.models import KIND_DEPARTMENT, KIND_TOWNSHIP, Unit

DISTRICT_LABEL = "全区"


DISTRICT_NAMES = ("全区", "合计", "全区合计", "区级")


def towns(session: Session, include_inactive: bool = False) -> list[Unit]:
    """Towns and streets in display order."""
    q = select(Unit).where(Unit.kind == KIND_TOWNSHIP)
    if not include_inactive:
        q = q.where(Unit.is_active.is_(True))
    return list(session.scalars(q.order_by(Unit.sort_order, Unit.id)))


def departments(session: Session) -> list[Unit]:
    """Departments that may own an indicator."""
    return list(
        session.scalars(
            select(Unit)
            .where(Unit.kind == KIND_DEPARTMENT, Unit.is_active.is_(True))
            .order_by(Unit.sort_order, Unit.id)
        )
    )


def resolve_units(session: Session) -> dict[str, Unit | None]:
    """Every name a spreadsheet may use for a town/street (names and other names), and the district's names."""
    names: dict[str, Unit | None] = {n: None for n in DISTRICT_NAMES}
    for u in towns(session, include_inactive=True):
        for n in [u.name, *u.alias_list()]:
            names.setdefault(n, u)
    return names
