"""Quarterly scores from the facts, with a breakdown for every point; publishing freezes them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, defer, joinedload

from .. import clock, policy
from ..audit.service import record
from ..errors import ValidationError, WorkflowError
from ..meetings import service as meetings
from ..metrics import frozen
from ..metrics import service as metrics
from ..org.models import KIND_DEPARTMENT, KIND_TOWNSHIP, Unit
from ..periods import Period
from ..plans.models import Plan
from ..progress.service import timeliness
from .models import EVENTS, FORMULAS, Card, CardStatus, Publication
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

    @property
    def counted(self) -> list[ItemScore]:
        return [i for i in self.items if i.points is not None]

    @property
    def max(self) -> Decimal:
        return sum((i.weight for i in self.counted), Decimal(0))

    @property
    def subtotal(self) -> Decimal:
        return sum((i.points for i in self.counted), Decimal(0))

    @property
    def scored(self) -> bool:
        return self.max > 0

    @property
    def scaled(self) -> Decimal | None:
        """The items' points on a scale of 100 (= subtotal when every item counts and the weights total 100)."""
        return q(Decimal(100) * self.subtotal / self.max) if self.scored else None

    @property
    def total(self) -> Decimal | None:
        if not self.scored:
            return None
        raw = self.scaled + sum((a.points for a in self.adjustments), Decimal(0))
        return q(max(raw, Decimal(0)))


def _assessment_period(period: Period) -> None:
    if period.kind != "quarter":
        raise ValidationError("考评按季度计分,请选择季度(如 2026-Q3)")


def _share_points(weight: Decimal, num: int, den: int) -> Decimal:
    return q(weight * Decimal(num) / Decimal(den))


def compute(session: Session, plan: Plan, period: Period, today: date | None = None) -> list[UnitScore]:
    """Score every active unit for a quarter from the facts, in a fixed number of queries."""
    return _compute(session, plan, period, today)[0]


def _compute(
    session: Session, plan: Plan, period: Period, today: date | None = None
) -> tuple[list[UnitScore], metrics.Summary]:
    """The scores, and the 两降两升 summary they used."""
    _assessment_period(period)
    today = today or clock.today()
    as_of = min(today, period.end)
    units = list(session.scalars(select(Unit).where(Unit.is_active.is_(True)).order_by(Unit.sort_order, Unit.id)))
    scheme_items = [i for i in items(session) if i.is_active]
    adjs = [a for a in adjustments(session) if a.is_active]
    reports = timeliness(session, plan, period.months(), today=today, by_role=True)
    decisions = meetings.decision_facts(session, None, period.start, period.end, today)
    summary = metrics.summary(session, period)
    by_unit_metrics = {s.unit.id: s for s in summary.units}
    cards = list(session.scalars(select(Card).where(Card.issued_at <= clock.end_of_day_utc(period.end))))
    cards_by_unit: dict[int, list[Card]] = {}
    for c in cards:
        cards_by_unit.setdefault(c.unit_id, []).append(c)
    ranks = _outcome_ranks(summary)
    not_applicable = not_applicable_policy(session)
    out: list[UnitScore] = []
    for unit in units:
        ctx = _UnitContext(
            unit,
            period,
            as_of,
            reports,
            decisions.get(unit.id),
            by_unit_metrics.get(unit.id),
            cards_by_unit.get(unit.id, []),
            ranks,
            summary,
            not_applicable,
        )
        scored = [_score_item(session, it, ctx) for it in scheme_items if it.weight_for(unit.kind) > 0]
        adjusted = [_adjust(a, ctx) for a in adjs if a.applies_to(unit.kind)]
        overdue = {
            "reports": sum(t.overdue for key, t in reports.items() if key[0] == unit.id),
            "decisions": ctx.decisions.overdue if ctx.decisions else 0,
        }
        out.append(UnitScore(unit, scored, [a for a in adjusted if a.count], overdue=overdue))
    for kind in KIND_ORDER:
        _rank([s for s in out if s.unit.kind == kind])
    return out, summary


