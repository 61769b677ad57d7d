"""A quarter's results as read: the snapshot a publication freezes, the published or live results every page and
document reads, what changed since publication, the publications of a quarter, and the year's scores."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cache

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, defer, joinedload

from .. import clock
from ..metrics import frozen
from ..metrics import service as metrics
from ..periods import Period
from ..plans.models import Plan
from .models import EVENTS, FORMULAS, Publication, PublicationStatus
from .note_memo import note_of_changes
from .scheme import not_applicable_policy
from .scoring import KIND_ORDER, NO_SCORE, UnitScore, check_quarter, compute_with_summary, fmt, q

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


def _score_json(s: UnitScore) -> dict:
    """One unit's score as the snapshot keeps it: total, items with their facts, deductions and bonuses."""
    return {
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
        groups[s.unit.kind].append(_score_json(s))
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


def live_snapshot(
    session: Session,
    plan: Plan,
    period: Period,
    today: date | None = None,
    plan_duties: list | None = None,
    decisions: dict | None = None,
) -> dict:
    """The quarter scored from today's facts, with the figures used: what publishing freezes."""
    scores, summary = compute_with_summary(session, plan, period, today, plan_duties, decisions=decisions)
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
    session: Session,
    plan: Plan,
    period: Period,
    *,
    today: date | None = None,
    changes: bool = True,
    plan_duties: list | None = None,
    decisions: dict | None = None,
) -> QuarterResults:
    """The only way to the quarter's scores and figures: published, the frozen snapshot (with what has changed
    since, when asked); not published, computed live (today: the day the facts are read as of; plan_duties: the
    plan's `counting_duties`, and decisions: the quarter's `meetings.decision_facts` as of the same day, when the
    caller has read them already)."""
    check_quarter(period)
    pub = current_publication(session, period)
    if pub is None:
        snap = live_snapshot(session, plan, period, today, plan_duties, decisions)
        return QuarterResults(
            period, snap, None, frozen.summary_from_json(snap["figures"], period), _trends(snap["figures"])
        )
    snap = pub.snapshot
    if "figures" not in snap:  # published before the figures were kept: today's, trends included
        live = live_snapshot(session, plan, period, plan_duties=plan_duties, decisions=decisions)
        figures = live["figures"]
        summary = frozen.summary_from_json(figures, period)
        diff = _changes(snap, summary, _rows_by_unit(live), summary) if changes else []
        return QuarterResults(period, snap, pub, summary, _trends(figures), diff, False)
    # the figures, ranks and the district's trend are read from the snapshot; only the note of what differs today
    # needs today's scores and figures, and neither the trend nor a JSON round trip of them
    summary = frozen.summary_from_json(snap["figures"], period)
    diff: list[Change] = []
    if changes:

        def write() -> list[Change]:
            # the note compares totals and ranks: the items' facts are not built
            scores, live_summary = compute_with_summary(
                session, plan, period, plan_duties=plan_duties, facts=False, decisions=decisions
            )
            return _changes(snap, summary, _totals_and_ranks(scores), live_summary)

        # kept between requests until a write may change it (`note_memo`)
        diff = note_of_changes(session, pub, period, plan.id, write)
    return QuarterResults(period, snap, pub, summary, _trends(snap["figures"]), diff, True)


def _total_text(row: dict) -> str:
    return NO_SCORE if row["total"] is None else f"{row['total']}分"


def _rank_text(row: dict) -> str:
    return "不排名" if row["rank"] is None else f"第{row['rank']}名"


def _trends(figures: dict) -> dict:
    return frozen.trends_from_json(figures)


def _figure(ind, c) -> str:
    return "无数据" if c is None or c.value is None else metrics.fmt(c.value, ind.decimals)


def _rows_by_unit(snap: dict) -> dict[int, dict]:
    return {r["unit_id"]: r for rows in snap["groups"].values() for r in rows}


def _totals_and_ranks(scores: list[UnitScore]) -> dict[int, dict]:
    """Each unit's total and rank as a snapshot's row holds them: all the note of changes compares, without
    building the rows' items and facts."""
    return {s.unit.id: {"total": _fmt_or_none(s.total), "rank": s.rank} for s in scores}


def _changes(snap: dict, kept: metrics.Summary, now: dict[int, dict], live: metrics.Summary) -> list[Change]:
    """Scores, ranks and 两降两升 figures (this year's and last year's) that differ today from the frozen ones
    (now: today's total and rank per unit id)."""
    out: list[Change] = []
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
    pub = session.scalar(_publication_query(), {"period": period.code})
    return pub if pub is not None and pub.status == PublicationStatus.PUBLISHED else None


@cache
def _publication_query():
    """`current_publication`'s statement, built once (every page of a quarter's results reads it)."""
    return select(Publication).where(Publication.period == bindparam("period")).order_by(Publication.id.desc()).limit(1)


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
