"""The one place that decides whether a user may do something to something.

Every view, template and service asks `can` or `require`; nothing else compares roles.
"""

from __future__ import annotations

from collections.abc import Callable

from .errors import PermissionDenied

# the roles a user can hold (users.role); auth.models names them for the forms
ROLE_ADMIN = "admin"
ROLE_REVIEWER = "reviewer"
ROLE_OFFICER = "officer"


def _is(role: str) -> Callable:
    return lambda user, obj=None: user.role == role


def _any_of(*roles: str) -> Callable:
    return lambda user, obj=None: user.role in roles


def _own_unit(user, obj) -> bool:
    """True when obj (a unit id, a Unit, or anything with unit_id) belongs to the user's unit."""
    if obj is None or user.unit_id is None:
        return False
    if isinstance(obj, int):
        return obj == user.unit_id
    unit_id = getattr(obj, "unit_id", None)
    if unit_id is None and obj.__class__.__name__ == "Unit":
        unit_id = obj.id
    return unit_id == user.unit_id


def _officer_of(user, obj) -> bool:
    return user.role == ROLE_OFFICER and _own_unit(user, obj)


def _view_unit_data(user, obj) -> bool:
    return user.role in (ROLE_ADMIN, ROLE_REVIEWER) or _own_unit(user, obj)


def _enters_metric(user, target) -> bool:
    """target: an entry cell (indicator, unit_id). The officer of the indicator's owning unit; for an indicator
    every town enters itself (no owner), the town's own officer for its own row. Command-line imports run as the
    system actor."""
    if getattr(user, "is_system", False):
        return True
    if target is None or user.role != ROLE_OFFICER or user.unit_id is None:
        return False
    owner = getattr(target.indicator, "owner_unit_id", None)
    if owner is not None:
        return owner == user.unit_id
    return target.unit_id is not None and target.unit_id == user.unit_id


def _sees_meeting(user, meeting=None) -> bool:
    """Staff see every meeting; an officer those its unit attends or leads a decision of (None: the list page)."""
    if user.role in (ROLE_ADMIN, ROLE_REVIEWER):
        return True
    if user.unit_id is None:
        return False
    if meeting is None:
        return True
    return any(u.id == user.unit_id for u in meeting.units) or any(
        d.lead_unit_id == user.unit_id for d in meeting.decisions
    )


def _sees_decision(user, decision=None) -> bool:
    """Staff see every supervised item; an officer those its unit leads or supports (None: the list page)."""
    if user.role in (ROLE_ADMIN, ROLE_REVIEWER):
        return True
    if user.unit_id is None:
        return False
    if decision is None:
        return True
    return decision.lead_unit_id == user.unit_id or any(u.id == user.unit_id for u in decision.supporting_units)


def _sees_ranks(user, quarter=None) -> bool:
    """A quarter's assessment ranks (quarter: its results, or whether it is published). Before publication a rank
    is read from other units' unpublished scores: staff only; an officer sees the unit's own score alone."""
    published = getattr(quarter, "published", quarter)
    return bool(published) or user.role in (ROLE_ADMIN, ROLE_REVIEWER)


def _answers_decision(user, decision) -> bool:
    """Only the lead unit's officer reports back on a supervised item."""
    return user.role == ROLE_OFFICER and decision is not None and decision.lead_unit_id == user.unit_id


def _records_for(user, obj) -> bool:
    """An officer for the officer's own unit (obj: the record, or a unit id); the system actor (a command-line
    import) for any unit."""
    return getattr(user, "is_system", False) or _officer_of(user, obj)


