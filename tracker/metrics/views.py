"""两降两升 pages: overview, town, rankings, the month grid, Excel import/export, indicator administration."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from .. import db, policy, uploads
from ..errors import DomainError, PermissionDenied, StaleEdit, ValidationError
from ..org.models import Unit
from ..periods import Period, period_arg
from ..saving import STALE, STALE_IMPORT, save
from ..web import flash_error, get_or_404, require, xlsx_response
from . import pages, service
from .forms import ConfirmForm, IndicatorForm, UploadForm, confirmed, entries, grid_form, shown_cells
from .models import Indicator

bp = Blueprint("metrics", __name__, url_prefix="/metrics")
TICKET_MAX_AGE = uploads.PREVIEW_SECONDS


def _period(name: str = "period", month_only: bool = False) -> Period:
    """The span named in the query string; the latest month with figures when there is none or it is invalid."""
    p = period_arg(request.args.get(name), default=lambda: service.latest_month(db.session))
    return Period.month(p.year, p.last) if month_only and p.kind != "month" else p


def _may_import(summary: service.Summary | None = None) -> bool:
    if policy.can(current_user, "metrics.correct"):
        return True
    if summary is None:
        return service.can_enter_any(db.session, current_user)
    return service.can_enter_any(db.session, current_user, summary.indicators, [u.unit for u in summary.units])


@bp.get("/")
@login_required
def overview():
    require("metrics.view")
    page = pages.overview(db.session, _period())
    return render_template("metrics/overview.html", page=page, s=page.summary, can_import=_may_import(page.summary))


@bp.get("/units/<int:unit_id>")
@login_required
def town(unit_id: int):
    require("metrics.view")
    unit = get_or_404(Unit, unit_id)
    if not unit.is_township:
        abort(404)
    page = pages.town(db.session, unit, _period())
    return render_template("metrics/town.html", page=page, s=page.summary)


@bp.get("/rankings")
@login_required
def rankings():
    require("metrics.view")
    period = _period()
    return render_template("metrics/rankings.html", s=service.summary(db.session, period), nav=pages.period_nav(period))


@bp.route("/entry", methods=["GET", "POST"])
@login_required
def entry():
    month = _period("month", month_only=True)
    if service.is_future(month):
        month = service.current_month()
    try:
        grid = service.build_entry_grid(db.session, current_user, month)
    except PermissionDenied:
        abort(403)
    form, errors, conflicts, warnings, status = grid_form(grid), {}, {}, {}, 200
    if request.method == "POST":
        status, errors, conflicts, warnings = _save_grid(form, grid)
        if status == 302:
            return redirect(url_for(".entry", month=month.code))
        grid = service.build_entry_grid(db.session, current_user, month)
    return render_template(
        "metrics/entry.html",
        grid=grid,
        form=form,
        errors=errors,
        conflicts=conflicts,
        warnings=warnings,
        shown=shown_cells(grid, form if status != 200 else None, conflicts),
        prev=month.previous(),
        next=None if service.is_future(month.next()) else month.next(),
    ), status


def _save_grid(form, grid) -> tuple[int, dict, dict, dict]:
    """Save the posted grid: (302, ...) when saved, else the status and the cells' errors, conflicts or
    plausibility warnings (to confirm, as in the import)."""
    if not form.validate_on_submit():
        flash("提交的内容无效(单元格内容过长或页面已过期),请检查后重新保存", "error")
        return 400, {}, {}, {}
    try:
        result = service.save_grid(
            db.session,
            current_user,
            grid.month.code,
            entries(form, grid),
            form.reason.data,
            confirmed=confirmed(form, grid),
        )
        db.session.commit()
        flash(
            f"已保存{grid.month.label}数据,共修改{result.changed}项" if result.changed else "没有修改任何数据",
            "success",
        )
        return 302, {}, {}, {}
    except service.GridConflict as e:
        db.session.rollback()
        flash(str(e), "error")
        return 409, {}, e.current, {}
    except (StaleEdit, StaleDataError, IntegrityError):
        db.session.rollback()
        flash(str(StaleEdit()), "error")
        return 409, {}, {}, {}
    except service.CellWarnings as e:
        db.session.rollback()
        flash(str(e), "warning")
        form.accept_warnings.data = False  # each new warning is confirmed anew
        return 422, {}, {}, e.warnings
    except service.CellErrors as e:
        db.session.rollback()
        flash(str(e), "error")
        return 422, e.errors, {}, {}
    except DomainError as e:
        flash_error(e)
        return 422, {}, {}, {}


# -- Excel ---------------------------------------------------------------------------------


def _uploads() -> uploads.Stash:
    return uploads.stash_for(current_app)


def _signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="metrics-import")


def _import_page(upload: UploadForm | None = None, status: int = 200):
    return render_template(
        "metrics/import.html",
        form=upload or UploadForm(),
        month=service.latest_month(db.session),
        now=service.current_month(),
    ), status


@bp.get("/import")
@login_required
def import_page():
    if not _may_import():
        abort(403)
    return _import_page()


def _preview(data: bytes, filename: str):
    # openpyxl (under exchange and excel) is imported when a spreadsheet is read or written, not at start-up
    from . import exchange
    from .excel import check_xlsx

    return exchange.build_preview(db.session, current_user, check_xlsx(data, filename))


@bp.post("/import")
@login_required
def import_upload():
    if not _may_import():
        abort(403)
    form = UploadForm()
    if not form.validate_on_submit():
        return _import_page(form, 422)
    f = form.file.data
    data, filename = f.read(), f.filename or ""
    stash = _uploads()
    stash.sweep()  # on every upload, so stale previews never pile up between scheduled clean-ups
    try:
        preview = _preview(data, filename)
        # only a preview that can be confirmed keeps its file; one with errors keeps nothing
        name = stash.put(current_user.id, data) if preview.can_confirm else ""
    except ValidationError as e:
        flash(str(e), "error")
        return _import_page(form, 422)
    # the months whose stored figures the preview read: the confirm reads them before it reads the file again
    kept = {"f": name, "u": current_user.id, "n": filename[:100], "m": preview.months}
    ticket = _signer().dumps(kept) if name else ""
    confirm = ConfirmForm(ticket=ticket, digest=preview.digest)
    return render_template("metrics/preview.html", preview=preview, form=confirm, filename=filename)


@bp.post("/import/confirm")
@login_required
def import_confirm():
    if not _may_import():
        abort(403)
    form = ConfirmForm()
    if not form.validate_on_submit():
        flash("确认请求无效,请重新上传文件", "error")
        return redirect(url_for(".import_page"))
    try:
        t = _signer().loads(form.ticket.data, max_age=TICKET_MAX_AGE)
        if t.get("u") != current_user.id:
            raise BadSignature("another user's upload")
        data = _uploads().get(current_user.id, t["f"])
        # in one pass: read again, checked and written together; None when it must be answered as below
        result = None
        if _one_pass():
            result = save(lambda: _written_in_one_pass(data, t, form), back=url_for(".import_page"), stale_page=False)
        if result is None:
            result = _written_after_preview(_preview(data, t["n"]), form, t["n"])
    except (BadSignature, ValidationError) as e:
        flash(str(e) if isinstance(e, ValidationError) else "上传记录无效或已过期,请重新上传文件", "error")
        return redirect(url_for(".import_page"))
    _uploads().discard(t["f"])  # only once written: a refused import keeps its file until the sweep
    flash(f"导入完成:新增{result.inserted}项、更新{result.updated}项,涉及{result.months}个月。", "success")
    return redirect(url_for(".overview"))


def _one_pass() -> bool:
    from . import import_stream

    return import_stream.worth_it(db.session)


def _written_in_one_pass(data: bytes, t: dict, form: ConfirmForm):
    from . import import_stream

    confirm = (form.digest.data or "", bool(form.accept_warnings.data), form.reason.data or "")
    return import_stream.write_confirmed(db.session, current_user, data, t["n"], t.get("m"), *confirm)


def _written_after_preview(preview, form: ConfirmForm, filename: str):
    """The preview built again, compared with the one confirmed, then written (or shown again: a response)."""
    refused = _refusal(preview, form)
    if refused is not None:
        flash(refused[1], "error")
        abort(make_response(_preview_page(preview, form, filename, refused[0])))
    from . import importing

    return save(
        lambda: importing.apply_import(db.session, current_user, preview, form.reason.data, filename),
        page=lambda status: _preview_page(preview, form, filename, status),
        stale_message=STALE_IMPORT,
    )


def _preview_page(preview, form: ConfirmForm, filename: str, status: int):
    """The preview shown again to be confirmed anew: against what is stored now (its digest)."""
    form.digest.data = preview.digest
    return render_template("metrics/preview.html", preview=preview, form=form, filename=filename), status


def _refusal(preview, form: ConfirmForm) -> tuple[int, str] | None:
    """Why the re-validated preview may not be written yet (status, message), or None."""
    if preview.digest != form.digest.data:
        return STALE, "预览之后数据已发生变化(他人修改了相关数据),请核对下面新的预览后再确认。"
    if preview.warnings and not form.accept_warnings.data and preview.can_confirm:
        return 422, "请先逐项核对提示并勾选确认框,再确认导入。"
    return None


@bp.get("/template")
@login_required
def template():
    require("metrics.view")
    month = _period("month", month_only=True)
    from . import workbooks

    return xlsx_response(workbooks.template_file(db.session, month), f"metrics-template-{month.code}.xlsx")


@bp.get("/export")
@login_required
def export():
    require("metrics.view")
    start, end = _period("from", month_only=True), _period("to", month_only=True)
    from . import workbooks

    try:
        data = workbooks.export_file(db.session, Period.month(start.year, start.first), end)
    except ValidationError as e:
        flash(str(e), "error")
        return redirect(url_for(".overview"))
    return xlsx_response(data, f"metrics-{start.code}-{end.code}.xlsx")


# -- indicators ----------------------------------------------------------------------------------


@bp.get("/indicators")
@login_required
def indicators():
    require("indicator.manage")
    return render_template("metrics/indicators.html", indicators=service.all_indicators(db.session))


def _indicator_form(obj: Indicator | None = None) -> IndicatorForm:
    form = IndicatorForm(obj=obj if request.method != "POST" else None)
    if request.method != "POST":
        form.owner_unit_id.data = (obj.owner_unit_id or 0) if obj is not None else service.default_owner_id(db.session)
    form.owner_unit_id.choices = [(0, "各镇(街道)自行填报")] + [(u.id, u.name) for u in service.departments(db.session)]
    return form


@bp.route("/indicators/new", methods=["GET", "POST"])
@login_required
def indicator_new():
    require("indicator.manage")
    form = _indicator_form()

    def page(status: int):
        return render_template("metrics/indicator_form.html", form=form, indicator=None), status

    if request.method != "POST":
        return page(200)
    if not form.validate_on_submit():
        return page(422)
    ind = save(lambda: service.create_indicator(db.session, current_user, form.values()), page=page)
    flash(f"已新增指标 {ind.label}", "success")
    return redirect(url_for(".indicators"))


@bp.route("/indicators/<int:indicator_id>", methods=["GET", "POST"])
@login_required
def indicator_edit(indicator_id: int):
    require("indicator.manage")
    ind = get_or_404(Indicator, indicator_id)
    form = _indicator_form(ind)

    def page(status: int):
        current = get_or_404(Indicator, indicator_id)
        if status == STALE:
            form.version.data = current.version
        return render_template("metrics/indicator_form.html", form=form, indicator=current), status

    if request.method != "POST":
        return page(200)
    if not form.validate_on_submit():
        return page(422)
    save(
        lambda: service.update_indicator(db.session, current_user, ind.id, form.version.data or 0, form.values()),
        page=page,
        stale_message="该指标已被他人修改,请核对后重新保存。您填写的内容已保留在下方。",
    )
    flash(f"已保存指标 {ind.label}", "success")
    return redirect(url_for(".indicators"))
