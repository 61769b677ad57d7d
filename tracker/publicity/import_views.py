"""The register in Excel: the template and export downloads, and the import (upload, preview, confirm)."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from itsdangerous import BadSignature, URLSafeTimedSerializer

from .. import clock, db, uploads
from ..errors import ValidationError
from ..saving import STALE_IMPORT, save
from ..web import require, xlsx_response
from . import exchange
from .blueprint import activity_filter, bp
from .forms import ConfirmForm, UploadForm

TICKET_MAX_AGE = 2 * 3600


@bp.get("/template")
@login_required
def template():
    return xlsx_response(exchange.template_file(db.session), "activities-template.xlsx")


@bp.get("/export")
@login_required
def export():
    f = activity_filter()
    return xlsx_response(
        exchange.export_file(db.session, current_user, f), f"activities-{clock.today().isoformat()}.xlsx"
    )


def _signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="activities-import")


def _preview(data: bytes, filename: str) -> exchange.Preview:
    from ..metrics.excel import check_xlsx  # openpyxl only when a sheet is read

    # the check reads the sheet's rows in its own scan: no second parser reads the file
    return exchange.build_preview(db.session, current_user, check_xlsx(data, filename))


@bp.get("/import")
@login_required
def import_page():
    require("activity.record")
    return render_template("publicity/import.html", form=UploadForm())


@bp.post("/import")
@login_required
def import_upload():
    require("activity.record")
    form = UploadForm()
    if not form.validate_on_submit():
        return render_template("publicity/import.html", form=form), 422
    f = form.file.data
    data, filename = f.read(), f.filename or ""
    stash = uploads.stash_for(current_app)
    stash.sweep()
    try:
        preview = _preview(data, filename)
        name = stash.put(current_user.id, data) if preview.can_confirm else ""
    except ValidationError as e:
        flash(str(e), "error")
        return render_template("publicity/import.html", form=form), 422
    ticket = _signer().dumps({"f": name, "u": current_user.id, "n": filename[:100]}) if name else ""
    confirm = ConfirmForm(ticket=ticket, digest=preview.digest)
    return render_template(
        "publicity/preview.html", preview=preview, form=confirm, filename=filename, headers=exchange.HEADERS
    )


@bp.post("/import/confirm")
@login_required
def import_confirm():
    require("activity.record")
    form = ConfirmForm()
    if not form.validate_on_submit():
        flash("确认请求无效,请重新上传文件", "error")
        return redirect(url_for(".import_page"))
    stash = uploads.stash_for(current_app)
    try:
        t = _signer().loads(form.ticket.data, max_age=TICKET_MAX_AGE)
        if t.get("u") != current_user.id:
            raise BadSignature("another user's upload")
        preview = _preview(stash.get(current_user.id, t["f"]), t["n"])
    except (BadSignature, ValidationError) as e:
        flash(str(e) if isinstance(e, ValidationError) else "上传记录无效或已过期,请重新上传文件", "error")
        return redirect(url_for(".import_page"))
    if preview.digest != form.digest.data or not preview.can_confirm:
        flash("预览之后台账或名录已发生变化,请核对下面新的预览后再确认。", "error")
        form.digest.data = preview.digest
        page = render_template(
            "publicity/preview.html", preview=preview, form=form, filename=t["n"], headers=exchange.HEADERS
        )
        return page, 409
    n = save(
        lambda: exchange.apply_import(db.session, current_user, preview, t["n"]),
        back=url_for(".import_page"),
        stale_message=STALE_IMPORT,
    )
    stash.discard(t["f"])  # only once written: a refused import keeps its file until the sweep
    flash(f"导入完成:登记宣传活动{n}场。", "success")
    return redirect(url_for(".activities"))
