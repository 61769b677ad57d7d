"""The holiday calendar as the administrator keeps it: a year's schedule read from the State Council's notice (or
one date a line), single days added or removed, and which deadlines fall in a year not entered yet."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from .. import clock, policy
from ..audit.service import record
from ..errors import NotFound, ValidationError
from .calendar import WorkCalendar
from .calendar import load as load_calendar
from .models import Card, CardColour, CardStatus, Holiday, HolidayYear

MAX_TEXT = 5000
_NORMALISE = str.maketrans({"(": "(", ")": ")", ":": ":", ",": ",", ";": ";", " ": " "})
_LINE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*(.*)$")
_HEAD = re.compile(r"^(?:[一二三四五六七八九十]+、)?\s*([^:\d]{1,12}):(.*)$")
_RANGE = re.compile(r"(?:(\d{1,2})月)?(\d{1,2})日至(?:(\d{1,2})月)?(\d{1,2})日")
_DAY = re.compile(r"(?:(\d{1,2})月)?(\d{1,2})日")


@dataclass(frozen=True)
class ParsedDay:
    day: date
    is_workday: bool
    name: str


def _date(year: int, month: int, day: int, line_no: int) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise ValidationError(f"第{line_no}行:{year}年{month}月{day}日不是有效日期") from None


def _notice_clause(year: int, name: str, clause: str, line_no: int) -> list[ParsedDay]:
    """One clause of a notice line: "1月1日至3日放假调休" or "2月14日、2月28日上班"."""
    if not _DAY.search(clause):
        return []
    if "上班" in clause:
        workday = True
    elif any(w in clause for w in ("放假", "补休", "休息")):
        workday = False
    else:
        raise ValidationError(f"第{line_no}行“{clause}”:看不出是放假还是上班")
    days: list[date] = []
    month = None
    rest = clause
    for m in _RANGE.finditer(clause):
        m1 = int(m.group(1) or month or 0)
        m2 = int(m.group(3) or m1)
        if not m1:
            raise ValidationError(f"第{line_no}行“{clause}”:缺少月份")
        # a New Year range announced with the next year's notice may start in December of the year before
        first = _date(year - 1 if m1 > m2 else year, m1, int(m.group(2)), line_no)
        last = _date(year, m2, int(m.group(4)), line_no)
        if last < first or (last - first).days > 15:
            raise ValidationError(f"第{line_no}行“{m.group(0)}”:起止日期不合理")
        days += [first + timedelta(days=i) for i in range((last - first).days + 1)]
        month = m2
        rest = rest.replace(m.group(0), "", 1)
    for m in _DAY.finditer(rest):
        month = int(m.group(1) or month or 0)
        if not month:
            raise ValidationError(f"第{line_no}行“{clause}”:缺少月份")
        days.append(_date(year, month, int(m.group(2)), line_no))
    label = (f"{name}调休" if name else "调休上班") if workday else (name or "放假")
    return [ParsedDay(d, workday, label) for d in days]


def parse_schedule(year: int, text: str) -> list[ParsedDay]:
    """Read a year's schedule from pasted text; each line is one of:

    - a line of the notice: "一、元旦:1月1日(周四)至3日(周六)放假调休,共3天。1月4日(周日)上班。" — every date
      named with 放假/补休 is a day off (a range counts every day), with 上班 a working day; the name before the
      colon names the holiday;
    - one date a line: "2027-01-01 休 元旦" or "2027-02-20 班 春节调休" (休 when neither is written).

    Lines without a date (the notice's heading and closing) and a bare date of another year (the date the notice
    was signed) are skipped. Days off on a weekend are dropped (a
    weekend is off anyway); a working day must be a weekend day.
    """
    text = (text or "").translate(_NORMALISE)
    if not text.strip():
        raise ValidationError("请粘贴节假日安排")
    if len(text) > MAX_TEXT:
        raise ValidationError(f"节假日安排不能超过{MAX_TEXT}字")
    found: list[ParsedDay] = []
    for no, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        m = _LINE.match(line)
        if m:
            d = _date(int(m.group(1)), int(m.group(2)), int(m.group(3)), no)
            rest = m.group(4).strip()
            if not rest and d.year != year:
                continue  # the notice's date of signing ("2025年11月4日")
            workday = bool(re.match(r"^(上班|班|工作日)", rest))
            name = re.sub(r"^(上班|班|工作日|放假|休息|休)\s*", "", rest)[:32]
            found.append(ParsedDay(d, workday, name or ("调休上班" if workday else "放假")))
            continue
        line = re.sub(r"\([^)]*\)", "", line)
        head = _HEAD.match(line)
        name, body = (head.group(1).strip(), head.group(2)) if head else ("", line)
        for clause in re.split(r"[。;,]", body):
            found += _notice_clause(year, name[:28], clause.strip(), no)
    return _check(year, found)


def _check(year: int, found: list[ParsedDay]) -> list[ParsedDay]:
    by_day: dict[date, ParsedDay] = {}
    for p in found:
        if p.day.year not in (year, year - 1) or (p.day.year == year - 1 and p.day.month != 12):
            raise ValidationError(f"{p.day:%Y-%m-%d}不在{year}年")
        other = by_day.get(p.day)
        if other is not None and other.is_workday != p.is_workday:
            raise ValidationError(f"{p.day:%Y-%m-%d}既写了放假又写了上班")
        if p.is_workday and p.day.weekday() < 5:
            raise ValidationError(f"{p.day:%Y-%m-%d}本是工作日,无需标注上班(只有周末调休上班才需录入)")
        if not p.is_workday and p.day.weekday() >= 5:
            continue  # a weekend is off anyway
        by_day[p.day] = p
    if not by_day:
        raise ValidationError("没有识别出任何放假或调休上班的日期,请检查格式")
    return sorted(by_day.values(), key=lambda p: p.day)


def _year(year) -> int:
    try:
        y = int(year)
    except (TypeError, ValueError):
        raise ValidationError("年份须为整数") from None
    if not 2000 <= y <= 2100:
        raise ValidationError("年份须在2000至2100之间")
    return y


def _days_of(session: Session, year: int) -> list[Holiday]:
    return list(
        session.scalars(
            select(Holiday)
            .where(Holiday.day >= date(year, 1, 1), Holiday.day <= date(year, 12, 31))
            .order_by(Holiday.day)
        )
    )


def _plain(days) -> list[list]:
    return [[str(h.day), h.is_workday, h.name] for h in days]


@dataclass(frozen=True)
class ImportResult:
    year: int
    days: list[Holiday]
    cards: list[Card]  # active cards with a date in the year, set before it was entered


def import_year(session: Session, actor, year, text: str, source: str = "") -> ImportResult:
    """Replace a year's days with the schedule read from the text, and mark the year entered."""
    policy.require(actor, "calendar.manage")
    year = _year(year)
    parsed = parse_schedule(year, text)
    before = _days_of(session, year)
    snapshot = _plain(before)
    for h in before:
        session.delete(h)
    session.flush()
    for p in parsed:
        h = session.get(Holiday, p.day)
        if h is None:
            session.add(Holiday(day=p.day, is_workday=p.is_workday, name=p.name))
        else:  # a December day of the year before, named by this year's notice
            h.is_workday, h.name = p.is_workday, p.name
    entry = session.get(HolidayYear, year) or HolidayYear(year=year)
    entry.source = (source or "").strip()[:500] or f"{year}年节假日安排(粘贴导入)"
    entry.updated_at, entry.updated_by_id = clock.now(), actor.id
    session.add(entry)
    session.flush()
    days = _days_of(session, year)
    affected = cards_in_year(session, year)
    record(
        session,
        actor,
        "holiday.import",
        object_type="HolidayYear",
        object_id=year,
        before={"days": snapshot},
        after={"days": _plain(days), "source": entry.source, "cards": [c.id for c in affected]},
        summary=f"录入{year}年节假日安排:放假{sum(not d.is_workday for d in days)}天、调休上班"
        f"{sum(d.is_workday for d in days)}天",
    )
    return ImportResult(year, days, affected)


