"""Quarterly scores from the facts, with a breakdown for every point; publishing freezes them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import cache, cached_property

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from .. import clock
from ..errors import ValidationError
from ..meetings import service as meetings
from ..metrics import service as metrics
from ..org.models import KIND_DEPARTMENT, KIND_TOWNSHIP, Unit
from ..periods import Period
from ..plans.models import Plan
from ..progress.service import timeliness
from .models import Card, CardStatus
from .scheme import adjustments, items, not_applicable_policy

Q = Decimal("0.01")
NO_SCORE = "无适用考核项"  # a unit none of whose items applies: no score, not ranked
KIND_ORDER = (KIND_TOWNSHIP, KIND_DEPARTMENT)
KIND_GROUP_LABELS = {KIND_TOWNSHIP: "镇(街道)", KIND_DEPARTMENT: "部门"}


def q(x) -> Decimal:
    return Decimal(x).quantize(Q, rounding=ROUND_HALF_UP)


def fmt(x) -> str:
    return str(q(x))


def _link(endpoint: str, **args) -> dict:
    return {"endpoint": endpoint, "args": args}


@dataclass
class Fact:
    label: str
    value: str
    link: dict | None = None


@dataclass
class ItemScore:
    """One item of a unit's score. Not applicable (nothing due for the unit): under the default policy (rescale)
    points is None and the weight leaves the unit's maximum; under full or zero it is the weight or 0."""

    code: str
    name: str
    formula: str
    weight: Decimal
    points: Decimal | None
    facts: list[Fact] = field(default_factory=list)
    note: str = ""
    applicable: bool = True


@dataclass
class AdjustmentScore:
    code: str
    name: str
    kind: str
    event: str
    count: int
    points: Decimal  # signed


@dataclass
class UnitScore:
    """A unit's score: total = 100 × Σ points / max, then the deductions and bonuses (never below 0).

    max is the sum of the weights the items that count carry: under rescale the applicable items only. A unit with
    no item counting (max 0) has no score and no rank (无适用考核项).
    """

    unit: Unit
    items: list[ItemScore]
    adjustments: list[AdjustmentScore]
    rank: int | None = None
    # the overdue reports and decisions the scores counted: the card rule Y4 reads them from a published quarter
    overdue: dict[str, int] = field(default_factory=dict)

    # each figure worked out once (ranking, snapshot and note of changes reread them); items never change once scored

    @cached_property
    def counted(self) -> list[ItemScore]:
        return [i for i in self.items if i.points is not None]

    @cached_property
    def max(self) -> Decimal:
        return sum((i.weight for i in self.counted), Decimal(0))

    @cached_property
    def subtotal(self) -> Decimal:
        return sum((i.points for i in self.counted), Decimal(0))

    @property
    def scored(self) -> bool:
        return self.max > 0

    @cached_property
    def scaled(self) -> Decimal | None:
        """The items' points on a scale of 100 (= subtotal when every item counts and the weights total 100)."""
        return q(Decimal(100) * self.subtotal / self.max) if self.scored else None

    @cached_property
    def total(self) -> Decimal | None:
        if not self.scored:
            return None
        raw = self.scaled + sum((a.points for a in self.adjustments), Decimal(0))
        return q(max(raw, Decimal(0)))


@dataclass(frozen=True)
class _Item:
    """A scheme item as the formulas read it: its values once, not the ORM's attributes for every unit."""

    code: str
    name: str
    formula: str
    params: dict


@dataclass(frozen=True)
class _Adjustment:
    """A deduction or bonus as `_adjust` reads it."""

    code: str
    name: str
    kind: str
    event: str
    points: Decimal
    cap: Decimal


def check_quarter(period: Period) -> None:
    if period.kind != "quarter":
        raise ValidationError("考评按季度计分,请选择季度(如 2026-Q3)")


def _share_points(weight: Decimal, num: int, den: int) -> Decimal:
    return q(weight * Decimal(num) / Decimal(den))


def compute(session: Session, plan: Plan, period: Period, today: date | None = None) -> list[UnitScore]:
    """Score every active unit for a quarter from the facts, in a fixed number of queries."""
    return compute_with_summary(session, plan, period, today)[0]


