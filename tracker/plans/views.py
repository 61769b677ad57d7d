"""The plan, its tasks, the plan's reporting settings, and importing a plan from its document."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from markupsafe import Markup

from .. import db, policy
from ..saving import save
from ..templating import html_text
from ..web import require
from . import import_service, service
from .current import current_plan
from .forms import ImportForm, ImportReviewForm, PeriodForm, SettingsForm
from .plan_rows import plan_items, plan_responsibilities, plan_tasks
from .task_articles_html import task_articles

bp = Blueprint("plans", __name__)


@bp.get("/plan")
@login_required
def show():
    require("plan.view")
    plan = current_plan()
    tasks = plan_tasks(db.session, plan)
    by_task = plan_responsibilities(db.session, plan, tasks)
    links = UnitLinks()
    names_by_task = {task_id: links.names(resp) for task_id, resp in by_task.items()}
    goals, requirements = plan_items(db.session, plan)
    return render_template(
        "plans/plan.html",
        plan=plan,
        goals=goals,
        requirements=requirements,
        task_articles=task_articles(
            tasks,
            by_task,
            names_by_task,
            lambda task_id: url_for("plans.task", task_id=task_id),
            service.TOWNSHIPS_LABEL,
        ),
    )


@bp.get("/plan/tasks/<int:task_id>")
@login_required
def task(task_id: int):
    require("plan.view")
    task = service.load_task(db.session, task_id)
    if task is None:
        abort(404)
    resp = service.responsibility(service.task_duties(db.session, task))
    return render_template(
        "plans/task.html",
        task=task,
        resp=resp,
        names=UnitLinks().names(resp),
        townships_label=service.TOWNSHIPS_LABEL,
    )


class UnitLinks:
    """The units' names in a task's duties as the plan page lists them, joined by 、: each name a link to the unit's
    page for those who may open it (`unit.view`), plain text for the others. Each unit's link is made once per page,
    however many tasks list it (every town is a member of most tasks)."""

    def __init__(self) -> None:
        self._made: dict[int, str] = {}
        self._user = current_user._get_current_object()  # the user once, not through the proxy for every unit

    def names(self, resp: service.Responsibility) -> dict[str, Markup]:
        return {
            "leads": self._joined(resp.leads),
            "departments": self._joined(resp.departments),
            "townships": self._joined(resp.townships),
        }

    def _joined(self, duties: list) -> Markup:
        return Markup("、".join(self._link(d.unit) for d in duties))  # nosec B704  # names and URLs escaped in _link

    def _link(self, unit) -> str:
        made = self._made.get(unit.id)
        if made is None:
            name = html_text(unit.name)
            if policy.can(self._user, "unit.view", unit.id):  # by id: the plan page's units are plain rows
                made = f'<a href="{html_text(url_for("org.show", unit_id=unit.id))}">{name}</a>'
            else:
                made = name
            self._made[unit.id] = made
        return made


@bp.route("/admin/plan", methods=["GET", "POST"])
@login_required
def settings():
    require("plan.manage")
    plan = current_plan()
    form = SettingsForm(obj=plan if request.method != "POST" else None)

    def page(_status: int):  # shown again with 200, refused or not
        shown = current_plan()
        return render_template("plans/settings.html", form=form, plan=shown, period_form=PeriodForm(obj=shown))

    if not form.validate_on_submit():
        return page(200)
    save(
        lambda: service.update_settings(
            db.session,
            current_user,
            plan.id,
            form.version.data,
            due_day=form.due_day.data,
            period_kind=form.period_kind.data,
        ),
        page=page,
    )
    flash("填报设置已保存", "success")
    return redirect(url_for(".settings"))


@bp.post("/admin/plan/period")
@login_required
def period():
    """The plan's period: only its months owe reports, count as 逾期 or 迟报, can be urged and are scored."""
    require("plan.manage")
    plan = current_plan()
    form = PeriodForm()

    def page(status: int):
        # what was typed is shown back
        shown = current_plan()
        return render_template(
            "plans/settings.html", form=SettingsForm(obj=shown), plan=shown, period_form=form
        ), status

    if not form.validate_on_submit():
        for errors in form.errors.values():
            for message in errors:
                flash(str(message), "error")
        return page(422)
    save(
        lambda: service.update_period(
            db.session,
            current_user,
            plan.id,
            form.version.data,
            start_month=form.start_month.data,
            end_month=form.end_month.data,
        ),
        page=page,
    )
    flash(f"方案期已保存:{service.plan_period_label(plan)}", "success")
    return redirect(url_for(".settings"))


@bp.route("/admin/plan/import", methods=["GET", "POST"])
@login_required
def import_start():
    """Step one: paste or upload the plan's text; a recognised plan is shown for review, nothing is saved."""
    require("plan.manage")
    form = ImportForm(district=current_app.config["DISTRICT_NAME"])
    if not form.validate_on_submit():
        return render_template("plans/import.html", form=form)
    # nothing is written: a text that is no plan is refused like a save, the page again with what was pasted
    preview = save(
        lambda: _read_plan(form), page=lambda status: (render_template("plans/import.html", form=form), status)
    )
    return _review_page(preview)


def _read_plan(form: ImportForm) -> import_service.Preview:
    text, source = import_service.read_source(form.text.data, form.file.data)
    return import_service.preview(
        db.session,
        text,
        section=form.section.data,
        title=form.title.data,
        year=form.year.data,
        district=form.district.data,
        source=source,
    )


@bp.post("/admin/plan/import/confirm")
@login_required
def import_confirm():
    """Step two: apply the administrator's edits, then create the plan and new units, or show the review again."""
    require("plan.manage")
    form = ImportReviewForm()
    # a missing, tampered or expired review state is refused back to step one (nothing is written)
    state = save(
        lambda: import_service.load_state(current_app.secret_key, form.state.data), back=url_for(".import_start")
    )
    preview = import_service.review(
        db.session,
        state,
        title=form.title.data,
        year=form.year.data,
        district=form.district.data,
        tasks=form.task_edits(),
    )
    decisions, undecided = form.decisions(), preview.undecided(form.decisions())
    confirming, valid = form.action.data == "confirm", form.validate()
    if not (confirming and valid and not undecided):
        for message in form.messages():
            flash(message, "error")
        if confirming and valid:
            flash(f"单位“{'、'.join(undecided)}”尚未登记,请选择处理方式后再确认。", "error")
        elif not confirming:
            flash("已按修改重新核对,尚未保存。", "info")
        return _review_page(preview, decisions)
    result = save(
        lambda: import_service.import_plan(db.session, current_user, preview.data, decisions, source=preview.source),
        page=lambda _status: _review_page(preview, decisions),  # shown again with 200, as after a re-check
    )
    flash(result.message, "success")
    return redirect(url_for(".show"))


def _review_page(preview: import_service.Preview, decisions: dict[str, str] | None = None):
    form = ImportReviewForm(
        formdata=None,
        data={**preview.form_data(decisions), "state": import_service.dump_state(current_app.secret_key, preview)},
    )
    choices = import_service.decision_choices(db.session)
    for entry in form.units:
        entry.form.choice.choices = choices
    return render_template(
        "plans/import_review.html", form=form, preview=preview, townships_label=service.TOWNSHIPS_LABEL
    )
