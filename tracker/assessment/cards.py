"""Red and yellow cards: rules that recommend, reviewers who decide, units that rectify, lifting and escalation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from .. import clock, policy
from ..audit.service import record
from ..errors import NotFound, StaleEdit, ValidationError, WorkflowError
from ..meetings import service as meetings
from ..metrics import service as metrics
from ..org.models import KIND_TOWNSHIP, Unit
from ..periods import Period
from ..plans.models import Plan
from ..plans.service import active_plan
from ..progress.service import timeliness
from .calendar import WorkCalendar, add_months
from .calendar import load as load_calendar
from .models import (
    COLOUR_LABELS,
    Card,
    CardColour,
    CardRule,
    CardStatus,
    Recommendation,
    RecommendationStatus,
    Rectification,
)
from .scheme import rules as all_rules

MAX_TEXT = 5000


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
            f"黄牌#{card.id}(限{_cn(card.deadline)}前整改)逾期未摘牌,整改不力",
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
                f"{u.name}于{_cn(issued)}已被黄牌警告(#{prior.id}),{months}个月内再次触发黄牌条件",
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


def _cn(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


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


# -- recommendations -----------------------------------------------------------


def refresh_recommendations(session: Session, actor, plan: Plan, period: Period) -> list[Recommendation]:
    """Store what the rules find for the quarter as pending recommendations; decided ones stay as they are,
    pending ones that no longer fire are withdrawn."""
    policy.require(actor, "card.decide")
    return _refresh(session, actor, plan, period)


def restate_pending(session: Session, actor, plan: Plan, period: Period) -> None:
    """A quarter just published or re-opened: if recommendations are pending for it, they are refreshed so that
    their reasons quote the scores and figures now in force."""
    if not pending(session, period):
        return
    _refresh(session, actor, plan, period)


def _refresh(session: Session, actor, plan: Plan, period: Period) -> list[Recommendation]:
    findings = evaluate(session, plan, period)
    existing = {
        (r.unit_id, r.rule_id): r
        for r in session.scalars(select(Recommendation).where(Recommendation.period == period.code))
    }
    fired = set()
    for f in findings:
        key = (f.unit.id, f.rule.id)
        fired.add(key)
        rec = existing.get(key)
        if rec is None:
            rec = Recommendation(
                period=period.code,
                unit=f.unit,
                rule=f.rule,
                colour=f.colour,
                reason=f.reason,
                figures=f.figures,
                escalates_card_id=f.escalates_card_id,
                created_at=clock.now(),
            )
            session.add(rec)
        elif rec.status == RecommendationStatus.PENDING:
            rec.reason, rec.figures = f.reason, f.figures
    for key, rec in existing.items():
        if key not in fired and rec.status == RecommendationStatus.PENDING:
            session.delete(rec)
    session.flush()
    record(
        session,
        actor,
        "card.recommend",
        object_type="Recommendation",
        after={"period": period.code, "fired": len(fired)},
        summary=f"研判{period.label}红黄牌建议{len(fired)}条",
    )
    return pending(session, period)


def pending(session: Session, period: Period | None = None) -> list[Recommendation]:
    q = (
        select(Recommendation)
        .where(Recommendation.status == RecommendationStatus.PENDING)
        .options(selectinload(Recommendation.unit), selectinload(Recommendation.rule))
    )
    if period is not None:
        q = q.where(Recommendation.period == period.code)
    return list(session.scalars(q.order_by(Recommendation.colour.desc(), Recommendation.unit_id)))


def _get(session: Session, model, ident: int, what: str):
    obj = session.get(model, ident)
    if obj is None:
        raise NotFound(f"{what}不存在")
    return obj


def _get_locked_recommendation(session: Session, rec_id: int) -> Recommendation:
    """The recommendation, its row locked (SELECT ... FOR UPDATE) before anything else is written.

    Issue and dismiss both take this lock first, so two reviewers deciding one recommendation at the same moment
    queue on it; without it one took the audit lock first and the other the row, and PostgreSQL broke the
    deadlock with an error page. SQLite serialises writers anyway and ignores FOR UPDATE.
    """
    # a statement rather than session.get, which would refuse a row whose version moved while it waited
    locked = select(Recommendation).where(Recommendation.id == rec_id).with_for_update()
    rec = session.scalars(locked.execution_options(populate_existing=True)).one_or_none()
    if rec is None:
        raise NotFound("建议不存在")
    return rec


def _check_version(obj, version) -> None:
    if version is None or obj.version != version:
        raise StaleEdit()


def _clean(text: str, label: str, required: bool = True) -> str:
    text = (text or "").strip()
    if required and not text:
        raise ValidationError(f"请填写{label}")
    if len(text) > MAX_TEXT:
        raise ValidationError(f"{label}不能超过{MAX_TEXT}字")
    return text


def earliest_lifting(effect: CardColour, issued: date) -> date:
    """The first day a card can be lifted: the issue day plus the colour's minimum listing (red: 3 months)."""
    return add_months(issued, effect.min_listed_months)