RULES: dict[str, Callable] = {
    # reading
    "plan.view": lambda user, obj=None: True,
    "dashboard.view": _any_of(ROLE_ADMIN, ROLE_REVIEWER),
    "todo.view": lambda user, obj=None: user.role == ROLE_OFFICER and user.unit_id is not None,
    "report.view": _view_unit_data,  # obj: report, or a unit id
    "report.list_all": _any_of(ROLE_ADMIN, ROLE_REVIEWER),
    "audit.view": _any_of(ROLE_ADMIN, ROLE_REVIEWER),
    "unit.view": _view_unit_data,  # obj: unit
    # writing
    "report.write": _officer_of,  # obj: report, or a unit id for a new report
    "report.review": _is(ROLE_REVIEWER),
    "report.urge": _is(ROLE_REVIEWER),
    "user.manage": _is(ROLE_ADMIN),
    "unit.manage": _is(ROLE_ADMIN),
    "plan.manage": _is(ROLE_ADMIN),
    # assessment and cards
    "assessment.view": lambda user, obj=None: True,
    "assessment.view_all": _any_of(ROLE_ADMIN, ROLE_REVIEWER),
    "assessment.view_ranks": _sees_ranks,  # obj: the quarter's results (QuarterResults) or its published flag
    # the system actor: `flask assess publish/reopen` on the server's command line
    "assessment.publish": lambda user, obj=None: user.role == ROLE_REVIEWER or getattr(user, "is_system", False),
    "scheme.view": _any_of(ROLE_ADMIN, ROLE_REVIEWER),
    "scheme.manage": _is(ROLE_ADMIN),
    "calendar.manage": _is(ROLE_ADMIN),  # the holiday calendar
    "card.view": lambda user, obj=None: (
        user.role in (ROLE_ADMIN, ROLE_REVIEWER) or (user.unit_id is not None and (obj is None or _own_unit(user, obj)))
    ),
    "card.view_all": _any_of(ROLE_ADMIN, ROLE_REVIEWER),
    "card.decide": _is(ROLE_REVIEWER),
    "card.rectify": _officer_of,  # obj: card
    # reports
    "reports.view": _any_of(ROLE_ADMIN, ROLE_REVIEWER),
    "reports.scorecard": _view_unit_data,  # obj: unit
    "documents.manage": _is(ROLE_ADMIN),  # the 发文字号 prefix, next number and 抄送 line
    # 两降两升 figures
    "metrics.view": lambda user, obj=None: True,  # figures and rankings are circulated to every unit
    "metrics.enter": _enters_metric,  # obj: an entry cell (indicator, unit id or None for the district)
    "metrics.correct": _is(ROLE_REVIEWER),  # any cell, with a reason
    "indicator.manage": _is(ROLE_ADMIN),
    # joint meetings and supervised items
    "meeting.view": _sees_meeting,  # obj: meeting, or None for the list
    "meeting.view_all": _any_of(ROLE_ADMIN, ROLE_REVIEWER),
    "meeting.manage": _is(ROLE_REVIEWER),  # schedule, edit, mark held, record decisions
    "decision.view": _sees_decision,  # obj: decision, or None for the list
    "decision.answer": _answers_decision,  # obj: decision
    "decision.review": _is(ROLE_REVIEWER),  # close (销号) or return
    # notifications
    "notify.inbox": lambda user, obj=None: not getattr(user, "is_system", False),  # one's own notifications
    "notify.manage": lambda user, obj=None: user.role == ROLE_ADMIN,  # channels, delivery records
    "review.queue": _is(ROLE_REVIEWER),  # the 待我处理 panel
    # 佐证材料: reading and adding follow the parent object's own rules (tracker/desk/evidence.py); removing is
    # the uploader's alone, and only while the parent may still be edited
    "evidence.remove": lambda user, att=None: att is not None and att.uploaded_by_id == user.id,
    # the publicity-activity register and the 无诈 creations
    "publicity.view": lambda user, obj=None: True,  # statistics and coverage, circulated like the figures
    "publicity.options": _is(ROLE_ADMIN),  # the target-group, form and fraud-type lists
    "publicity.communities": lambda user, obj=None: user.role == ROLE_ADMIN or _officer_of(user, obj),  # obj: town
    "activity.view": _view_unit_data,  # obj: activity
    "activity.list_all": _any_of(ROLE_ADMIN, ROLE_REVIEWER),
    "activity.record": lambda user, obj=None: (
        getattr(user, "is_system", False) or (user.role == ROLE_OFFICER and user.unit_id is not None)
    ),
    "activity.write": _records_for,  # obj: activity, or a unit id for a new one
    "creation.view": _view_unit_data,  # obj: creation
    "creation.list_all": _any_of(ROLE_ADMIN, ROLE_REVIEWER),
    "creation.write": _records_for,  # obj: creation, or a unit id: declare and edit while declared
    "creation.decide": _is(ROLE_REVIEWER),  # 验收 and 命名
}


def can(user, action: str, obj=None) -> bool:
    """May `user` do `action` (to `obj`)? Anonymous and disabled users may do nothing."""
    if user is None or not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return False
    rule = RULES.get(action)
    if rule is None:
        raise KeyError(f"unknown action {action}")
    return bool(rule(user, obj))


def require(user, action: str, obj=None) -> None:
    """Raise PermissionDenied unless `can`."""
    if not can(user, action, obj):
        raise PermissionDenied("您没有权限执行此操作")
