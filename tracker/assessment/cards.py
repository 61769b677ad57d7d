"""Red and yellow cards: recommendations from the rules (card_rules.py), reviewers who decide, units that rectify,
lifting once its conditions hold (lifting.py), and escalation."""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, selectinload

from .. import clock, policy
from ..audit.service import record
from ..errors import NotFound, StaleEdit, ValidationError, WorkflowError
from ..meetings import service as meetings
from ..org.models import Unit
from ..periods import Period
from ..plans.models import Plan
from ..templating import cn_date
from .calendar import WorkCalendar
from .calendar import load as load_calendar
from .card_rules import evaluate, overdue_yellows
from .lifting import earliest_lifting, lift_conditions
from .models import (
    COLOUR_LABELS,
    Card,
    CardColour,
    CardRule,
    CardStatus,
    Recommendation,
    RecommendationStatus,
    Rectification,
    RectificationStatus,
)
from .results import current_publication

MAX_TEXT = 5000


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
    return list(session.scalars(_pending_query(period is not None), {"period": period.code} if period else None))


@cache
def _pending_query(of_period: bool):  # built once: built anew, SQLAlchemy works out its cache key on every call
    q = (
        select(Recommendation)
        .where(Recommendation.status == RecommendationStatus.PENDING)
        .options(selectinload(Recommendation.unit), selectinload(Recommendation.rule))
    )
    if of_period:
        q = q.where(Recommendation.period == bindparam("period"))
    return q.order_by(Recommendation.colour.desc(), Recommendation.unit_id)


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
        raise ValidationError(f"整改期限不能早于最早摘牌日{cn_date(earliest)}(挂牌期满之日)")


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
    """Recommendation id -> the active card it would duplicate (shown as 已在整改中 instead of a button), as
    `same_active_card` finds it, with the active cards of the recommendations' units and rules read at once."""
    ruled = [r for r in recs if r.rule is not None]
    if not ruled:
        return {}
    active: dict[tuple[int, int], list[Card]] = {}
    for card in session.scalars(
        select(Card)
        .where(
            Card.unit_id.in_({r.unit_id for r in ruled}),
            Card.rule_id.in_({r.rule.id for r in ruled}),
            Card.status == CardStatus.ACTIVE,
        )
        .order_by(Card.id)
    ):
        active.setdefault((card.unit_id, card.rule_id), []).append(card)
    found = {}
    for rec in ruled:
        figures = rec.figures or {}
        card = next((c for c in active.get((rec.unit_id, rec.rule.id), ()) if (c.figures or {}) == figures), None)
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
        _close_escalated(session, actor, escalated_from)
    record(session, actor, "card.issue", card, summary=f"向{unit.name}发出{COLOUR_LABELS[colour]}")
    return card


def _close_escalated(session: Session, actor, yellow: Card) -> None:
    """The yellow card a red one escalates closes as 升级为红牌."""
    before = yellow.snapshot()
    yellow.status, yellow.closed_at, yellow.closed_by_id = CardStatus.ESCALATED, clock.now(), actor.id
    yellow.close_note = "逾期未整改,升级为红牌"
    record(
        session, actor, "card.escalate", yellow, before=before, summary=f"{yellow.unit.name}黄牌#{yellow.id}升级为红牌"
    )


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
    if rec.status != RecommendationStatus.PENDING:
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
    period = Period.parse(rec.period)
    if current_publication(session, period) is None:
        raise WorkflowError(f"{period.label}考评结果尚未发布:依据考评排名的建议须在发布后发牌(排名发布前不对单位公开)")


def dismiss(session: Session, actor, rec_id: int, version: int, reason: str) -> Recommendation:
    """Set a recommendation aside, with the reason."""
    policy.require(actor, "card.decide")
    rec = _get_locked_recommendation(session, rec_id)
    _check_version(rec, version)
    if rec.status != RecommendationStatus.PENDING:
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
    if kind == "report" and not any(
        r.kind == "plan" and r.status == RectificationStatus.ACCEPTED for r in card.rectifications
    ):
        raise WorkflowError("整改方案通过审核后再报送整改报告")
    if kind == "plan" and any(
        r.kind == "plan" and r.status in (RectificationStatus.SUBMITTED, RectificationStatus.ACCEPTED)
        for r in card.rectifications
    ):
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
    if r.status != RectificationStatus.SUBMITTED:
        raise WorkflowError("该材料已审核")
    comment = _clean(comment, "审核意见", required=decision == "return")
    if decision not in ("accept", "return"):
        raise ValidationError("审核结论无效")
    before = r.snapshot()
    r.status = RectificationStatus.ACCEPTED if decision == "accept" else RectificationStatus.RETURNED
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
            reason=f"黄牌#{card.id}限{cn_date(card.deadline)}前整改,逾期未摘牌,建议升级为红牌(挂牌整治)",
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
    if (
        not any(r.kind == "plan" and r.status != RectificationStatus.RETURNED for r in card.rectifications)
        and today > card.plan_due
    ):
        return "overdue", "整改方案逾期"
    if (card.deadline - today).days <= 7:
        return "late", "临期"
    return ("red" if card.colour == "red" else "yellow"), "整改中"