def _rank(scores: list[UnitScore]) -> None:
    """Competition ranking: equal totals share a rank (1, 1, 3); a unit without a score is not ranked."""
    ranked = sorted((s for s in scores if s.total is not None), key=lambda s: (-s.total, s.unit.sort_order, s.unit.id))
    for i, s in enumerate(ranked):
        s.rank = ranked[i - 1].rank if i and s.total == ranked[i - 1].total else i + 1
    for s in scores:
        if s.total is None:
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


def _score_item(session: Session, it, ctx: _UnitContext) -> ItemScore:
    weight = it.weight_for(ctx.unit.kind)
    return _FORMULAS[it.formula](session, it, ctx, q(weight))


def _not_applicable(it, ctx: _UnitContext, weight: Decimal, facts: list[Fact], why: str) -> ItemScore:
    """An item with nothing due for the unit, scored as the scheme says: not counted (rescale), full marks or 0."""
    if ctx.not_applicable == "full":
        points, note = weight, f"{why},按满分计"
    elif ctx.not_applicable == "zero":
        points, note = q(0), f"{why},按0分计"
    else:
        points, note = None, f"{why},不适用"
    return ItemScore(it.code, it.name, it.formula, weight, points, facts, note, applicable=False)


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
        ind = ctx.summary.indicator(code)
        name = ind.name if ind else code
        if c is None or c.improved is None:
            missing += 1
            if ctx.not_applicable == "full":
                score += Decimal("0.5")
            facts.append(Fact(f"{name}", missing_value, link))
            continue
        compared += 1
        score += 1 if c.improved else 0
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


def _target(session, it, ctx: _UnitContext, weight: Decimal) -> ItemScore:
    code, target = it.params.get("indicator"), Decimal(str(it.params.get("target", "0")))
    value = metrics.value(session, code, ctx.unit.id, ctx.period) if code else None
    if value is None or target <= 0:
        return ItemScore(it.code, it.name, it.formula, weight, q(0), [Fact("指标值", "无数据")], "无数据不得分")
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
        ],
        "达到目标得满分,未达到按比例计分",
    )


def _report_share(session, it, ctx: _UnitContext, weight: Decimal) -> ItemScore:
    role = it.params.get("role", "lead")
    t = ctx.reports.get((ctx.unit.id, role))
    link = _link("progress.reports", unit=ctx.unit.id)
    if t is None or t.due == 0:
        return _not_applicable(it, ctx, weight, [Fact("应报", "0 份", link)], "本期无应报报告")
    facts = [
        Fact("应报", f"{t.due} 份", link),
        Fact("按时且通过", f"{t.on_time_accepted} 份", link),
        Fact("迟报", f"{t.late} 份", link),
        Fact("逾期未报", f"{t.overdue} 份", link),
        Fact("待审核或被退回", f"{t.due - t.overdue - t.accepted} 份", link),
    ]
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
    facts = [
        Fact("到期督办事项", f"{d.due} 项", link),
        Fact("按期销号", f"{d.closed_on_time} 项", link),
        Fact("逾期销号", f"{d.closed_late} 项", link),
        Fact("逾期未销号", f"{d.overdue} 项", link),
    ]
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
        [Fact("两降两升综合排名", f"第{rank}名/共{n}个", _link("metrics.overview", period=ctx.period.code))],
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
        count = sum(getattr(t, attr) for key, t in ctx.reports.items() if key[0] == ctx.unit.id)
    elif a.event == "overdue_decision":
        count = ctx.decisions.overdue if ctx.decisions else 0
    else:  # zero_cases
        c = ctx.metrics.comparisons.get("cases") if ctx.metrics else None
        count = 1 if c is not None and c.value is not None and c.value == 0 else 0
    raw = min(a.points * count, a.cap)
    return AdjustmentScore(a.code, a.name, a.kind, a.event, count, q(raw if a.kind == "bonus" else -raw))


# -- snapshots, publication ----------------------------------------------------


RANK_AFTER_PUBLICATION = "考评结果发布后公布"


def without_rank(row: dict | None) -> dict | None:
    """A unit's score row as an officer may read it before publication: the score, no rank, and no rank read
    through an item either (the facts and note of a rank-based item)."""
    if row is None:
        return None
    items = [
        {**i, "facts": [{"label": "排名", "value": RANK_AFTER_PUBLICATION, "link": None}], "note": "按排名计分"}
        if i["formula"] == "rank"
        else i
        for i in row["items"]
    ]
    return {**row, "rank": None, "rank_hidden": True, "items": items}


