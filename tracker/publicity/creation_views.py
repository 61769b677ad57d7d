"""The 无诈 creation register's pages: the list, declaring and editing a creation, and its acceptance steps."""

from __future__ import annotations

from datetime import date

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from .. import clock, db, policy
from ..org.models import Unit
from ..saving import STALE, save
from ..web import get_or_404, require
from . import creations as creation_service
from .blueprint import bp, filter_unit
from .forms import AdvanceForm, CreationForm
from .models import CREATION_COLOURS, CREATION_KIND_LABELS, CREATION_STATUS_LABELS, DECLARED, NAMED, Creation


@bp.get("/creations")
@login_required
def creations():
    status = request.args.get("status") or None
    unit_id = filter_unit()
    rows = creation_service.list_creations(db.session, current_user, status, unit_id)
    return render_template(
        "publicity/creations.html",
        rows=rows,
        status=status,
        labels=CREATION_STATUS_LABELS,
        colours=CREATION_COLOURS,
        may_declare=policy.can(current_user, "activity.record"),
        may_decide=policy.can(current_user, "creation.decide"),
        advance=AdvanceForm(),
        today=clock.today(),
        NAMED=NAMED,
    )


def _creation_page(form: CreationForm, creation: Creation | None, status: int = 200, conflict: bool = False):
    return render_template("publicity/creation_form.html", form=form, creation=creation, conflict=conflict), status


@bp.route("/creations/new", methods=["GET", "POST"])
@login_required
def creation_new():
    return _creation_form(None)


@bp.route("/creations/<int:creation_id>/edit", methods=["GET", "POST"])
@login_required
def creation_edit(creation_id: int):
    return _creation_form(get_or_404(Creation, creation_id))


def _creation_form(creation: Creation | None):
    if creation is None:
        require("activity.record")
        unit = get_or_404(Unit, current_user.unit_id)
    else:
        require("creation.write", creation)
        unit = creation.unit
        if creation.status != DECLARED:
            flash("已验收的创建项目不能再修改申报信息", "error")
            return redirect(url_for(".creations"))
    form = CreationForm(obj=creation if request.method != "POST" else None)
    form.unit_id.choices = [(unit.id, unit.name)]
    if request.method != "POST":
        if creation is None:
            form.declared_on.data = clock.today()
        else:
            form.version.data = creation.version
        return _creation_page(form, creation)
    if not form.validate_on_submit():
        return _creation_page(form, creation, 422)
    values = dict(
        unit_id=unit.id,
        kind=form.kind.data,
        name=form.name.data,
        declared_on=form.declared_on.data,
        notes=form.notes.data,
    )

    def page(status: int):
        current = db.session.get(Creation, creation.id) if creation else None
        if status == STALE and current is not None:
            form.version.data = current.version
        return _creation_page(form, current, status, conflict=status == STALE)

    if creation is None:
        save(lambda: creation_service.declare(db.session, current_user, **values), page=page, form=form)
        flash(f"已申报{CREATION_KIND_LABELS[form.kind.data]}", "success")
    else:
        save(
            lambda: creation_service.update(db.session, current_user, creation.id, form.version.data, **values),
            page=page,
            form=form,
        )
        flash("申报信息已保存", "success")
    return redirect(url_for(".creations"))


@bp.post("/creations/<int:creation_id>/advance")
@login_required
def creation_advance(creation_id: int):
    creation = get_or_404(Creation, creation_id)
    require("creation.decide", creation)
    form = AdvanceForm()
    back = url_for(".creations")
    on: date | None = form.on.data if form.validate_on_submit() else None
    saved = save(
        lambda: creation_service.advance(db.session, current_user, creation.id, form.version.data, on),
        back=back,
    )
    flash(f"{saved.kind_label}“{saved.name}”{saved.status_label}", "success")
    return redirect(back)
