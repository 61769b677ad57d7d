"""The one place the current time comes from, so tests and CLI can fix it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

CHINA_TZ = timezone(timedelta(hours=8), "CST")

_fixed: datetime | None = None


def now() -> datetime:
    """Current aware UTC time (or the fixed time set by `freeze`)."""
    return _fixed if _fixed is not None else datetime.now(UTC)


def today() -> date:
    """Today's date in China Standard Time."""
    return now().astimezone(CHINA_TZ).date()


def freeze(at: datetime | None) -> None:
    """Fix the clock at `at` (aware), or release it with None."""
    global _fixed
    if at is not None and at.tzinfo is None:
        raise ValueError("aware datetime required")
    _fixed = at


def local(dt: datetime) -> datetime:
    return dt.astimezone(CHINA_TZ)


def end_of_day_utc(d: date) -> datetime:
    """The last instant of day `d` in China, as UTC."""
    return datetime(d.year, d.month, d.day, 23, 59, 59, 999999, tzinfo=CHINA_TZ).astimezone(UTC)