def deadlines(session: Session, colour: str, start: date, wc: WorkCalendar | None = None) -> tuple[date, date]:
    """(plan due, rectification deadline) of a card issued on `start`.

    The plan is due after N working days. The deadline is the colour's days later, but never before the earliest
    lifting day (a red card listed 3 months could otherwise never be lifted on time: 10 July + 91 days is 9
    October, the listing ends 10 October), moved on to a working day.
    """
    effect = session.get(CardColour, colour)
    wc = wc or load_calendar(session)
    plan_due = wc.add_working_days(start, effect.plan_working_days)
    deadline = max(start + timedelta(days=effect.rectify_days), earliest_lifting(effect, start))
    return plan_due, wc.on_or_after(deadline)


def _check_deadline(session: Session, colour: str, issued: date, deadline: date) -> None:
    earliest = earliest_lifting(session.get(CardColour, colour), issued)
    if deadline < earliest:
        raise ValidationError(f"整改期限不能早于最早摘牌日{_cn(earliest)}(挂牌期满之日)")


def same_active_card(session: Session, unit_id: int, rule: CardRule | None, figures: dict | None) -> Card | None:
    """An active card of the same rule for the same unit on the same figures: a second one would punish the unit
    twice for one fact. A reviewer's own card (no rule) is never a duplicate."""
    if rule is None:
        return None
    for card in session.scalars(
        select(Card).where(Card.unit_id == unit_id, Card.rule_id == rule.id, Card.status == CardStatus.ACTIVE)
    ):
        if (card.figures or {}) == (figures or {}):
            return card
    return None


def in_progress(session: Session, recs: list[Recommendation]) -> dict[int, Card]:
    """Recommendation id -> the active card it would duplicate (shown as 已在整改中 instead of a button)."""
    found = {}
    for rec in recs:
        card = same_active_card(session, rec.unit_id, rec.rule, rec.figures)
        if card is not None:
            found[rec.id] = card
    return found


