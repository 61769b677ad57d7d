"""Unit pages and unit administration."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from .. import db
from ..saving import save
from ..web import get_or_404, require
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
    back = url_for(".units")
    if not form.validate_on_submit():
        flash("请输入单位名称", "error")
        return redirect(back)
    unit = save(
        lambda: service.create_unit(
            db.session, current_user, name=form.name.data, kind=form.kind.data, aliases=form.aliases.data
        ),
        back=back,
    )
    flash(f"已新增单位 {unit.name}", "success")
    return redirect(back)


@bp.route("/admin/units/<int:unit_id>", methods=["GET", "POST"])
@login_required
def unit_edit(unit_id: int):
    require("unit.manage")
    unit = get_or_404(Unit, unit_id)
    form = UnitEditForm(obj=unit if request.method != "POST" else None)

    def page(_status: int):  # the form again, with 200, refused or not yet sent
        return render_template("org/unit_edit.html", form=form, unit=get_or_404(Unit, unit_id))

    if not form.validate_on_submit():
        return page(200)
    save(
        lambda: service.update_unit(
            db.session,
            current_user,
            unit.id,
            form.version.data,
            name=form.name.data,
            aliases=form.aliases.data,
            is_active=form.is_active.data,
        ),
        page=page,
    )
    flash("单位信息已保存", "success")
    return redirect(url_for(".units"))
