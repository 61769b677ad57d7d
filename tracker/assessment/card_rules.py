"""The card rules: which units the red and yellow card rules (Y1–Y4, R1–R2) find for a quarter, with the figures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from .. import clock
from ..errors import ValidationError
from ..meetings import service as meetings
from ..metrics import service as metrics
from ..org.models import KIND_TOWNSHIP, Unit
from ..periods import Period
from ..plans.models import Plan
from ..progress.service import timeliness
from ..templating import cn_date
from .calendar import add_months
from .models import (
    Card,
    CardRule,
    CardStatus,
)
from .scheme import rules as all_rules


@dataclass(frozen=True)
class Finding:
    """A rule that fired for a unit, with the reason in words and the figures it fired on."""

    unit: Unit
    rule: CardRule
    reason: str
    figures: dict
    escalates_card_id: int | None = None

    @property
    def colour(self) -> str:
        return self.rule.colour


def _pct(c) -> str:
    return f"{c.yoy_pct:+}%" if c.yoy_pct is not None else "—"


def _cases_figures(c) -> dict:
    return {
        "value": str(c.value),
        "last_year": str(c.last_year),
        "yoy_abs": str(c.yoy_abs),
        "yoy_pct": None if c.yoy_pct is None else str(c.yoy_pct),
        "judged_by": c.judged_by,
    }


def evaluate(session: Session, plan: Plan, period: Period, today: date | None = None) -> list[Finding]:
    """Every card rule applied to every active town and street for the quarter; nothing is written."""
    if period.kind != "quarter":
        raise ValidationError("红黄牌按季度研判,请选择季度(如 2026-Q3)")
    today = today or clock.today()
    as_of = min(today, period.end)
    towns = list(
        session.scalars(
            select(Unit).where(Unit.kind == KIND_TOWNSHIP, Unit.is_active.is_(True)).order_by(Unit.sort_order, Unit.id)
        )
    )
    active_rules = [r for r in all_rules(session) if r.is_active]
    # a published quarter's figures are the frozen ones, like its scores and ranks
    summary = _results(session, plan, period, as_of).summary
    town_cases = {s.unit.id: s.comparisons.get("cases") for s in summary.units}
    district_cases = summary.district.get("cases")
    findings: list[Finding] = []
    yellow_fired: set[int] = set()
    for rule in sorted(active_rules, key=lambda r: (r.colour != "yellow", r.sort_order)):
        fn = _RULES[rule.kind]
        for f in fn(session, plan, rule, period, as_of, towns, town_cases, district_cases, yellow_fired):
            findings.append(f)
            if rule.colour == "yellow":
                yellow_fired.add(f.unit.id)
    return findings


def _results(session, plan, period, as_of):
    """The quarter's scores and figures: frozen when published, otherwise live as of the day after as_of."""
    from .scoring import quarter_results

    return quarter_results(session, plan, period, today=as_of + timedelta(days=1), changes=False)


def _rank_bottom(session, plan, rule, period, as_of, towns, town_cases, district_cases, fired):
    n = int(rule.params.get("n", 3))
    units = {u.id: u for u in towns}
    # a published quarter: the published scores and ranks, whatever the facts say today
    rows = [
        r
        for r in _results(session, plan, period, as_of).snapshot["groups"]["township"]
        if r["unit_id"] in units and r["rank"] is not None  # a town without a score (无适用考核项) is not ranked
    ]
    worst = sorted(rows, key=lambda r: -r["rank"])
    count = len(rows)
    cutoff = bottom_cutoff([r["rank"] for r in rows], n)
    for r in worst:
        if r["rank"] >= cutoff:
            tied = sum(1 for o in rows if o["rank"] == r["rank"])
            yield Finding(
                units[r["unit_id"]],
                rule,
                f"{period.label}考评得分{r['total']}分,在{count}个镇(街道)中排名第{r['rank']}"
                + (f"(与另外{tied - 1}个单位并列)" if tied > 1 else "")
                + f",处于后{n}位",
                {"score": r["total"], "rank": r["rank"], "of": count},
            )