def issue_card(
    session: Session,
    actor,
    *,
    unit_id: int,
    colour: str,
    reason: str,
    period: str,
    deadline: date | None = None,
    meeting_id: int | None = None,
    rule: CardRule | None = None,
    figures: dict | None = None,
    escalated_from: Card | None = None,
) -> Card:
    """Issue a card (recommended, or the reviewer's own with a reason)."""
    policy.require(actor, "card.decide")
    if colour not in COLOUR_LABELS:
        raise ValidationError("牌色无效")
    unit = _get(session, Unit, unit_id, "单位")
    same = same_active_card(session, unit.id, rule, figures)
    if same is not None:
        raise WorkflowError(
            f"{unit.name}已有依据同一规则、同一数据的{same.colour_label}(#{same.id})在整改中,不重复发牌"
        )
    p = Period.parse(period)
    reason = _clean(reason, "理由")
    today = clock.today()
    plan_due, default_deadline = deadlines(session, colour, today)
    if deadline is not None:
        if deadline <= today:
            raise ValidationError("整改期限须晚于今天")
        _check_deadline(session, colour, today, deadline)
    if meeting_id is not None:
        meetings.get_meeting(session, meeting_id)
    card = Card(
        unit=unit,
        colour=colour,
        rule=rule,
        period=p.code,
        reason=reason,
        figures=figures or {},
        issued_by_id=actor.id,
        issued_at=clock.now(),
        meeting_id=meeting_id,
        plan_due=plan_due,
        deadline=deadline or default_deadline,
        status=CardStatus.ACTIVE,
        escalated_from_id=escalated_from.id if escalated_from else None,
    )
    session.add(card)
    if escalated_from is not None:
        before = escalated_from.snapshot()
        escalated_from.status, escalated_from.closed_at, escalated_from.closed_by_id = (
            CardStatus.ESCALATED,
            clock.now(),
            actor.id,
        )
        escalated_from.close_note = "逾期未整改,升级为红牌"
        record(
            session,
            actor,
            "card.escalate",
            escalated_from,
            before=before,
            summary=f"{unit.name}黄牌#{escalated_from.id}升级为红牌",
        )
    record(session, actor, "card.issue", card, summary=f"向{unit.name}发出{COLOUR_LABELS[colour]}")
    return card


def issue_recommended(
    session: Session,
    actor,
    rec_id: int,
    version: int,
    *,
    reason: str | None = None,
    deadline: date | None = None,
    meeting_id: int | None = None,
) -> Card:
    """Issue the card a recommendation proposes, keeping its rule and figures."""
    rec = _get_locked_recommendation(session, rec_id)
    policy.require(actor, "card.decide")
    _check_version(rec, version)
    if rec.status != "pending":
        raise WorkflowError("该建议已处理")
    _check_rank_published(session, rec)
    escalated_from = rec.escalates
    if escalated_from is not None and escalated_from.status != CardStatus.ACTIVE:
        raise WorkflowError("原黄牌已摘牌或已升级,不能再升级")
    card = issue_card(
        session,
        actor,
        unit_id=rec.unit_id,
        colour=rec.colour,
        reason=reason or rec.reason,
        period=rec.period,
        deadline=deadline,
        meeting_id=meeting_id,
        rule=rec.rule,
        figures=rec.figures,
        escalated_from=escalated_from,
    )
    before = rec.snapshot()
    rec.status, rec.card, rec.decided_by_id, rec.decided_at = RecommendationStatus.ISSUED, card, actor.id, clock.now()
    record(session, actor, "recommendation.issue", rec, before=before, summary=f"采纳红黄牌建议#{rec.id}")
    return card


def _check_rank_published(session: Session, rec: Recommendation) -> None:
    """A card on the quarter's ranking names the unit's rank, which its officer may read only once the quarter is
    published (before, it is derived from other units' unpublished scores): it is issued after publication."""
    if rec.rule is None or rec.rule.kind != "rank_bottom":
        return
    from .scoring import current_publication  # scoring reads the cards: imported here, not at the top

    period = Period.parse(rec.period)
    if current_publication(session, period) is None:
        raise WorkflowError(f"{period.label}考评结果尚未发布:依据考评排名的建议须在发布后发牌(排名发布前不对单位公开)")


def dismiss(session: Session, actor, rec_id: int, version: int, reason: str) -> Recommendation:
    """Set a recommendation aside, with the reason."""
    policy.require(actor, "card.decide")
    rec = _get_locked_recommendation(session, rec_id)
    _check_version(rec, version)
    if rec.status != "pending":
        raise WorkflowError("该建议已处理")
    before = rec.snapshot()
    rec.status, rec.dismiss_reason = RecommendationStatus.DISMISSED, _clean(reason, "不予发牌的理由")
    rec.decided_by_id, rec.decided_at = actor.id, clock.now()
    record(
        session,
        actor,
        "recommendation.dismiss",
        rec,
        before=before,
        summary=f"不采纳对{rec.unit.name}的红黄牌建议:{rec.dismiss_reason}",
    )
    return rec


