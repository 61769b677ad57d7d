"""Demo cards and a published quarter, written through the services at fixed past times."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import clock
from ..meetings.models import Meeting
from ..org.models import KIND_TOWNSHIP, Unit
from ..periods import Period
from ..plans.models import Plan
from ..policy import ROLE_OFFICER
from . import cards, publishing


def _at(d: date, hour: int = 10) -> None:
    clock.freeze(datetime.combine(d, time(hour, 0), tzinfo=clock.CHINA_TZ))


def load(session: Session, plan: Plan, users: dict, today: date) -> dict:
    """A published quarter, active yellow cards (one overdue), a red card under rectification, a lifted card,
    and the escalation recommendation the overdue yellow card produces."""
    reviewer = users["reviewer"]
    officers = {u.unit_id: u for u in users.values() if u.role == ROLE_OFFICER}
    towns = list(session.scalars(select(Unit).where(Unit.kind == KIND_TOWNSHIP).order_by(Unit.sort_order)))
    quarter = Period.quarter_of(today.year, today.month).previous()
    try:
        _lifted_card(session, reviewer, officers[towns[5].id], towns[5], quarter, today)
        # the rules' findings for the last ended quarter, which is then published (a card on the ranking is issued
        # only once the ranks are public)
        _at(min(quarter.end + timedelta(days=5), today))
        cards.refresh_recommendations(session, reviewer, plan, quarter)
        publishing.publish(session, reviewer, plan, quarter)
        recs = {(r.unit_id, r.rule.kind): r for r in cards.pending(session, quarter)}
        issued = _recommended_cards(session, reviewer, officers, recs, today)
        _at(today)
        escalated = cards.escalate_overdue(session, reviewer, today)
    finally:
        clock.freeze(None)
    return {"cards": len(issued) + 1, "escalations": len(escalated), "published": quarter.code}


def _lifted_card(session: Session, reviewer, officer, town: Unit, quarter: Period, today: date) -> None:
    """A card raised by the reviewer months ago, rectified and lifted."""
    _at(today - timedelta(days=150))
    c = cards.issue_card(
        session,
        reviewer,
        unit_id=town.id,
        colour="yellow",
        period=quarter.previous().code,
        reason="反诈宣传进社区工作推进缓慢,重点人群宣传覆盖率偏低",
    )
    _rectify(session, c, officer, reviewer, today - timedelta(days=147), plan=True)
    _at(today - timedelta(days=125))
    cards.lift(session, reviewer, c.id, c.version, "整改方案落实到位,宣传覆盖已补齐,同意摘牌")


def _recommended_cards(session: Session, reviewer, officers: dict, recs: dict, today: date) -> dict:
    """The red card the rules recommend, at the last meeting, under rectification; two towns' yellow cards, one
    rectified and one whose plan waits past its deadline."""
    meeting = session.scalar(select(Meeting).where(Meeting.held_at.is_not(None)).order_by(Meeting.date.desc()).limit(1))
    red = _first(recs, "cases_surge")
    yellows = [r for (uid, kind), r in recs.items() if r.colour == "yellow" and (red is None or uid != red.unit_id)]
    issued = {}
    if red is not None:
        _at(today - timedelta(days=40))
        issued["red"] = cards.issue_recommended(
            session, reviewer, red.id, red.version, meeting_id=meeting.id if meeting else None
        )
        _rectify(session, issued["red"], officers[red.unit_id], reviewer, today - timedelta(days=37), plan=True)
        _rectify(session, issued["red"], officers[red.unit_id], reviewer, today - timedelta(days=10), plan=False)
    one_per_town = list({r.unit_id: r for r in reversed(yellows)}.values())
    for offset, r in zip((45, 10), one_per_town, strict=False):
        _at(today - timedelta(days=offset))
        card = cards.issue_recommended(session, reviewer, r.id, r.version)
        issued[f"yellow{offset}"] = card
        if offset == 45:
            _rectify(session, card, officers[r.unit_id], reviewer, today - timedelta(days=42), plan=True)
        else:
            _at(today - timedelta(days=8))
            cards.submit_rectification(
                session,
                officers[r.unit_id],
                card.id,
                "plan",
                "一、成立整改专班;二、每周分析发案;三、对重点村居开展入户宣传。",
            )
    return issued


def _first(recs: dict, kind: str):
    return next((r for (uid, k), r in recs.items() if k == kind), None)


def _rectify(session: Session, card, officer, reviewer, day: date, plan: bool) -> None:
    _at(day, 9)
    text = (
        "整改方案:一、主要负责同志牵头成立整改专班;二、对发案集中的村居逐一研判;三、每月报送整改进展。"
        if plan
        else "本月整改进展:完成重点村居入户宣传12次,发案环比下降。"
    )
    r = cards.submit_rectification(session, officer, card.id, "plan" if plan else "report", text)
    _at(day + timedelta(days=1), 15)
    cards.review_rectification(session, reviewer, r.id, r.version, "accept", "同意")