def _fmt_or_none(x) -> str | None:
    return None if x is None else fmt(x)


def to_snapshot(
    scores: list[UnitScore],
    period: Period,
    summary: metrics.Summary | None = None,
    trends: dict | None = None,
    not_applicable: str = "rescale",
) -> dict:
    """A JSON form of the scores: what a published period keeps, and what pages render.

    With the summary, "figures" keeps the 两降两升 figures the scores used (district and every town, with ranks)
    and the district's monthly figures of the year (trends: code -> (this year, last year)).
    """
    groups: dict[str, list] = {k: [] for k in KIND_ORDER}
    for s in sorted(scores, key=lambda s: (s.rank is None, s.rank or 0, s.unit.sort_order)):
        groups[s.unit.kind].append(
            {
                "unit_id": s.unit.id,
                "unit": s.unit.name,
                "kind": s.unit.kind,
                "rank": s.rank,  # None: no item applies (无适用考核项), not ranked
                "total": _fmt_or_none(s.total),
                "max": fmt(s.max),  # the weights that count (rescale: the applicable items'), before rescaling
                "subtotal": fmt(s.subtotal),
                "overdue": s.overdue,
                "scaled": _fmt_or_none(s.scaled),
                "items": [
                    {
                        "code": i.code,
                        "name": i.name,
                        "formula": i.formula,
                        "formula_label": FORMULAS[i.formula],
                        "weight": fmt(i.weight),
                        "applicable": i.applicable,
                        "points": _fmt_or_none(i.points),
                        "note": i.note,
                        "facts": [{"label": f.label, "value": f.value, "link": f.link} for f in i.facts],
                    }
                    for i in s.items
                ],
                "adjustments": [
                    {
                        "code": a.code,
                        "name": a.name,
                        "kind": a.kind,
                        "event_label": EVENTS[a.event],
                        "count": a.count,
                        "points": fmt(a.points),
                    }
                    for a in s.adjustments
                ],
            }
        )
    snap = {
        "period": period.code,
        "label": period.label,
        "computed_at": clock.now().isoformat(),
        "not_applicable": not_applicable,
        "groups": groups,
    }
    if summary is not None:
        snap["figures"] = frozen.summary_to_json(summary, trends)
    return snap


def live_snapshot(session: Session, plan: Plan, period: Period, today: date | None = None) -> dict:
    """The quarter scored from today's facts, with the figures used: what publishing freezes."""
    scores, summary = _compute(session, plan, period, today)
    trends = metrics.trends(session, summary.core, None, period.year)
    return to_snapshot(scores, period, summary, trends, not_applicable_policy(session))


@dataclass(frozen=True)
class Change:
    """A figure, score or rank that differs today from what the published quarter froze."""

    who: str
    what: str
    frozen: str
    live: str

    def __str__(self) -> str:
        return f"{self.who} {self.what} 冻结{self.frozen} / 现为{self.live}"


@dataclass(frozen=True)
class QuarterResults:
    """The quarter's scores, ranks and 两降两升 figures: the frozen snapshot once published, otherwise live.

    changes lists what differs today from a published quarter (shown only in the note 发布后数据有更新).
    """

    period: Period
    snapshot: dict
    publication: Publication | None
    summary: metrics.Summary
    trends: dict  # code -> (this year's monthly district figures, last year's)
    changes: list[Change] = field(default_factory=list)
    figures_frozen: bool = True  # False: published before the figures were kept, so they are today's

    @property
    def published(self) -> bool:
        return self.publication is not None

    @property
    def status_label(self) -> str:
        return "已发布" if self.published else "未发布"

    def row(self, unit_id: int) -> dict | None:
        """A unit's score row (rank, total, items and facts)."""
        return next((r for rows in self.snapshot["groups"].values() for r in rows if r["unit_id"] == unit_id), None)


