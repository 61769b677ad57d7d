"""The plan a page works on, for the blueprints of the areas above plans."""

from __future__ import annotations

from .. import db
from ..web import error_page
from .models import Plan
from .service import active_plan


def current_plan() -> Plan:
    """The active plan; a page that needs one answers 404 before a plan is loaded."""
    plan = active_plan(db.session)
    if plan is None:
        error_page(404, "尚未载入实施方案,请管理员先在“导入方案”中载入方案")
    return plan
