"""Unit pages and unit administration."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from .. import db
from ..errors import DomainError
from ..web import flash_error, get_or_404, require
from . import service
from .forms import UnitCreateForm, UnitEditForm
from .models import Unit

bp = Blueprint("org", __name__)


@bp.get("/admin/units")
@login_required
def units():
    require("unit.manage")
    return render_template("org/units.html", units=service.all_units(db.session), form=UnitCreateForm())


@bp.post("/admin/units")
@login_required
def unit_create():
    require("unit.manage")
    form = UnitCreateForm()
    if form.validate_on_submit():
        try:
            unit = service.create_unit(
                db.session, current_user, name=form.name.data, kind=form.kind.data, aliases=form.aliases.data
            )
            db.session.commit()
            flash(f"已新增单位 {unit.name}", "success")
        except DomainError as e:
            flash_error(e)
    else:
        flash("请输入单位名称", "error")
    return redirect(url_for(".units"))


@bp.route("/admin/units/<int:unit_id>", methods=["GET", "POST"])
@login_required
def unit_edit(unit_id: int):
    require("unit.manage")
    unit = get_or_404(Unit, unit_id)
    form = UnitEditForm(obj=unit if request.method == "GET" else None)
    if form.validate_on_submit():
        try:
            service.update_unit(
                db.session,
                current_user,
                unit.id,
                form.version.data,
                name=form.name.data,
                aliases=form.aliases.data,
                is_active=form.is_active.data,
            )
            db.session.commit()
            flash("单位信息已保存", "success")
            return redirect(url_for(".units"))
        except DomainError as e:
            flash_error(e)
            unit = get_or_404(Unit, unit_id)
    return render_template("org/unit_edit.html", form=form, unit=unit)