def add_day(session: Session, actor, day: date, is_workday: bool, name: str) -> Holiday:
    """Add one day off (on a weekday) or one working weekend day; a day already there is refused."""
    policy.require(actor, "calendar.manage")
    if day is None:
        raise ValidationError("请填写日期")
    _year(day.year)
    if session.get(Holiday, day) is not None:
        raise ValidationError(f"{day:%Y-%m-%d}已在日历中,请先删除再录入")
    if is_workday and day.weekday() < 5:
        raise ValidationError(f"{day:%Y-%m-%d}本是工作日,无需标注上班(只有周末调休上班才需录入)")
    if not is_workday and day.weekday() >= 5:
        raise ValidationError(f"{day:%Y-%m-%d}是周末,本就休息,无需录入")
    name = (name or "").strip()[:32] or ("调休上班" if is_workday else "放假")
    h = Holiday(day=day, is_workday=is_workday, name=name)
    session.add(h)
    session.flush()
    record(
        session,
        actor,
        "holiday.add",
        object_type="Holiday",
        after={"day": str(day), "is_workday": is_workday, "name": name},
        summary=f"节假日日历增加{day:%Y-%m-%d}({'上班' if is_workday else '放假'} {name})",
    )
    return h


def remove_day(session: Session, actor, day: date) -> None:
    """Remove one day from the calendar."""
    policy.require(actor, "calendar.manage")
    h = session.get(Holiday, day) if day else None
    if h is None:
        raise NotFound("该日期不在日历中")
    before = {"day": str(h.day), "is_workday": h.is_workday, "name": h.name}
    session.delete(h)
    session.flush()
    record(
        session,
        actor,
        "holiday.remove",
        object_type="Holiday",
        before=before,
        summary=f"节假日日历删除{day:%Y-%m-%d}({h.name})",
    )