def compute_with_summary(
    session: Session,
    plan: Plan,
    period: Period,
    today: date | None = None,
    plan_duties: list | None = None,
    facts: bool = True,
    decisions: dict | None = None,
) -> tuple[list[UnitScore], metrics.Summary]:
    """The scores, and the 两降两升 summary they used (plan_duties: the plan's `counting_duties`, when the caller
    has read them already; facts False: the items' points and notes without their facts, for totals and ranks;
    decisions: the quarter's `meetings.decision_facts` as of today, when the caller has read them)."""
    check_quarter(period)
    today = today or clock.today()
    as_of = min(today, period.end)
    units = list(session.scalars(_units_query()))
    scheme_items = [i for i in items(session) if i.is_active]
    adjs = [a for a in adjustments(session) if a.is_active]
    reports = timeliness(session, plan, period.months(), today=today, by_role=True, plan_duties=plan_duties)
    if decisions is None:
        decisions = meetings.decision_facts(session, None, period.start, period.end, today)
    summary = metrics.summary(session, period)
    by_unit_metrics, ranks = {s.unit.id: s for s in summary.units}, _outcome_ranks(summary)
    cards = list(session.scalars(_cards_query(), {"issued_by": clock.end_of_day_utc(period.end)}))
    cards_by_unit: dict[int, list[Card]] = {}
    for c in cards:
        cards_by_unit.setdefault(c.unit_id, []).append(c)
    not_applicable = not_applicable_policy(session)
    weighted, applying = _per_kind({u.kind for u in units}, scheme_items, adjs)
    # each unit's report counts (one per role) grouped once, not found by scanning every unit's for each unit
    unit_reports: dict[int, list] = {}
    for (uid, _role), t in reports.items():
        unit_reports.setdefault(uid, []).append(t)
    out: list[UnitScore] = []
    for unit in units:
        uid, kind = unit.id, unit.kind
        ctx = _UnitContext(
            unit,
            period,
            as_of,
            reports,
            decisions.get(uid),
            by_unit_metrics.get(uid),
            cards_by_unit.get(uid, []),
            ranks,
            summary,
            not_applicable,
            unit_reports.get(uid, []),
            facts,
        )
        scored = [formula(session, it, ctx, weight) for it, formula, weight in weighted[kind]]
        adjusted = [_adjust(a, ctx) for a in applying[kind]]
        overdue = {
            "reports": sum(t.overdue for t in ctx.unit_reports),
            "decisions": ctx.decisions.overdue if ctx.decisions else 0,
        }
        out.append(UnitScore(unit, scored, [a for a in adjusted if a.count], overdue=overdue))
    for kind in KIND_ORDER:
        _rank([s for s in out if s.unit.kind == kind])
    return out, summary


# the active units in order, and the cards issued by a day's end: built once (not a cache key worked out every call)
@cache
def _units_query():
    return select(Unit).where(Unit.is_active.is_(True)).order_by(Unit.sort_order, Unit.id)


@cache
def _cards_query():
    return select(Card).where(Card.issued_at <= bindparam("issued_by"))


def _per_kind(kinds: set[str], scheme_items: list, adjs: list) -> tuple[dict, dict]:
    """Per unit kind, read once: the items that carry a weight (with their formula and weight) and the adjustments
    that apply, as plain values (the formulas read them for every unit)."""
    plain_items = {it.id: _Item(it.code, it.name, it.formula, it.params) for it in scheme_items}
    weighted = {
        k: [(plain_items[it.id], _FORMULAS[it.formula], q(w)) for it in scheme_items if (w := it.weight_for(k)) > 0]
        for k in kinds
    }
    plain_adjs = {a.id: _Adjustment(a.code, a.name, a.kind, a.event, a.points, a.cap) for a in adjs}
    return weighted, {k: [plain_adjs[a.id] for a in adjs if a.applies_to(k)] for k in kinds}


def _rank(scores: list[UnitScore]) -> None:
    """Competition ranking: equal totals share a rank (1, 1, 3); a unit without a score is not ranked."""
    totals = [(s.total, s) for s in scores]  # each total worked out once (a property summing the items)
    ranked = sorted(
        ((t, s) for t, s in totals if t is not None), key=lambda p: (-p[0], p[1].unit.sort_order, p[1].unit.id)
    )
    for i, (t, s) in enumerate(ranked):
        s.rank = ranked[i - 1][1].rank if i and t == ranked[i - 1][0] else i + 1
    for t, s in totals:
        if t is None:
            s.rank = None


def _outcome_ranks(summary) -> dict[int, int]:
    return {s.unit.id: s.rank for s in summary.units if getattr(s, "rank", None)}


@dataclass
class _UnitContext:
    unit: Unit
    period: Period
    as_of: date
    reports: dict
    decisions: object
    metrics: object
    cards: list[Card]
    ranks: dict[int, int]
    summary: object
    not_applicable: str = "rescale"  # the scheme's policy for items with nothing due: rescale, full or zero
    unit_reports: list = field(default_factory=list)  # the unit's report counts, one per role
    facts: bool = True  # False: the items without their facts (what totals and ranks need)


