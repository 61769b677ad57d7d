"""A unit's page: its duties in the plan, its timeliness so far and its cards."""

from __future__ import annotations

from flask import render_template
from flask_login import login_required

from .. import db
from ..assessment.card_board import board
from ..assessment.cards import card_state
from ..org.models import Unit
from ..org.views import bp as org_bp
from ..plans.current import current_plan
from ..plans.service import plan_period_label, unit_duties
from ..progress.service import unit_timeliness
from ..web import get_or_404, require


@org_bp.get("/units/<int:unit_id>")
@login_required
def show(unit_id: int):
    unit = get_or_404(Unit, unit_id)
    require("unit.view", unit)
    plan = current_plan()
    duties = unit_duties(db.session, plan, unit)
    # the plan's period so far: the same counts as the officer's to-do, the grid and the report list
    counts = unit_timeliness(db.session, plan, unit, plan_duties=duties)
    return render_template(
        "org/unit.html",
        unit=unit,
        duties=duties,
        counts=counts,
        span=plan_period_label(plan),
        cards=board(db.session, unit.id),
        card_state=card_state,
    )
