"""The plan, its tasks, and the plan's reporting settings."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from .. import db
from ..errors import DomainError
from ..web import current_plan, flash_error, get_or_404, require
from . import service
from .forms import SettingsForm
from .models import Task

bp = Blueprint("plans", __name__)


@bp.get("/plan")
@login_required
def show():
    require("plan.view")
    plan = current_plan()
    tasks = service.load_tasks(db.session, plan)
    by_task: dict[int, list] = {}
    for d in service.duties(db.session, plan, tasks):
        by_task.setdefault(d.task.id, []).append(d)
    return render_template("plans/plan.html", plan=plan, tasks=tasks, by_task=by_task,
                           townships_label=service.TOWNSHIPS_LABEL)


@bp.get("/plan/tasks/<int:task_id>")
@login_required
def task(task_id: int):
    require("plan.view")
    task = get_or_404(Task, task_id)
    return render_template("plans/task.html", task=task, duties=service.task_duties(db.session, task),
                           townships_label=service.TOWNSHIPS_LABEL)


@bp.route("/admin/plan", methods=["GET", "POST"])
@login_required
def settings():
    require("plan.manage")
    plan = current_plan()
    form = SettingsForm(obj=plan if request.method == "GET" else None)
    if form.validate_on_submit():
        try:
            service.update_settings(db.session, current_user, plan.id, form.version.data,
                                    due_day=form.due_day.data, period_kind=form.period_kind.data)
            db.session.commit()
            flash("填报设置已保存", "success")
            return redirect(url_for(".settings"))
        except DomainError as e:
            flash_error(e)
            plan = current_plan()
    return render_template("plans/settings.html", form=form, plan=plan)
