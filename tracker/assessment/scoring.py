"""Quarterly scores from the facts, with a breakdown for every point; publishing freezes them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, defer, joinedload

from .. import clock
from ..audit.service import record
from ..auth import policy
from ..errors import ValidationError, WorkflowError
from ..meetings import service as meetings
from ..metrics import frozen
from ..metrics import service as metrics
from ..org.models import KIND_DEPARTMENT, KIND_TOWNSHIP, Unit
from ..periods import Period
from ..plans.models import Plan
from ..progress.service import timeliness
from .models import EVENTS, FORMULAS, Card, Publication
from .scheme import adjustments, items

Q = Decimal("0.01")
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
    code: str
    name: str
    formula: str
    weight: Decimal
    points: Decimal
    facts: list[Fact] = field(default_factory=list)
    note: str = ""


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
    unit: Unit
    items: list[ItemScore]
    adjustments: list[AdjustmentScore]
    rank: int = 0

    @property
    def max(self) -> Decimal:
        return sum((i.weight for i in self.items), Decimal(0))

    @property
    def total(self) -> Decimal:
        raw = sum((i.points for i in self.items), Decimal(0)) + sum((a.points for a in self.adjustments), Decimal(0))
        return q(max(raw, Decimal(0)))


def _assessment_period(period: Period) -> None:
    if period.kind != "quarter":
        raise ValidationError("考评按季度计分,请选择季度(如 2026-Q3)")


def _share_points(weight: Decimal, num: int, den: int) -> Decimal:
    if den == 0:
        return weight
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
        )
        scored = [_score_item(session, it, ctx) for it in scheme_items if it.weight_for(unit.kind) > 0]
        adjusted = [_adjust(a, ctx) for a in adjs if a.applies_to(unit.kind)]
        out.append(UnitScore(unit, scored, [a for a in adjusted if a.count]))
    for kind in KIND_ORDER:
        _rank([s for s in out if s.unit.kind == kind])
    return out, summary


def _rank(scores: list[UnitScore]) -> None:
    """Competition ranking: equal totals share a rank (1, 1, 3)."""
    scores.sort(key=lambda s: (-s.total, s.unit.sort_order, s.unit.id))
    for i, s in enumerate(scores):
        s.rank = scores[i - 1].rank if i and s.total == scores[i - 1].total else i + 1


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


def _score_item(session: Session, it, ctx: _UnitContext) -> ItemScore:
    weight = it.weight_for(ctx.unit.kind)
    return _FORMULAS[it.formula](session, it, ctx, q(weight))


def _metric_yoy(session, it, ctx: _UnitContext, weight: Decimal) -> ItemScore:
    codes = it.params.get("indicators", [])
    facts, score = [], Decimal(0)
    comps = ctx.metrics.comparisons if ctx.metrics else {}
    for code in codes:
        c = comps.get(code)
        ind = ctx.summary.indicator(code)
        name = ind.name if ind else code
        if c is None or c.improved is None:
            score += Decimal("0.5")
            facts.append(
                Fact(
                    f"{name}", "无同期数据,按一半计", _link("metrics.town", unit_id=ctx.unit.id, period=ctx.period.code)
                )
            )
            continue
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
                _link("metrics.town", unit_id=ctx.unit.id, period=ctx.period.code),
            )
        )
    points = _share_points(weight, 0, 0) if not codes else q(weight * score / Decimal(len(codes)))
    return ItemScore(
        it.code, it.name, it.formula, weight, points, facts, f"{len(codes)}项指标中向好{score}项,按比例计分"
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
        return ItemScore(
            it.code, it.name, it.formula, weight, weight, [Fact("应报", "0 份", link)], "本期无应报报告,按满分计"
        )
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
        return ItemScore(
            it.code,
            it.name,
            it.formula,
            weight,
            weight,
            [Fact("到期督办事项", "0 项", link)],
            "本期无到期督办事项,按满分计",
        )
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
    if card.status == "lifted":
        return clock.local(card.closed_at).date() <= card.deadline
    if card.status == "escalated" or as_of > card.deadline:
        return False
    plan_in = any(r.kind == "plan" and r.status != "returned" for r in card.rectifications)
    return plan_in or as_of <= card.plan_due


def _rectification(session, it, ctx: _UnitContext, weight: Decimal) -> ItemScore:
    relevant = [
        c
        for c in ctx.cards
        if c.status == "active" or (c.closed_at and clock.local(c.closed_at).date() >= ctx.period.start)
    ]
    if not relevant:
        return ItemScore(it.code, it.name, it.formula, weight, weight, [Fact("红黄牌", "无")], "本期无红黄牌,按满分计")
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
        return ItemScore(
            it.code, it.name, it.formula, weight, weight if n == 1 else q(0), [Fact("排名", "无排名")], "无排名数据"
        )
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


def to_snapshot(
    scores: list[UnitScore], period: Period, summary: metrics.Summary | None = None, trends: dict | None = None
) -> dict:
    """A JSON form of the scores: what a published period keeps, and what pages render.

    With the summary, "figures" keeps the 两降两升 figures the scores used (district and every town, with ranks)
    and the district's monthly figures of the year (trends: code -> (this year, last year)).
    """
    groups: dict[str, list] = {k: [] for k in KIND_ORDER}
    for s in sorted(scores, key=lambda s: (s.rank, s.unit.sort_order)):
        groups[s.unit.kind].append(
            {
                "unit_id": s.unit.id,
                "unit": s.unit.name,
                "kind": s.unit.kind,
                "rank": s.rank,
                "total": fmt(s.total),
                "max": fmt(s.max),
                "items": [
                    {
                        "code": i.code,
                        "name": i.name,
                        "formula": i.formula,
                        "formula_label": FORMULAS[i.formula],
                        "weight": fmt(i.weight),
                        "points": fmt(i.points),
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
    snap = {"period": period.code, "label": period.label, "computed_at": clock.now().isoformat(), "groups": groups}
    if summary is not None:
        snap["figures"] = frozen.summary_to_json(summary, trends)
    return snap


def live_snapshot(session: Session, plan: Plan, period: Period, today: date | None = None) -> dict:
    """The quarter scored from today's facts, with the figures used: what publishing freezes."""
    scores, summary = _compute(session, plan, period, today)
    return to_snapshot(scores, period, summary, metrics.trends(session, summary.core, None, period.year))


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
    live = live_snapshot(session, plan, period) if changes or "figures" not in snap else None
    figures = snap.get("figures") or live["figures"]
    summary = frozen.summary_from_json(figures, period)
    diff = _changes(snap, summary, live, frozen.summary_from_json(live["figures"], period)) if changes else []
    return QuarterResults(period, snap, pub, summary, _trends(figures), diff, "figures" in snap)


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
                out.append(Change(r["unit"], "得分", f"{r['total']}分", f"{x['total']}分"))
            if x["rank"] != r["rank"]:
                out.append(Change(r["unit"], "排名", f"第{r['rank']}名", f"第{x['rank']}名"))
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
                u["quarters"][p.code] = Decimal(r["total"])
    out = {k: [] for k in KIND_ORDER}
    for uid, u in per_unit.items():
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
