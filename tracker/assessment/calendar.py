"""Working-day arithmetic on the district's holiday calendar (weekends off unless marked 调休)."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import Holiday


def calendar(session: Session) -> dict[date, bool]:
    """Exceptions to the weekday rule: day -> is it a working day."""
    return {h.day: h.is_workday for h in session.scalars(select(Holiday))}


def is_workday(day: date, exceptions: dict[date, bool]) -> bool:
    if day in exceptions:
        return exceptions[day]
    return day.weekday() < 5


def add_working_days(start: date, n: int, exceptions: dict[date, bool]) -> date:
    """The n-th working day after `start` (start itself does not count)."""
    day, left = start, n
    while left > 0:
        day += timedelta(days=1)
        if is_workday(day, exceptions):
            left -= 1
    return day


def add_months(start: date, months: int) -> date:
    """Same day `months` later, clipped to the month's end."""
    import calendar as cal

    y, m = divmod(start.month - 1 + months, 12)
    year, month = start.year + y, m + 1
    return date(year, month, min(start.day, cal.monthrange(year, month)[1]))