def set_entered(session: Session, actor, year, entered: bool, source: str = "") -> None:
    """Mark a year's schedule as entered in full (its deadlines are trusted), or take the mark back."""
    policy.require(actor, "calendar.manage")
    year = _year(year)
    entry = session.get(HolidayYear, year)
    if entered:
        entry = entry or HolidayYear(year=year)
        entry.source = (source or "").strip()[:500] or entry.source or f"{year}年节假日安排(逐日录入)"
        entry.updated_at, entry.updated_by_id = clock.now(), actor.id
        session.add(entry)
        session.flush()
        record(session, actor, "holiday.year", entry, summary=f"确认{year}年节假日安排已录入")
    elif entry is not None:
        before = entry.snapshot()
        session.delete(entry)
        session.flush()
        record(
            session,
            actor,
            "holiday.year_undo",
            object_type="HolidayYear",
            object_id=year,
            before=before,
            summary=f"撤销{year}年节假日安排已录入的确认",
        )


@dataclass(frozen=True)
class YearView:
    year: int
    entry: HolidayYear | None
    days: list[Holiday]


def year_view(session: Session, year) -> YearView:
    year = _year(year)
    return YearView(year, session.get(HolidayYear, year), _days_of(session, year))


def entered_years(session: Session) -> list[HolidayYear]:
    return list(session.scalars(select(HolidayYear).order_by(HolidayYear.year)))


def card_dates(session: Session, card: Card, wc: WorkCalendar) -> list[date]:
    """The dates a card's arithmetic used the calendar for: the plan's due day, the deadline, the report dues."""
    from .lifting import monthly_reports

    dates = [card.plan_due, card.deadline]
    if session.get(CardColour, card.colour).report_every_months:
        dates += [r.due for r in monthly_reports(session, card, wc=wc).rows]
    return dates


def card_gaps(session: Session, card: Card, wc: WorkCalendar | None = None) -> list[int]:
    """Years of the card's dates whose holiday schedule is not entered."""
    wc = wc or load_calendar(session)
    return wc.missing_years(*card_dates(session, card, wc))


def cards_in_year(session: Session, year: int) -> list[Card]:
    """Active cards with a date in the year."""
    wc = load_calendar(session)
    active = session.scalars(select(Card).where(Card.status == CardStatus.ACTIVE).order_by(Card.id))
    return [c for c in active if any(d.year == year for d in card_dates(session, c, wc))]


@dataclass(frozen=True)
class Gap:
    year: int
    cards: list[Card]


def gaps(session: Session, today: date | None = None) -> list[Gap]:
    """For the administrator's to-do: this year if not entered, and every year an active card's dates reach into
    without a schedule, with those cards."""
    today = today or clock.today()
    wc = load_calendar(session)
    by_year: dict[int, list[Card]] = {}
    if today.year not in wc.years:
        by_year[today.year] = []
    active = session.scalars(
        select(Card).where(Card.status == CardStatus.ACTIVE).options(selectinload(Card.unit)).order_by(Card.id)
    )
    for c in active:
        for y in wc.missing_years(*card_dates(session, c, wc)):
            by_year.setdefault(y, [])
            if c not in by_year[y]:
                by_year[y].append(c)
    return [Gap(y, cs) for y, cs in sorted(by_year.items())]
