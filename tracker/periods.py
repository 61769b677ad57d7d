"""Period arithmetic: months, quarters, years and year-to-date spans, as one small value type."""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import overload

from flask import flash

from .errors import ValidationError

_CN_QUARTER = {1: "第一季度", 2: "第二季度", 3: "第三季度", 4: "第四季度"}
KINDS = ("month", "quarter", "year", "ytd")
_NAMES = {"month": "月份", "quarter": "季度", "year": "年份", "ytd": "年初至今"}
_EXAMPLES = {"month": "2026-10", "quarter": "2026-Q3", "year": "2026", "ytd": "2026-YTD-10"}


@dataclass(frozen=True, order=True)
class Period:
    """A span of whole months inside one year: kind is month, quarter, year or ytd."""

    year: int
    first: int
    last: int
    kind: str

    # constructors -------------------------------------------------------
    @classmethod
    def month(cls, year: int, month: int) -> Period:
        _check(year, month)
        return cls(year, month, month, "month")

    @classmethod
    def quarter(cls, year: int, q: int) -> Period:
        if not 1 <= q <= 4:
            raise ValidationError(f"季度应为1至4,收到 {q}")
        return cls(year, 3 * q - 2, 3 * q, "quarter")

    @classmethod
    def whole_year(cls, year: int) -> Period:
        _check(year, 1)
        return cls(year, 1, 12, "year")

    @classmethod
    def ytd(cls, year: int, month: int) -> Period:
        _check(year, month)
        return cls(year, 1, month, "ytd")

    @classmethod
    def of_date(cls, d: date) -> Period:
        return cls.month(d.year, d.month)

    @classmethod
    def quarter_of(cls, year: int, month: int) -> Period:
        """The quarter month `month` of `year` is in: (2026, 8) -> 2026-Q3."""
        return cls.quarter(year, (month - 1) // 3 + 1)

    @property
    def in_quarter(self) -> Period:
        """The quarter this span's first month is in (a quarter is its own)."""
        return Period.quarter_of(self.year, self.first)

    @classmethod
    def parse(cls, text: str, kinds: Sequence[str] = KINDS) -> Period:
        """Parse 2026-10, 2026-Q3, 2026 or 2026-YTD-10; with `kinds`, a span of another kind is refused too."""
        p = cls._parse(text, kinds)
        if p.kind not in kinds:
            raise ValidationError(f"期间应为{_either(kinds, _NAMES, '')}(如 {_either(kinds, _EXAMPLES)}),收到“{text}”")
        return p

    @classmethod
    def _parse(cls, text: str, kinds: Sequence[str]) -> Period:
        s = (text or "").strip().upper()
        if m := re.fullmatch(r"(\d{4})-(\d{1,2})", s):
            return cls.month(int(m[1]), int(m[2]))
        if m := re.fullmatch(r"(\d{4})-Q([1-4])", s):
            return cls.quarter(int(m[1]), int(m[2]))
        if m := re.fullmatch(r"(\d{4})", s):
            return cls.whole_year(int(m[1]))
        if m := re.fullmatch(r"(\d{4})-YTD-(\d{1,2})", s):
            return cls.ytd(int(m[1]), int(m[2]))
        raise ValidationError(f"无法识别的期间“{text}”,应为 {_either(kinds, _EXAMPLES)}")

    # derived -------------------------------------------------------------
    @property
    def code(self) -> str:
        if self.kind == "month":
            return f"{self.year}-{self.first:02d}"
        if self.kind == "quarter":
            return f"{self.year}-Q{self.last // 3}"
        if self.kind == "year":
            return f"{self.year}"
        return f"{self.year}-YTD-{self.last:02d}"

    @property
    def label(self) -> str:
        if self.kind == "month":
            return f"{self.year}年{self.first}月"
        if self.kind == "quarter":
            return f"{self.year}年{_CN_QUARTER[self.last // 3]}"
        if self.kind == "year":
            return f"{self.year}年"
        return f"{self.year}年1—{self.last}月"

    def months(self) -> list[Period]:
        return [Period.month(self.year, m) for m in range(self.first, self.last + 1)]

    def month_codes(self) -> list[str]:
        return [p.code for p in self.months()]

    @property
    def start(self) -> date:
        return date(self.year, self.first, 1)

    @property
    def end(self) -> date:
        return date(self.year, self.last, calendar.monthrange(self.year, self.last)[1])

    def same_last_year(self) -> Period:
        return Period(self.year - 1, self.first, self.last, self.kind)

    def previous(self) -> Period:
        """The span of equal length just before this one (a month's previous month, a quarter's previous quarter)."""
        n = self.last - self.first + 1
        first = self.first - n
        if first >= 1:
            return Period(self.year, first, first + n - 1, self.kind)
        if self.kind in ("year", "ytd"):
            return Period(self.year - 1, self.first, self.last, self.kind)
        return Period(self.year - 1, first + 12, first + 12 + n - 1, self.kind)

    def next(self) -> Period:
        """The span of equal length just after this one (a month's next month, a quarter's next quarter, a year's
        next year; a year-to-date span: the same months of the next year)."""
        if self.kind in ("year", "ytd"):
            return Period(self.year + 1, self.first, self.last, self.kind)
        n = self.last - self.first + 1
        first = self.first + n
        if first <= 12:
            return Period(self.year, first, first + n - 1, self.kind)
        return Period(self.year + 1, first - 12, first - 12 + n - 1, self.kind)

    def contains(self, other: Period) -> bool:
        return self.year == other.year and self.first <= other.first and other.last <= self.last

    def __str__(self) -> str:
        return self.code


def _either(kinds: Sequence[str], words: dict[str, str], space: str = " ") -> str:
    """The kinds' words as a choice: 2026-10、2026-Q3 或 2026; 月份、季度或年份."""
    shown = [words[k] for k in KINDS if k in kinds]
    return shown[0] if len(shown) == 1 else f"{'、'.join(shown[:-1])}{space}或{space}{shown[-1]}"


# the years a period may name (the plan's year, the holiday calendar, document numbers take the same range)
MIN_YEAR, MAX_YEAR = 2000, 2100


def _check(year: int, month: int) -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ValidationError(f"年份超出范围:{year}")
    if not 1 <= month <= 12:
        raise ValidationError(f"月份应为1至12,收到 {month}")


def month_range(start: Period, end: Period) -> list[Period]:
    """Every month from start to end inclusive."""
    out, p = [], Period.month(start.year, start.first)
    stop = Period.month(end.year, end.last)
    while (p.year, p.first) <= (stop.year, stop.first):
        out.append(p)
        p = p.next()
    return out


@overload
def period_arg(
    text: str | None,
    default: Callable[[], Period],
    on_invalid: Callable[[str], Period] | None = None,
    *,
    kinds: Sequence[str] = KINDS,
) -> Period: ...
@overload
def period_arg(
    text: str | None,
    default: None = None,
    on_invalid: Callable[[str], Period | None] | None = None,
    *,
    kinds: Sequence[str] = KINDS,
) -> Period | None: ...
def period_arg(text, default=None, on_invalid=None, *, kinds=KINDS):
    """The period a request names: a query-string value (request.args.get("period")), a path segment or a form
    field. When it names none (missing or blank): `default()`, or None without a default. When it does not parse or
    is not of `kinds`, the reason is flashed and the default used instead, unless `on_invalid(reason)` is given
    (e.g. to refuse with 400, or 404 for a path segment); so one bad value gets one answer on every page."""
    if not text or not text.strip():
        return default() if default else None
    try:
        return Period.parse(text, kinds)
    except ValidationError as e:
        if on_invalid is not None:
            return on_invalid(str(e))
        flash(str(e), "error")
        return default() if default else None