def bottom_cutoff(ranks: list[int], n: int) -> int:
    """The rank from which a unit is among the last n: the rank held at the n-th place from the bottom.

    Competition ranks 1,1,3,3,5,5 with n=3: the third from the bottom holds rank 3, so the four units ranked 3 or
    lower are flagged (a tie is never split). Fewer units than n: everyone.
    """
    ordered = sorted(ranks)
    return ordered[max(len(ordered) - n, 0)] if ordered else 0


def _cases_up_while_district_down(session, plan, rule, period, as_of, towns, town_cases, district_cases, fired):
    if district_cases is None or district_cases.yoy_abs is None or district_cases.yoy_abs >= 0:
        return
    for u in towns:
        c = town_cases.get(u.id)
        met = cases_rise(rule, c)
        if met:
            yield Finding(
                u,
                rule,
                f"{period.label}全区发案同比下降({_pct(district_cases)}),{u.name}发案{c.value}起,"
                f"去年同期{c.last_year}起,{met},达到黄牌标准",
                {"cases": _cases_figures(c), "district_cases": _cases_figures(district_cases), "threshold": met},
            )


SMALL_BASE = 10
ABS_DEFAULTS = {"cases_up_while_district_down": 3, "cases_surge": 5}
PCT_DEFAULTS = {"cases_up_while_district_down": 20, "cases_surge": 50}


def cases_rise(rule: CardRule, c) -> str | None:
    """How a town's cases rose enough for the rule, in words; None when they did not.

    Last year at or above the small base (default 10 cases): the percentage rise against `pct`. Under it (a
    percentage of 3 misleads): the increase in cases against `abs` (default Y2 +3, R3 +5), so 3 → 9 is +6 cases.
    """
    if c is None or c.value is None or c.last_year is None or c.yoy_abs is None:
        return None
    base = int(rule.params.get("small_base", SMALL_BASE))
    if c.last_year < base:
        need = int(rule.params.get("abs", ABS_DEFAULTS.get(rule.kind, 5)))
        if c.yoy_abs >= need:
            return f"同比增加{c.yoy_abs}起(去年同期不足{base}起,按增加{need}起以上判断)"
        return None
    pct = Decimal(rule.params.get("pct", PCT_DEFAULTS.get(rule.kind, 50)))
    rise = (
        c.yoy_pct
        if c.yoy_pct is not None
        else (Decimal(c.yoy_abs) * 100 / Decimal(c.last_year)).quantize(Decimal("0.1"))
    )
    if rise >= pct:
        return f"同比上升{rise}%(达到{pct}%)"
    return None


def _cases_up_consecutive(session, plan, rule, period, as_of, towns, town_cases, district_cases, fired):
    n = int(rule.params.get("months", 2))
    # The last n months ending at the quarter's last month (the last complete month while the quarter runs),
    # whichever quarter they fall in: a rise in June and July counts for Q3.
    last = (
        Period.month(as_of.year, as_of.month).previous()
        if as_of < period.end
        else Period.month(period.year, period.last)
    )
    months = [last]
    for _ in range(n - 1):
        months.insert(0, months[0].previous())
    per_month = [metrics.summary(session, m) for m in months]
    for u in towns:
        comps = [next((s.comparisons.get("cases") for s in sm.units if s.unit.id == u.id), None) for sm in per_month]
        if all(c is not None and c.yoy_abs is not None and c.yoy_abs > 0 for c in comps):
            detail = ";".join(
                f"{m.label}{c.value}起(去年同期{c.last_year}起)" for m, c in zip(months, comps, strict=True)
            )
            yield Finding(
                u,
                rule,
                f"{u.name}连续{n}个月发案同比上升:{detail}",
                {"months": {m.code: _cases_figures(c) for m, c in zip(months, comps, strict=True)}},
            )


