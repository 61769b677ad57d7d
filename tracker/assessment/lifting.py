"""Whether a card may be lifted (摘牌): its conditions, and the monthly rectification reports a red card owes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy.orm import Session

from .. import clock
from ..metrics import service as metrics
from ..periods import Period
from ..plans.service import active_plan
from ..progress.service import timeliness
from ..templating import cn_date
from .calendar import WorkCalendar, add_months
from .calendar import load as load_calendar
from .models import (
    Card,
    CardColour,
    Rectification,
    RectificationStatus,
)


def earliest_lifting(effect: CardColour, issued: date) -> date:
    """The first day a card can be lifted: the issue day plus the colour's minimum listing (red: 3 months)."""
    return add_months(issued, effect.min_listed_months)


@dataclass(frozen=True)
class Condition:
    label: str
    ok: bool
    detail: str


def lift_conditions(session: Session, card: Card, today: date | None = None) -> list[Condition]:
    """What must hold before the card can be lifted (摘牌), each with what the facts say."""
    today = today or clock.today()
    rects = card.rectifications
    plan_ok = any(r.kind == "plan" and r.status == RectificationStatus.ACCEPTED for r in rects)
    pending_items = [r for r in rects if r.status == RectificationStatus.SUBMITTED]
    conds = [Condition("整改方案已审核认可", plan_ok, "已认可" if plan_ok else "尚无认可的整改方案")]
    if card.colour == "yellow":
        conds.append(_figure_back(session, card, today))
    else:
        effect = session.get(CardColour, "red")
        listed = clock.local(card.issued_at).date()
        ready = earliest_lifting(effect, listed)
        conds.append(
            Condition(
                f"挂牌满{effect.min_listed_months}个月", today >= ready, f"{cn_date(listed)}挂牌,{cn_date(ready)}期满"
            )
        )
        conds.append(_declining_months(session, card, today, effect.decline_months_to_lift))
        monthly = monthly_reports(session, card, today)
        parts = []
        if monthly.every:
            parts.append(f"月度整改报告应报{monthly.due_count}份,已报{monthly.filed}份,逾期未报{monthly.overdue}份")
        parts.append(f"待审核材料{len(pending_items)}份")
        if not plan_ok:
            parts.append("整改方案未认可")
        conds.append(
            Condition(
                "整改事项全部办结",
                not pending_items and plan_ok and monthly.overdue == 0,
                ";".join(parts),
            )
        )
    return conds


@dataclass(frozen=True)
class MonthlyDue:
    """One monthly rectification report a red card requires: the month, its due day, and the report filed for it."""

    month: Period
    due: date
    report: Rectification | None
    state: str  # on_time | late | overdue | pending

    @property
    def label(self) -> str:
        return {"on_time": "按时报送", "late": "迟报", "overdue": "逾期未报", "pending": "待报送"}[self.state]


@dataclass(frozen=True)
class MonthlyReports:
    """The monthly reports of a card: every due month so far and the next one, with the counts."""

    every: int
    rows: list[MonthlyDue]
    today: date

    @property
    def due_count(self) -> int:
        return sum(1 for r in self.rows if r.due < self.today)

    @property
    def filed(self) -> int:
        return sum(1 for r in self.rows if r.report is not None)

    @property
    def overdue(self) -> int:
        return sum(1 for r in self.rows if r.state == "overdue")

    @property
    def late(self) -> int:
        return sum(1 for r in self.rows if r.state == "late")

    @property
    def next_due(self) -> date | None:
        return next((r.due for r in self.rows if r.state == "pending"), None)


def monthly_reports(
    session: Session, card: Card, today: date | None = None, wc: WorkCalendar | None = None
) -> MonthlyReports:
    """The rectification reports a card requires every `report_every_months` (red: monthly).

    The report of a month is due on that month's last working day, from the month after the issue month on,
    while the card is active (after it closes, up to the closing day). Reports not returned count in the order
    filed: the k-th report answers the k-th due month, on time if filed by its due day, late after it; a due day
    passed with no report is 逾期未报. A late report fills the earliest missing month.
    """
    today = today or clock.today()
    every = session.get(CardColour, card.colour).report_every_months
    if not every:
        return MonthlyReports(0, [], today)
    wc = wc or load_calendar(session)
    end = clock.local(card.closed_at).date() if card.closed_at else None
    filed = sorted(
        (r for r in card.rectifications if r.kind == "report" and r.status != RectificationStatus.RETURNED),
        key=lambda r: r.submitted_at,
    )
    issued = clock.local(card.issued_at).date()
    month = Period.month(issued.year, issued.month)
    rows: list[MonthlyDue] = []
    while True:
        for _ in range(every):
            month = month.next()
        due = wc.last_workday(month.year, month.first)
        if end is not None and due > end:
            break
        report = filed[len(rows)] if len(rows) < len(filed) else None
        if report is not None:
            state = "on_time" if clock.local(report.submitted_at).date() <= due else "late"
        else:
            state = "overdue" if due < today else "pending"
        rows.append(MonthlyDue(month, due, report, state))
        if due >= today:  # the next one to come, then stop
            break
    return MonthlyReports(every, rows, today)


def _last_full_months(today: date, n: int) -> list[Period]:
    last = Period.month(today.year, today.month).previous()
    months = [last]
    for _ in range(n - 1):
        months.insert(0, months[0].previous())
    return months


def _figure_back(session: Session, card: Card, today: date) -> Condition:
    kind = card.rule.kind if card.rule else None
    if kind in ("cases_up_while_district_down", "cases_surge", "cases_up_consecutive_months"):
        m = _last_full_months(today, 1)[0]
        c = metrics.compare(session, "cases", card.unit_id, m)
        threshold = Decimal(card.rule.params.get("pct", 0)) if kind != "cases_up_consecutive_months" else Decimal(0)
        if c.yoy_abs is None:
            return Condition("触发指标回到标准以内", False, f"{m.label}无同期数据")
        back = (
            c.yoy_abs <= 0 if kind == "cases_up_consecutive_months" or c.judged_by != "pct" else c.yoy_pct < threshold
        )
        return Condition("触发指标回到标准以内", back, f"{m.label}发案{_n(c.value)},去年同期{_n(c.last_year)}")
    if kind == "overdue_count":
        m = _last_full_months(today, 1)[0]
        plan = active_plan(session)
        t = timeliness(session, plan, [m], today=today, unit_id=card.unit_id).get(card.unit_id) if plan else None
        over = t.overdue if t else 0
        return Condition("触发指标回到标准以内", over == 0, f"{m.label}逾期未报{over}份")
    return Condition("审核员确认触发问题已解决", True, "由审核员摘牌时确认")


def _declining_months(session: Session, card: Card, today: date, n: int) -> Condition:
    months = _last_full_months(today, n)
    comps = [metrics.compare(session, "cases", card.unit_id, m) for m in months]
    ok = all(c.yoy_abs is not None and c.yoy_abs < 0 for c in comps)
    detail = ";".join(f"{m.label}{_n(c.value)}(去年同期{_n(c.last_year)})" for m, c in zip(months, comps, strict=True))
    return Condition(f"连续{n}个月发案同比下降", ok, detail)


def _n(value) -> str:
    """A case count for the lifting text: never "None"."""
    return "未录入" if value is None else f"{value}起"