def quarter_results(
    session: Session, plan: Plan, period: Period, *, today: date | None = None, changes: bool = True
) -> QuarterResults:
    """The only way to the quarter's scores and figures: published, the frozen snapshot (with what has changed
    since, when asked); not published, computed live (today: the day the facts are read as of)."""
    _assessment_period(period)
    pub = current_publication(session, period)
    if pub is None:
        snap = live_snapshot(session, plan, period, today)
        return QuarterResults(
            period, snap, None, frozen.summary_from_json(snap["figures"], period), _trends(snap["figures"])
        )
    snap = pub.snapshot
    if "figures" not in snap:  # published before the figures were kept: today's, trends included
        live = live_snapshot(session, plan, period)
        figures = live["figures"]
        summary = frozen.summary_from_json(figures, period)
        diff = _changes(snap, summary, live, summary) if changes else []
        return QuarterResults(period, snap, pub, summary, _trends(figures), diff, False)
    # the figures, ranks and the district's trend are read from the snapshot; only the note of what differs today
    # needs today's scores and figures, and neither the trend nor a JSON round trip of them
    summary = frozen.summary_from_json(snap["figures"], period)
    diff: list[Change] = []
    if changes:
        scores, live_summary = _compute(session, plan, period)
        diff = _changes(snap, summary, to_snapshot(scores, period), live_summary)
    return QuarterResults(period, snap, pub, summary, _trends(snap["figures"]), diff, True)


def _total_text(row: dict) -> str:
    return NO_SCORE if row["total"] is None else f"{row['total']}分"


def _rank_text(row: dict) -> str:
    return "不排名" if row["rank"] is None else f"第{row['rank']}名"


def _trends(figures: dict) -> dict:
    return frozen.trends_from_json(figures)


def _figure(ind, c) -> str:
    return "无数据" if c is None or c.value is None else metrics.fmt(c.value, ind.decimals)


def _changes(snap: dict, kept: metrics.Summary, live_snap: dict, live: metrics.Summary) -> list[Change]:
    """Scores, ranks and 两降两升 figures (this year's and last year's) that differ today from the frozen ones."""
    out: list[Change] = []
    now = {r["unit_id"]: r for rows in live_snap["groups"].values() for r in rows}
    for rows in snap["groups"].values():
        for r in rows:
            x = now.get(r["unit_id"])
            if x is None:
                continue
            if x["total"] != r["total"]:
                out.append(Change(r["unit"], "得分", _total_text(r), _total_text(x)))
            if x["rank"] != r["rank"]:
                out.append(Change(r["unit"], "排名", _rank_text(r), _rank_text(x)))
    live_units = {u.unit.id: u for u in live.units}
    pairs = [("全区", kept.district, live.district)] + [
        (u.unit.name, u.comparisons, live_units[u.unit.id].comparisons) for u in kept.units if u.unit.id in live_units
    ]
    for who, then, today in pairs:
        for ind in kept.indicators:
            if ind.code not in then:
                continue
            a, b = then.get(ind.code), today.get(ind.code)
            if _figure(ind, a) != _figure(ind, b):
                out.append(Change(who, ind.name, _figure(ind, a), _figure(ind, b)))
            a_last = None if a is None else a.last_year
            b_last = None if b is None else b.last_year
            if a_last != b_last:
                out.append(
                    Change(
                        who,
                        f"去年同期{ind.name}",
                        "无数据" if a_last is None else metrics.fmt(a_last, ind.decimals),
                        "无数据" if b_last is None else metrics.fmt(b_last, ind.decimals),
                    )
                )
    return out


def current_publication(session: Session, period: Period) -> Publication | None:
    """The newest publication row of the period when it is a publication (not a re-opening)."""
    pub = session.scalar(
        select(Publication).where(Publication.period == period.code).order_by(Publication.id.desc()).limit(1)
    )
    return pub if pub is not None and pub.status == "published" else None


def publication_history(session: Session, period: Period) -> list[Publication]:
    """Who published or re-opened the quarter, when and why (without the frozen scores)."""
    return list(
        session.scalars(
            select(Publication)
            .options(defer(Publication.snapshot), joinedload(Publication.actor))
            .where(Publication.period == period.code)
            .order_by(Publication.id)
        )
    )