def _frozen_overdue(session, plan, period, as_of) -> dict[int, dict[str, int]]:
    """A published quarter's overdue reports and decisions per town as its scores counted them: the rule then reads
    the same numbers as the scorecard, whatever was submitted or closed since."""
    res = _results(session, plan, period, as_of)
    if not res.published:
        return {}
    return {r["unit_id"]: r["overdue"] for r in res.snapshot["groups"].get("township", []) if "overdue" in r}


def _overdue_count(session, plan, rule, period, as_of, towns, town_cases, district_cases, fired):
    n = int(rule.params.get("n", 2))
    kept = _frozen_overdue(session, plan, period, as_of)
    counts = timeliness(session, plan, period.months(), today=as_of + timedelta(days=1))
    decisions = meetings.decision_facts(session, None, period.start, period.end, as_of + timedelta(days=1))
    for u in towns:
        if u.id in kept:
            r_over, d_over = kept[u.id]["reports"], kept[u.id]["decisions"]
        else:  # not published, or published before the counts were kept: as of the quarter's end
            reports = counts.get(u.id)
            r_over = reports.overdue if reports else 0
            d_over = decisions[u.id].overdue if u.id in decisions else 0
        if r_over + d_over >= n:
            yield Finding(
                u,
                rule,
                f"{period.label}逾期未报报告{r_over}份、逾期督办事项{d_over}项,合计达到{n}项",
                {"overdue_reports": r_over, "overdue_decisions": d_over},
            )


def _cases_surge(session, plan, rule, period, as_of, towns, town_cases, district_cases, fired):
    for u in towns:
        c = town_cases.get(u.id)
        met = cases_rise(rule, c)
        if met:
            yield Finding(
                u,
                rule,
                f"{period.label}{u.name}发案{c.value}起,去年同期{c.last_year}起,{met},达到案件高发标准",
                {"cases": _cases_figures(c), "threshold": met},
            )


def _yellow_not_lifted(session, plan, rule, period, as_of, towns, town_cases, district_cases, fired):
    for card in overdue_yellows(session, as_of):
        yield Finding(
            card.unit,
            rule,
            f"黄牌#{card.id}(限{cn_date(card.deadline)}前整改)逾期未摘牌,整改不力",
            {"card_id": card.id, "deadline": str(card.deadline)},
            escalates_card_id=card.id,
        )


def _second_yellow(session, plan, rule, period, as_of, towns, town_cases, district_cases, fired):
    months = int(rule.params.get("months", 6))
    since = add_months(as_of, -months)
    for u in towns:
        if u.id not in fired:
            continue
        # an earlier yellow card: issued before the span's end, within the months, for another period
        prior = session.scalars(
            select(Card)
            .where(
                Card.unit_id == u.id,
                Card.colour == "yellow",
                Card.period != period.code,
                Card.issued_at <= clock.end_of_day_utc(as_of),
            )
            .order_by(Card.issued_at.desc())
        ).first()
        if prior and clock.local(prior.issued_at).date() >= since:
            issued = clock.local(prior.issued_at).date()
            yield Finding(
                u,
                rule,
                f"{u.name}于{cn_date(issued)}已被黄牌警告(#{prior.id}),{months}个月内再次触发黄牌条件",
                {"previous_card_id": prior.id, "previous_issued": str(issued)},
            )


_RULES = {
    "rank_bottom": _rank_bottom,
    "cases_up_while_district_down": _cases_up_while_district_down,
    "cases_up_consecutive_months": _cases_up_consecutive,
    "overdue_count": _overdue_count,
    "cases_surge": _cases_surge,
    "yellow_not_lifted": _yellow_not_lifted,
    "second_yellow": _second_yellow,
}


def overdue_yellows(session: Session, as_of: date) -> list[Card]:
    """Active yellow cards whose rectification deadline has passed: 逾期未整改."""
    return list(
        session.scalars(
            select(Card)
            .where(Card.colour == "yellow", Card.status == CardStatus.ACTIVE, Card.deadline < as_of)
            .options(selectinload(Card.unit))
            .order_by(Card.deadline)
        )
    )
