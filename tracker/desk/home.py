"""The workbench (工作台) where each role starts, and an officer's to-do list (待办)."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user, login_required

from .. import clock, db, policy
from ..assessment import card_board, cards, holidays
from ..meetings import service as meetings
from ..notify import reminders
from ..periods import Period
from ..plans.current import current_plan
from ..plans.service import active_plan
from ..progress import service as progress
from ..progress.models import STATE_ORDER
from ..progress.views import bp as progress_bp
from ..web import EmptyForm, require

bp = Blueprint("main", __name__)


@bp.get("/")
@login_required
def home():
    if policy.can(current_user, "todo.view"):
        return redirect(url_for("progress.todo"))
    plan = active_plan(db.session)
    grid = progress.build_grid(db.session, plan, Period.of_date(clock.today())) if plan else None
    # the administrator's to-do: years without a holiday schedule that deadlines reach into
    gaps = holidays.gaps(db.session) if policy.can(current_user, "calendar.manage") else []
    queue = reminders.reviewer_queue(db.session, clock.today()) if policy.can(current_user, "review.queue") else None
    return render_template(
        "main/home.html", plan=plan, grid=grid, states=STATE_ORDER, calendar_gaps=gaps, review_queue=queue
    )


@progress_bp.get("/todo")
@login_required
def todo():
    require("todo.view")
    plan = current_plan()
    unit = current_user.unit
    t = progress.unit_todo(db.session, plan, unit)
    return render_template(
        "progress/todo.html",
        todo=t,
        plan=plan,
        unit=unit,
        read_form=EmptyForm(),
        # the unit's open and returned supervised items, and its active cards
        supervised=meetings.unit_todo(db.session, unit.id),
        active_cards=[(c, cards.card_state(c)) for c in card_board.active_cards(db.session, unit.id)],
    )
