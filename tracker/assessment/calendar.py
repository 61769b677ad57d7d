"""Working-day arithmetic on the district's holiday calendar (weekends off unless marked 调休)."""

from __future__ import annotations

import calendar as cal
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import Holiday, HolidayYear


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
    y, m = divmod(start.month - 1 + months, 12)
    year, month = start.year + y, m + 1
    return date(year, month, min(start.day, cal.monthrange(year, month)[1]))


@dataclass(frozen=True)
class WorkCalendar:
    """The calendar as loaded once: the exceptions, and the years whose official schedule is entered."""

    exceptions: dict[date, bool]
    years: frozenset[int] = field(default_factory=frozenset)

    def is_workday(self, day: date) -> bool:
        return is_workday(day, self.exceptions)

    def add_working_days(self, start: date, n: int) -> date:
        return add_working_days(start, n, self.exceptions)

    def on_or_after(self, day: date) -> date:
        """The first working day on or after `day`."""
        while not self.is_workday(day):
            day += timedelta(days=1)
        return day

    def last_workday(self, year: int, month: int) -> date:
        """The month's last working day."""
        day = date(year, month, cal.monthrange(year, month)[1])
        while not self.is_workday(day):
            day -= timedelta(days=1)
        return day

    def missing_years(self, *days: date | None) -> list[int]:
        """Years of the given days whose holiday schedule is not entered (only weekends were skipped there)."""
        return sorted({d.year for d in days if d is not None and d.year not in self.years})


def load(session: Session) -> WorkCalendar:
    """The calendar and the years whose schedule is entered, read once."""
    return WorkCalendar(calendar(session), frozenset(session.scalars(select(HolidayYear.year))))