def results(session: Session, plan: Plan, period: Period) -> tuple[dict, Publication | None]:
    """The snapshot of quarter_results (published: frozen; otherwise live) and the publication, if any."""
    r = quarter_results(session, plan, period, changes=False)
    return r.snapshot, r.publication


def _actor_id(actor) -> int | None:
    """The system actor (command line) is nobody: its rows name no user."""
    return None if getattr(actor, "is_system", False) else actor.id


def publish(session: Session, actor, plan: Plan, period: Period, reason: str = "") -> Publication:
    """Freeze the quarter's scores, rankings and the figures they used (reason: an optional note)."""
    policy.require(actor, "assessment.publish")
    _assessment_period(period)
    if current_publication(session, period) is not None:
        raise WorkflowError(f"{period.label}已发布,如需更正请先重新开放")
    if period.end >= clock.today():
        raise WorkflowError(f"{period.label}尚未结束,不能发布")
    snap = live_snapshot(session, plan, period)
    reason = (reason or "").strip()
    pub = Publication(
        period=period.code,
        status="published",
        at=clock.now(),
        actor_id=_actor_id(actor),
        reason=reason,
        snapshot=snap,
    )
    session.add(pub)
    record(
        session,
        actor,
        "assessment.publish",
        pub,
        after={"period": period.code, "reason": reason} if reason else {"period": period.code},
        summary=f"发布{period.label}考评结果" + (f":{reason}" if reason else ""),
    )
    session.flush()
    _restate_recommendations(session, actor, plan, period)
    return pub


def reopen(session: Session, actor, period: Period, reason: str, plan: Plan | None = None) -> Publication:
    """Re-open a published quarter; needs a reason. Scores are live again until published anew."""
    policy.require(actor, "assessment.publish")
    reason = (reason or "").strip()
    if len(reason) < 4:
        raise ValidationError("重新开放须填写理由(至少4个字)")
    pub = current_publication(session, period)
    if pub is None:
        raise WorkflowError(f"{period.label}尚未发布,无需重新开放")
    row = Publication(period=period.code, status="reopened", at=clock.now(), actor_id=_actor_id(actor), reason=reason)
    session.add(row)
    record(
        session,
        actor,
        "assessment.reopen",
        row,
        before={"published_id": pub.id},
        after={"reason": reason},
        summary=f"重新开放{period.label}考评:{reason}",
    )
    session.flush()
    if plan is not None:
        _restate_recommendations(session, actor, plan, period)
    return row


def _restate_recommendations(session: Session, actor, plan: Plan, period: Period) -> None:
    """Pending card recommendations already made for the quarter are re-stated from the scores now in force."""
    from . import cards  # cards reads the scores: imported here, not at the top

    cards.restate_pending(session, actor, plan, period)


def year_scores(session: Session, plan: Plan, year: int, today: date | None = None) -> dict:
    """The year's score per unit: the mean of its ended quarters (published ones as published)."""
    today = today or clock.today()
    quarters = [Period.quarter(year, n) for n in range(1, 5) if Period.quarter(year, n).end < today]
    per_unit: dict[int, dict] = {}
    for p in quarters:
        snap, _ = results(session, plan, p)
        for kind, rows in snap["groups"].items():
            for r in rows:
                u = per_unit.setdefault(r["unit_id"], {"unit": r["unit"], "kind": kind, "quarters": {}})
                if r["total"] is not None:  # a quarter without a score (无适用考核项) is left out of the mean
                    u["quarters"][p.code] = Decimal(r["total"])
    out = {k: [] for k in KIND_ORDER}
    for uid, u in per_unit.items():
        if not u["quarters"]:
            continue
        mean = q(sum(u["quarters"].values()) / len(u["quarters"]))
        out[u["kind"]].append(
            {
                "unit_id": uid,
                "unit": u["unit"],
                "mean": fmt(mean),
                "quarters": {k: fmt(v) for k, v in u["quarters"].items()},
            }
        )
    for rows in out.values():
        rows.sort(key=lambda r: -Decimal(r["mean"]))
        for i, r in enumerate(rows):
            r["rank"] = rows[i - 1]["rank"] if i and r["mean"] == rows[i - 1]["mean"] else i + 1
    return {"year": year, "quarters": [p.code for p in quarters], "groups": out}