def _not_applicable(it, ctx: _UnitContext, weight: Decimal, facts: list[Fact], why: str) -> ItemScore:
    """An item with nothing due for the unit, scored as the scheme says: not counted (rescale), full marks or 0."""
    if ctx.not_applicable == "full":
        points, note = weight, f"{why},按满分计"
    elif ctx.not_applicable == "zero":
        points, note = q(0), f"{why},按0分计"
    else:
        points, note = None, f"{why},不适用"
    return ItemScore(it.code, it.name, it.formula, weight, points, facts if ctx.facts else [], note, applicable=False)


def _metric_yoy(session, it, ctx: _UnitContext, weight: Decimal) -> ItemScore:
    """The share of indicators that improved year on year. An indicator without a comparison (no figure this year
    or last) is not applicable: under rescale it leaves the share (none comparable: the item is not applicable);
    under full it counts half (as before), under zero nothing."""
    codes = it.params.get("indicators", [])
    facts, score, compared, missing = [], Decimal(0), 0, 0
    comps = ctx.metrics.comparisons if ctx.metrics else {}
    link = _link("metrics.town", unit_id=ctx.unit.id, period=ctx.period.code)
    missing_value = {"full": "无同期数据,按一半计", "zero": "无同期数据,按0计"}.get(
        ctx.not_applicable, "无同期数据,不计入"
    )
    for code in codes:
        c = comps.get(code)
        if c is None or c.improved is None:
            missing += 1
            if ctx.not_applicable == "full":
                score += Decimal("0.5")
            if ctx.facts:
                facts.append(Fact(_indicator_name(ctx, code), missing_value, link))
            continue
        compared += 1
        score += 1 if c.improved else 0
        if not ctx.facts:
            continue
        name = _indicator_name(ctx, code)
        change = (
            f"同比{'+' if c.yoy_pct > 0 else ''}{c.yoy_pct}%"
            if c.judged_by == "pct" and c.yoy_pct is not None
            else f"同比{'+' if (c.yoy_abs or 0) > 0 else ''}{c.yoy_abs}"
        )
        facts.append(
            Fact(
                name,
                f"{c.value}(去年同期{c.last_year}),{change},{'达标' if c.improved else '未达标'}",
                link,
            )
        )
    if not codes:
        return _not_applicable(it, ctx, weight, facts, "未指定指标")
    if ctx.not_applicable == "rescale":
        if not compared:
            return _not_applicable(it, ctx, weight, facts, "各项指标均无同期数据")
        note = f"{compared}项可比指标中向好{score}项,按比例计分" + (
            f"({missing}项无同期数据,不计入)" if missing else ""
        )
        return ItemScore(it.code, it.name, it.formula, weight, q(weight * score / Decimal(compared)), facts, note)
    return ItemScore(
        it.code,
        it.name,
        it.formula,
        weight,
        q(weight * score / Decimal(len(codes))),
        facts,
        f"{len(codes)}项指标中向好{score}项,按比例计分",
    )


def _indicator_name(ctx: _UnitContext, code: str) -> str:
    ind = ctx.summary.indicator(code)
    return ind.name if ind else code


def _target(session, it, ctx: _UnitContext, weight: Decimal) -> ItemScore:
    code, target = it.params.get("indicator"), Decimal(str(it.params.get("target", "0")))
    value = metrics.value(session, code, ctx.unit.id, ctx.period) if code else None
    if value is None or target <= 0:
        facts = [Fact("指标值", "无数据")] if ctx.facts else []
        return ItemScore(it.code, it.name, it.formula, weight, q(0), facts, "无数据不得分")
    ratio = min(Decimal(value) / target, Decimal(1))
    return ItemScore(
        it.code,
        it.name,
        it.formula,
        weight,
        q(weight * ratio),
        [
            Fact("指标值", str(value), _link("metrics.town", unit_id=ctx.unit.id, period=ctx.period.code)),
            Fact("目标值", str(target)),
        ]
        if ctx.facts
        else [],
        "达到目标得满分,未达到按比例计分",
    )


def _report_share(session, it, ctx: _UnitContext, weight: Decimal) -> ItemScore:
    role = it.params.get("role", "lead")
    t = ctx.reports.get((ctx.unit.id, role))
    link = _link("progress.reports", unit=ctx.unit.id)
    if t is None or t.due == 0:
        return _not_applicable(it, ctx, weight, [Fact("应报", "0 份", link)], "本期无应报报告")
    facts = (
        [
            Fact("应报", f"{t.due} 份", link),
            Fact("按时且通过", f"{t.on_time_accepted} 份", link),
            Fact("迟报", f"{t.late} 份", link),
            Fact("逾期未报", f"{t.overdue} 份", link),
            Fact("待审核或被退回", f"{t.due - t.overdue - t.accepted} 份", link),
        ]
        if ctx.facts
        else []
    )
    return ItemScore(
        it.code,
        it.name,
        it.formula,
        weight,
        _share_points(weight, t.on_time_accepted, t.due),
        facts,
        f"{weight} × {t.on_time_accepted}/{t.due}",
    )


