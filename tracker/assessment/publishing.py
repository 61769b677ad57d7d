"""Publishing a quarter's assessment (freezing its results) and re-opening it; pending card recommendations are
re-stated from the scores then in force."""

from __future__ import annotations

from sqlalchemy.orm import Session

from .. import clock, policy
from ..audit.service import hold_append_lock, record
from ..errors import ValidationError, WorkflowError
from ..periods import Period
from ..plans.models import Plan
from . import cards
from .models import Publication, PublicationStatus
from .results import current_publication, live_snapshot
from .scoring import check_quarter


def publish(session: Session, actor, plan: Plan, period: Period, reason: str = "") -> Publication:
    """Freeze the quarter's scores, rankings and the figures they used (reason: an optional note)."""
    policy.require(actor, "assessment.publish")
    check_quarter(period)
    if current_publication(session, period) is not None:
        raise WorkflowError(f"{period.label}已发布,如需更正请先重新开放")
    if period.end >= clock.today():
        raise WorkflowError(f"{period.label}尚未结束,不能发布")
    # the append lock first: a write the snapshot does not see then records its event after the publication's,
    # which is how pages know whether the frozen results may differ from today's (`since.written_since`)
    hold_append_lock(session)
    snap = live_snapshot(session, plan, period)
    reason = (reason or "").strip()
    pub = Publication(
        period=period.code,
        status=PublicationStatus.PUBLISHED,
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
    cards.restate_pending(session, actor, plan, period)
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
    row = Publication(
        period=period.code, status=PublicationStatus.REOPENED, at=clock.now(), actor_id=_actor_id(actor), reason=reason
    )
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
        cards.restate_pending(session, actor, plan, period)
    return row


def _actor_id(actor) -> int | None:
    """The system actor (command line) is nobody: its rows name no user."""
    return None if getattr(actor, "is_system", False) else actor.id