def edit_card(session: Session, actor, card_id: int, version: int, *, reason: str, deadline: date) -> Card:
    """Change an active card's reason or deadline."""
    policy.require(actor, "card.decide")
    card = _get(session, Card, card_id, "红黄牌")
    _check_version(card, version)
    if card.status != CardStatus.ACTIVE:
        raise WorkflowError("只能修改生效中的红黄牌")
    if deadline is None:
        raise ValidationError("请填写整改期限")
    _check_deadline(session, card.colour, clock.local(card.issued_at).date(), deadline)
    before = card.snapshot()
    card.reason, card.deadline = _clean(reason, "理由"), deadline
    record(
        session, actor, "card.edit", card, before=before, summary=f"修改{card.unit.name}{card.colour_label}#{card.id}"
    )
    return card


def submit_rectification(session: Session, actor, card_id: int, kind: str, text: str) -> Rectification:
    """The carded unit files its rectification plan or a rectification report."""
    card = _get(session, Card, card_id, "红黄牌")
    policy.require(actor, "card.rectify", card)
    if card.status != CardStatus.ACTIVE:
        raise WorkflowError("该红黄牌已摘牌或已升级,无需再报送")
    if kind not in ("plan", "report"):
        raise ValidationError("报送类型无效")
    if kind == "report" and not any(r.kind == "plan" and r.status == "accepted" for r in card.rectifications):
        raise WorkflowError("整改方案通过审核后再报送整改报告")
    if kind == "plan" and any(r.kind == "plan" and r.status in ("submitted", "accepted") for r in card.rectifications):
        raise WorkflowError("整改方案已报送")
    r = Rectification(
        card=card, kind=kind, text=_clean(text, "整改内容"), submitted_by_id=actor.id, submitted_at=clock.now()
    )
    session.add(r)
    record(
        session,
        actor,
        f"rectification.{kind}",
        r,
        summary=f"{card.unit.name}报送{'整改方案' if kind == 'plan' else '整改报告'}(#{card.id})",
    )
    return r


def review_rectification(
    session: Session, actor, rect_id: int, version: int, decision: str, comment: str = ""
) -> Rectification:
    """The reviewer accepts a rectification plan or report, or returns it with a comment."""
    policy.require(actor, "card.decide")
    r = _get(session, Rectification, rect_id, "整改材料")
    _check_version(r, version)
    if r.status != "submitted":
        raise WorkflowError("该材料已审核")
    comment = _clean(comment, "审核意见", required=decision == "return")
    if decision not in ("accept", "return"):
        raise ValidationError("审核结论无效")
    before = r.snapshot()
    r.status = "accepted" if decision == "accept" else "returned"
    r.review_comment, r.reviewed_by_id, r.reviewed_at = comment, actor.id, clock.now()
    record(
        session,
        actor,
        f"rectification.{decision}",
        r,
        before=before,
        summary=f"{'认可' if decision == 'accept' else '退回'}{r.card.unit.name}{r.kind_label}",
    )
    return r


@dataclass(frozen=True)
class Condition:
    label: str
    ok: bool
    detail: str


