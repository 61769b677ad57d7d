"""The workbench (工作台): where each role starts."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user, login_required

from . import clock, db, policy
from .periods import Period
from .plans.service import active_plan
from .progress.models import STATE_ORDER
from .progress.service import build_grid

bp = Blueprint("main", __name__)


@bp.get("/")
@login_required
def home():
    if policy.can(current_user, "todo.view"):
        return redirect(url_for("progress.todo"))
    plan = active_plan(db.session)
    grid = build_grid(db.session, plan, Period.of_date(clock.today())) if plan else None
    return render_template("main/home.html", plan=plan, grid=grid, states=STATE_ORDER)
