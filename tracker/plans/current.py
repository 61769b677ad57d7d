"""The plan a page works on, for the blueprints of the areas above plans."""

from __future__ import annotations

from flask import abort

from .. import db
from .models import Plan
from .service import active_plan


def current_plan() -> Plan:
    """The active plan; a page that needs one answers 404 before a plan is loaded."""
    plan = active_plan(db.session)
    if plan is None:
        abort(404, "尚未载入实施方案")
    return plan