def lift_conditions(session: Session, card: Card, today: date | None = None) -> list[Condition]:
    """What must hold before the card can be lifted (摘牌), each with what the facts say."""
    today = today or clock.today()
    rects = card.rectifications
    plan_ok = any(r.kind == "plan" and r.status == "accepted" for r in rects)
    pending_items = [r for r in rects if r.status == "submitted"]
    conds = [Condition("整改方案已审核认可", plan_ok, "已认可" if plan_ok else "尚无认可的整改方案")]
    if card.colour == "yellow":
        conds.append(_figure_back(session, card, today))
    else:
        effect = session.get(CardColour, "red")
        listed = clock.local(card.issued_at).date()
        ready = earliest_lifting(effect, listed)
        conds.append(
            Condition(f"挂牌满{effect.min_listed_months}个月", today >= ready, f"{_cn(listed)}挂牌,{_cn(ready)}期满")
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
        (r for r in card.rectifications if r.kind == "report" and r.status != "returned"),
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


def lift(session: Session, actor, card_id: int, version: int, note: str) -> Card:
    """Lift (摘牌) a card whose lifting conditions all hold; the reviewer's note is the sign-off."""
    policy.require(actor, "card.decide")
    card = _get(session, Card, card_id, "红黄牌")
    _check_version(card, version)
    if card.status != CardStatus.ACTIVE:
        raise WorkflowError("该红黄牌不在生效状态")
    unmet = [c for c in lift_conditions(session, card) if not c.ok]
    if unmet:
        raise WorkflowError("尚不具备摘牌条件:" + ";".join(f"{c.label}({c.detail})" for c in unmet))
    before = card.snapshot()
    card.status, card.closed_at, card.closed_by_id = CardStatus.LIFTED, clock.now(), actor.id
    card.close_note = _clean(note, "摘牌意见")
    record(
        session, actor, "card.lift", card, before=before, summary=f"{card.unit.name}{card.colour_label}#{card.id}摘牌"
    )
    return card


def escalate_overdue(session: Session, actor, today: date | None = None) -> list[Recommendation]:
    """Turn every yellow card past its deadline into a red-card recommendation (once per card)."""
    today = today or clock.today()
    rule = session.scalar(select(CardRule).where(CardRule.kind == "yellow_not_lifted", CardRule.is_active.is_(True)))
    if rule is None:
        return []
    period = Period.quarter_of(today.year, today.month)
    made = []
    for card in overdue_yellows(session, today):
        exists = session.scalar(select(Recommendation.id).where(Recommendation.escalates_card_id == card.id))
        if exists:
            continue
        rec = Recommendation(
            period=period.code,
            unit=card.unit,
            rule=rule,
            colour="red",
            reason=f"黄牌#{card.id}限{_cn(card.deadline)}前整改,逾期未摘牌,建议升级为红牌(挂牌整治)",
            figures={"card_id": card.id, "deadline": str(card.deadline), "checked": str(today)},
            escalates_card_id=card.id,
            created_at=clock.now(),
        )
        if session.scalar(
            select(Recommendation.id).where(
                Recommendation.period == period.code,
                Recommendation.unit_id == card.unit_id,
                Recommendation.rule_id == rule.id,
            )
        ):
            continue
        session.add(rec)
        made.append(rec)
    if made:
        session.flush()
        record(
            session,
            actor,
            "card.escalate_check",
            object_type="Recommendation",
            after={"recommendations": [r.id for r in made], "today": str(today)},
            summary=f"逾期黄牌升级建议{len(made)}条",
        )
    return made


def card_state(card: Card, today: date | None = None) -> tuple[str, str]:
    """(css state, label) for display."""
    today = today or clock.today()
    if card.status == CardStatus.LIFTED:
        return "accepted", "已摘牌"
    if card.status == CardStatus.ESCALATED:
        return "not_due", "已升级为红牌"
    if today > card.deadline:
        return "overdue", "逾期未整改"
    if not any(r.kind == "plan" and r.status != "returned" for r in card.rectifications) and today > card.plan_due:
        return "overdue", "整改方案逾期"
    if (card.deadline - today).days <= 7:
        return "late", "临期"
    return ("red" if card.colour == "red" else "yellow"), "整改中"


def board(session: Session, unit_id: int | None = None) -> dict:
    """Active cards by colour and deadline, and the history."""
    q = select(Card).options(selectinload(Card.rule), selectinload(Card.rectifications))
    if unit_id:
        q = q.where(Card.unit_id == unit_id)  # one unit: the caller has it already
    else:
        q = q.options(selectinload(Card.unit))
    cards = list(session.scalars(q.order_by(Card.deadline)))
    active = [c for c in cards if c.status == CardStatus.ACTIVE]
    wc = load_calendar(session)
    monthly = {c.id: monthly_reports(session, c, wc=wc) for c in active if c.colour == "red"}
    return {
        "monthly": monthly,
        "red": [c for c in active if c.colour == "red"],
        "yellow": [c for c in active if c.colour == "yellow"],
        "history": sorted([c for c in cards if c.status != CardStatus.ACTIVE], key=lambda c: c.closed_at, reverse=True),
    }
