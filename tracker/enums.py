"""Stored states as StrEnums, and the CHECK constraint that lists an enum's values."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import CheckConstraint


def one_of(column: str, values: type[StrEnum], name: str | None = None) -> CheckConstraint:
    """CHECK (column IN ('a', 'b', ...)) over the enum's values, in their declared order."""
    listed = ", ".join(f"'{v.value}'" for v in values)
    return CheckConstraint(f"{column} IN ({listed})", name=name or column)
