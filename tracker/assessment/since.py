"""Whether anything a published quarter's scores and 两降两升 figures read has been written since its publication.

The note 发布后数据有更新 compares today's scores and figures with the frozen ones; computing today's means scoring
the quarter live. Every write records an audit event, and publishing appends its own event while holding the
chain's append lock from before it reads the facts (`publishing.publish`), so a write the snapshot did not see has
an event after the publication's. The quarter's inputs can only have changed if one of those later events can
touch them:

- events that write nothing the scores or figures read (exports, users, notifications, attachments, card
  recommendations, holidays, card rules, meetings as such, publicity, other quarters' publications) never do;
- a report's event does only for a report of one of the quarter's months, a figure save or import only for a
  month up to the quarter's end (the comparisons read the quarter, the quarter before and last year's), a
  decision's only for a decision due in the quarter, a card's or rectification's only for a card issued by the
  quarter's end (the ones the rectification item counts);
- every other event (units, the plan, the scheme, indicators, the publicity register's figures, anything new)
  is taken as a change.

Scores read no clock once the quarter has ended (publishing needs that): report states, decisions and cards are
judged as of dates inside the quarter, so without such an event today's results are the frozen ones.
"""

from __future__ import annotations

from functools import cache

from sqlalchemy import and_, bindparam, exists, func, not_, or_, select
from sqlalchemy.orm import Session

from .. import clock
from ..audit.models import AuditEvent
from ..meetings.models import Decision
from ..periods import Period
from ..progress.models import ProgressReport
from .models import Card, Publication, Rectification

# events that write nothing a quarter's scores or figures read ("export." events: every list's export)
HARMLESS = frozenset(
    {
        "audit.chain_keyed",
        "assessment.publish",
        "assessment.reopen",
        "user.create",
        "user.update",
        "user.reset_password",
        "user.change_password",
        "user.logout",
        "channel.create",
        "channel.update",
        "channel.delete",
        "notify.run",
        "delivery.failed",
        "delivery.retry",
        "report.urge",
        "urge.read",
        "evidence.add",
        "evidence.remove",
        "briefing.archive",
        "documents.numbering",
        "card.recommend",
        "card.escalate_check",
        "recommendation.issue",  # the card it issues has its own card.issue event
        "recommendation.dismiss",
        "card_rule.update",
        "holiday.import",
        "holiday.add",
        "holiday.remove",
        "holiday.year",
        "holiday.year_undo",
        "meeting.schedule",
        "meeting.update",
        "meeting.hold",
        "creation.declare",
        "creation.update",
        "creation.inspected",
        "creation.named",
        "publicity.options",
        "publicity.communities",
        "activity.create",  # the figures it changes are written (and recorded) as metrics.register
        "activity.update",
        "activity.delete",
        "activity.import",
    }
)
REPORT_WRITES = ("report.save", "report.submit", "report.accept", "report.return")
FIGURE_WRITES = ("metrics.save", "metrics.correct", "metrics.import")
DECISION_WRITES = ("decision.create", "decision.answer", "decision.close", "decision.return")
CARD_WRITES = ("card.issue", "card.escalate", "card.edit", "card.lift")
RECTIFICATION_WRITES = ("rectification.plan", "rectification.report", "rectification.accept", "rectification.return")


def publication_event_id(session: Session, pub: Publication) -> int | None:
    return session.scalar(_publication_event(), {"publication_id": pub.id})


@cache
def _publication_event():
    """The publication's event, built once (the publication's id a parameter)."""
    return select(AuditEvent.id).where(
        AuditEvent.action == "assessment.publish",
        AuditEvent.object_type == "Publication",
        AuditEvent.object_id == bindparam("publication_id"),
    )


def _outside():
    """An event whose object lies outside what the quarter's scores and figures read (never NULL); the quarter's
    months, first and last day, last month (YYYYMM) and last instant are the parameters of `_SINCE`."""
    e = AuditEvent
    issued_after = Card.issued_at > bindparam("period_end_utc")
    return or_(
        and_(
            e.action.in_(REPORT_WRITES),
            e.object_type == "ProgressReport",
            exists().where(
                ProgressReport.id == e.object_id,
                ProgressReport.period.not_in(bindparam("month_codes", expanding=True)),
            ),
        ),
        and_(
            e.action.in_(FIGURE_WRITES),
            e.object_type == "MetricMonth",
            func.coalesce(e.object_id, 0) > bindparam("last_month"),
        ),
        and_(
            e.action.in_(DECISION_WRITES),
            e.object_type == "Decision",
            exists().where(
                Decision.id == e.object_id,
                or_(Decision.deadline < bindparam("period_start"), Decision.deadline > bindparam("period_end")),
            ),
        ),
        and_(
            e.action.in_(CARD_WRITES),
            e.object_type == "Card",
            exists().where(Card.id == e.object_id, issued_after),
        ),
        and_(
            e.action.in_(RECTIFICATION_WRITES),
            e.object_type == "Rectification",
            exists().where(Rectification.id == e.object_id, Rectification.card_id == Card.id, issued_after),
        ),
    )


@cache
def _since():
    """The first event after the publication's (`since`) that may touch the quarter: built once, with the quarter
    as parameters, so a page does not build and key this statement anew (SQLAlchemy keeps its cache key)."""
    e = AuditEvent
    return (
        select(e.id)
        .where(
            e.id > bindparam("since"),
            e.action.not_in(HARMLESS),
            not_(e.action.like("export.%")),
            not_(_outside()),
        )
        .limit(1)
    )


def written_since(session: Session, pub: Publication, period: Period) -> bool:
    """Whether an event after the publication's may have changed the quarter's scores or figures (one statement,
    two with the publication's event). True when the publication's event cannot be found."""
    since = publication_event_id(session, pub)
    return since is None or relevant_after(session, since, period)


def relevant_after(session: Session, event_id: int, period: Period) -> bool:
    """Whether an event after `event_id` may have changed the quarter's scores or figures (one statement)."""
    params = {
        "since": event_id,
        "month_codes": [m.code for m in period.months()],
        "last_month": period.end.year * 100 + period.end.month,  # figure events name their month as YYYYMM
        "period_start": period.start,
        "period_end": period.end,
        "period_end_utc": clock.end_of_day_utc(period.end),
    }
    return session.scalar(_since(), params) is not None