def _decision_share(session, it, ctx: _UnitContext, weight: Decimal) -> ItemScore:
    d = ctx.decisions
    link = _link("meetings.decisions", unit=ctx.unit.id)
    if d is None or d.due == 0:
        return _not_applicable(it, ctx, weight, [Fact("到期督办事项", "0 项", link)], "本期无到期督办事项")
    facts = (
        [
            Fact("到期督办事项", f"{d.due} 项", link),
            Fact("按期销号", f"{d.closed_on_time} 项", link),
            Fact("逾期销号", f"{d.closed_late} 项", link),
            Fact("逾期未销号", f"{d.overdue} 项", link),
        ]
        if ctx.facts
        else []
    )
    return ItemScore(
        it.code,
        it.name,
        it.formula,
        weight,
        _share_points(weight, d.closed_on_time, d.due),
        facts,
        f"{weight} × {d.closed_on_time}/{d.due}",
    )


def card_rectified_in_time(card: Card, as_of: date) -> bool:
    """Lifted by its deadline, or still within it with the plan in by its due date."""
    if card.status == CardStatus.LIFTED:
        return clock.local(card.closed_at).date() <= card.deadline
    if card.status == CardStatus.ESCALATED or as_of > card.deadline:
        return False
    plan_in = any(r.kind == "plan" and r.status != "returned" for r in card.rectifications)
    return plan_in or as_of <= card.plan_due


def _rectification(session, it, ctx: _UnitContext, weight: Decimal) -> ItemScore:
    relevant = [
        c
        for c in ctx.cards
        if c.status == CardStatus.ACTIVE or (c.closed_at and clock.local(c.closed_at).date() >= ctx.period.start)
    ]
    if not relevant:
        # no card to rectify is nothing due, not a rectification done: the item does not apply
        return _not_applicable(it, ctx, weight, [Fact("本期应整改的红黄牌", "无")], "本期无红黄牌")
    ok = [c for c in relevant if card_rectified_in_time(c, ctx.as_of)]
    facts = [
        Fact(f"{c.colour_label} #{c.id}", "按期整改" if c in ok else "未按期整改", _link("cards.show", card_id=c.id))
        for c in relevant
        if ctx.facts
    ]
    return ItemScore(
        it.code,
        it.name,
        it.formula,
        weight,
        _share_points(weight, len(ok), len(relevant)),
        facts,
        f"{weight} × {len(ok)}/{len(relevant)}",
    )


def _rank_based(session, it, ctx: _UnitContext, weight: Decimal) -> ItemScore:
    rank = ctx.ranks.get(ctx.unit.id)
    n = len(ctx.ranks)
    if rank is None or n <= 1:
        why = "无两降两升排名" if rank is None else "参与排名的单位不足2个"
        return _not_applicable(it, ctx, weight, [Fact("排名", "无排名")], why)
    points = q(weight * Decimal(n - rank) / Decimal(n - 1))
    return ItemScore(
        it.code,
        it.name,
        it.formula,
        weight,
        points,
        [Fact("两降两升综合排名", f"第{rank}名/共{n}个", _link("metrics.overview", period=ctx.period.code))]
        if ctx.facts
        else [],
        f"{weight} × ({n}-{rank})/({n}-1)",
    )


_FORMULAS = {
    "metric_yoy": _metric_yoy,
    "target": _target,
    "report_share": _report_share,
    "decision_share": _decision_share,
    "rectification": _rectification,
    "rank": _rank_based,
}


def _adjust(a, ctx: _UnitContext) -> AdjustmentScore:
    if a.event in ("late_report", "overdue_report", "returned_report"):
        attr = {"late_report": "late", "overdue_report": "overdue", "returned_report": "return_events"}[a.event]
        count = sum(getattr(t, attr) for t in ctx.unit_reports)
    elif a.event == "overdue_decision":
        count = ctx.decisions.overdue if ctx.decisions else 0
    else:  # zero_cases
        c = ctx.metrics.comparisons.get("cases") if ctx.metrics else None
        count = 1 if c is not None and c.value is not None and c.value == 0 else 0
    raw = min(a.points * count, a.cap)
    return AdjustmentScore(a.code, a.name, a.kind, a.event, count, q(raw if a.kind == "bonus" else -raw))
