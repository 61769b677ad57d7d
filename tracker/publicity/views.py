"""Register pages: the activity list with its filters, recording and editing an activity, statistics and coverage,
a town's 村/社区, the lists, Excel import/export, and the 无诈 creations."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from .. import clock, db, policy, uploads
from ..errors import DomainError, StaleEdit, ValidationError
from ..evidence import service as evidence
from ..hardening import large_body
from ..metrics.charts import Bar, bar_chart
from ..org.models import KIND_TOWNSHIP, Unit
from ..org.service import active_units
from ..periods import Period
from ..saving import STALE, save
from ..web import get_or_404, require
from . import creations as creation_service
from . import exchange, service
from .forms import (
    ActivityForm,
    AdvanceForm,
    CommunitiesForm,
    ConfirmForm,
    CreationForm,
    OptionsForm,
    UploadForm,
)
from .models import (
    CREATION_COLOURS,
    CREATION_KIND_LABELS,
    CREATION_STATUS_LABELS,
    DECLARED,
    FORM,
    FRAUD,
    NAMED,
    TARGET,
    Activity,
    CommunityList,
    Creation,
)
from .statistics import Tally
from .statistics import statistics as count_period

bp = Blueprint("publicity", __name__, url_prefix="/publicity")
TICKET_MAX_AGE = 2 * 3600


def _int_arg(name: str) -> int | None:
    raw = request.args.get(name, "").strip()
    if not raw.isdigit() or int(raw) > 2_147_483_647:
        return None
    return int(raw)


def _month_arg(name: str) -> str | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        p = Period.parse(raw)
    except ValidationError:
        return None
    return p.code if p.kind == "month" else None


def _filter_unit() -> int | None:
    """The unit filter, refused as the unit's own page would be (404 unknown, 403 not the officer's)."""
    uid = _int_arg("unit")
    if uid is None:
        return None
    unit = get_or_404(Unit, uid)
    require("unit.view", unit)
    return uid


def _filter() -> service.ActivityFilter:
    return service.ActivityFilter(
        unit_id=_filter_unit(),
        month=_month_arg("month"),
        start=_month_arg("from"),
        end=_month_arg("to"),
        target_id=_int_arg("target"),
        fraud_id=_int_arg("fraud"),
    )


def _lists() -> dict:
    return {kind: service.options(db.session, kind) for kind in (TARGET, FORM, FRAUD)}


@bp.get("/activities")
@login_required
def activities():
    f = _filter()
    rows = service.list_activities(db.session, current_user, f)
    units = active_units(db.session) if policy.can(current_user, "activity.list_all") else []
    return render_template(
        "publicity/activities.html",
        rows=rows,
        f=f,
        lists=_lists(),
        units=units,
        may_record=policy.can(current_user, "activity.record"),
        total_audience=sum(a.audience for a in rows),
        photos=evidence.counts(db.session, "activity", [a.id for a in rows]),
    )


# -- recording --------------------------------------------------------------------------------------


def _choices(form: ActivityForm, unit: Unit, current: Activity | None) -> None:
    keep = {current.target_id, current.form_id} if current else set()
    for field_, kind in ((form.target_id, TARGET), (form.form_id, FORM)):
        opts = service.options(db.session, kind, include_inactive=bool(current))
        field_.choices = [(None, "请选择")] + [(o.id, o.name) for o in opts if o.is_active or o.id in keep]
    had = {o.id for o in current.fraud_types} if current else set()
    frauds = service.options(db.session, FRAUD, include_inactive=bool(current))
    form.fraud_ids.choices = [(o.id, o.name) for o in frauds if o.is_active or o.id in had]
    form.town_id.choices = [(None, "请选择")] + [(u.id, u.name) for u in active_units(db.session, KIND_TOWNSHIP)]
    form.task_id.choices = [(t.id, f"{t.short_label} {t.title}") for t in service.plan_tasks(db.session)]
    form.unit_id.choices = [(unit.id, unit.name)]


def _values(form: ActivityForm, unit: Unit) -> service.ActivityValues:
    return service.ActivityValues(
        held_on=form.held_on.data,
        unit_id=unit.id,
        town_id=unit.id if unit.kind == KIND_TOWNSHIP else form.town_id.data,
        place=form.place.data or "",
        target_id=form.target_id.data,
        form_id=form.form_id.data,
        fraud_ids=form.fraud_ids.data or [],
        audience=form.audience.data,
        materials=form.materials.data,
        apps=form.apps.data,
        community=form.community.data or "",
        task_id=form.task_id.data,
        notes=form.notes.data or "",
    )


def _activity_page(form: ActivityForm, unit: Unit, activity: Activity | None, status: int = 200, conflict=False):
    town_id = unit.id if unit.kind == KIND_TOWNSHIP else form.town_id.data
    listed = service.communities(db.session, town_id) if town_id else []
    return (
        render_template(
            "publicity/activity_form.html",
            form=form,
            unit=unit,
            activity=activity,
            conflict=conflict,
            listed=listed,
            today=clock.today(),
        ),
        status,
    )


def _activity_post(form: ActivityForm, unit: Unit, activity: Activity | None):
    if not form.validate_on_submit():
        return _activity_page(form, unit, activity, 422)

    def page(status: int):
        current = db.session.get(Activity, activity.id) if activity else None
        if status == STALE and current is not None:
            form.version.data = current.version
        return _activity_page(form, db.session.get(Unit, unit.id), current, status, conflict=status == STALE)

    values = _values(form, unit)
    if activity is None:
        saved = save(
            lambda: _with_photos(service.create_activity(db.session, current_user, values)), page=page, form=form
        )
        flash("宣传活动已登记", "success")
    else:
        saved = save(
            lambda: _with_photos(
                service.update_activity(db.session, current_user, activity.id, form.version.data, values)
            ),
            page=page,
            form=form,
        )
        flash("宣传活动已保存", "success")
    return redirect(url_for(".activity", activity_id=saved.id))


def _with_photos(saved: Activity) -> Activity:
    """The photos chosen in the form are kept with the activity; a refused file refuses the whole save."""
    evidence.store_all(db.session, current_user, "activity", saved.id, request.files.getlist("evidence"))
    return saved


@bp.route("/activities/new", methods=["GET", "POST"])
@large_body(evidence.MAX_REQUEST_BYTES)
@login_required
def activity_new():
    require("activity.record")
    unit = get_or_404(Unit, current_user.unit_id)
    require("activity.write", unit.id)
    form = ActivityForm()
    _choices(form, unit, None)
    if request.method != "POST":
        form.held_on.data = clock.today()
        task = service.default_task(db.session)
        form.task_id.data = task.id if task else None
        return _activity_page(form, unit, None)
    return _activity_post(form, unit, None)


@bp.get("/activities/<int:activity_id>")
@login_required
def activity(activity_id: int):
    a = get_or_404(Activity, activity_id)
    require("activity.view", a)
    return render_template("publicity/activity.html", a=a, may_edit=policy.can(current_user, "activity.write", a))


@bp.route("/activities/<int:activity_id>/edit", methods=["GET", "POST"])
@large_body(evidence.MAX_REQUEST_BYTES)
@login_required
def activity_edit(activity_id: int):
    a = get_or_404(Activity, activity_id)
    require("activity.write", a)
    unit = a.unit
    form = ActivityForm(obj=a if request.method != "POST" else None)
    _choices(form, unit, a)
    if request.method != "POST":
        form.fraud_ids.data = [o.id for o in a.fraud_types]
        form.version.data = a.version
        return _activity_page(form, unit, a)
    return _activity_post(form, unit, a)


@bp.post("/activities/<int:activity_id>/delete")
@login_required
def activity_delete(activity_id: int):
    a = get_or_404(Activity, activity_id)
    require("activity.write", a)
    version = request.form.get("version", type=int)
    back = url_for(".activity", activity_id=a.id)
    save(lambda: service.delete_activity(db.session, current_user, a.id, version), back=back)
    flash("宣传活动已删除", "success")
    return redirect(url_for(".activities"))


# -- statistics and coverage --------------------------------------------------------------------------


def _quarter() -> Period:
    raw = request.args.get("period", "").strip()
    if raw:
        try:
            return Period.parse(raw)
        except ValidationError as e:
            flash(str(e), "error")
    today = clock.today()
    return Period.quarter_of(today.year, today.month)


def _following(p: Period) -> Period | None:
    """The period after p, of the same kind (None for a year-to-date span)."""
    if p.kind == "month":
        return p.next()
    if p.kind == "quarter":
        q = p.last // 3
        return Period.quarter(p.year + (q == 4), q % 4 + 1)
    if p.kind == "year":
        return Period.whole_year(p.year + 1)
    return None


def charts(stats: service.Stats, before: service.Stats) -> list:
    """Activities per target group and per town, this period against the one before."""
    label = "上一期"
    return [
        bar_chart(
            "各宣传对象活动场次",
            [Bar(k, t.activities, before.by_target.get(k, Tally()).activities) for k, t in stats.by_target.items()],
            "场",
            current_label="本期",
            previous_label=label,
        ),
        bar_chart(
            "各镇(街道)活动场次",
            [Bar(k, t.activities, before.by_town.get(k, Tally()).activities) for k, t in stats.by_town.items()],
            "场",
            current_label="本期",
            previous_label=label,
        ),
    ]


@bp.get("/stats")
@login_required
def stats():
    require("publicity.view")
    period = _quarter()
    s = count_period(db.session, period)
    before = count_period(db.session, period.previous()) if period.kind != "ytd" else s
    counts = creation_service.counts(db.session, period)
    own = db.session.get(Unit, current_user.unit_id) if current_user.unit_id else None
    return render_template(
        "publicity/stats.html",
        s=s,
        period=period,
        charts=charts(s, before),
        counts=counts,
        following=_following(period),
        own=own if own is not None and own.kind == KIND_TOWNSHIP else None,
    )


@bp.route("/communities", methods=["GET", "POST"])
@login_required
def communities():
    """A town's 村/社区: the officer's own town, or (administrators) the town named by ?unit=."""
    uid = _int_arg("unit")
    if uid is None:
        require("activity.record")  # an officer: the own unit
        uid = current_user.unit_id
    unit = get_or_404(Unit, uid)
    require("publicity.communities", unit)
    if unit.kind != KIND_TOWNSHIP:
        abort(404)
    row = db.session.get(CommunityList, unit.id)
    form = CommunitiesForm()
    if request.method != "POST":
        form.names.data = "\n".join(row.name_list()) if row else ""
        form.version.data = row.version if row else 0
        return render_template("publicity/communities.html", form=form, unit=unit)

    def page(status: int):
        current = db.session.get(CommunityList, unit.id)
        if status == STALE:
            form.version.data = current.version if current else 0
        return render_template("publicity/communities.html", form=form, unit=unit, conflict=status == STALE), status

    if not form.validate_on_submit():
        return page(422)
    save(
        lambda: service.save_communities(db.session, current_user, unit.id, form.version.data, form.names.data),
        page=page,
    )
    flash(f"{unit.name}的村(社区)名单已保存", "success")
    return redirect(url_for(".communities", unit=unit.id))


@bp.route("/options", methods=["GET", "POST"])
@login_required
def options_page():
    require("publicity.options")
    form = OptionsForm()
    if request.method != "POST":
        for kind, opts in _lists().items():
            form[kind].data = "\n".join(o.name for o in opts)
        form.token.data = service.options_token(db.session)
        return render_template("publicity/options.html", form=form)

    def page(status: int):
        if status == STALE:
            form.token.data = service.options_token(db.session)
        return render_template("publicity/options.html", form=form, conflict=status == STALE), status

    if not form.validate_on_submit():
        return page(422)
    lists = {TARGET: form.target.data, FORM: form.form.data, FRAUD: form.fraud.data}
    save(lambda: service.save_options(db.session, current_user, form.token.data or "", lists), page=page)
    flash("名录已保存", "success")
    return redirect(url_for(".options_page"))


# -- Excel ----------------------------------------------------------------------------------------------


def _xlsx(data: bytes, name: str) -> Response:
    resp = Response(data, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    resp.headers["Content-Disposition"] = f"attachment; filename=\"{name}\"; filename*=UTF-8''{name}"
    return resp


@bp.get("/template")
@login_required
def template():
    return _xlsx(exchange.template_file(db.session), "activities-template.xlsx")


@bp.get("/export")
@login_required
def export():
    f = _filter()
    return _xlsx(exchange.export_file(db.session, current_user, f), f"activities-{clock.today().isoformat()}.xlsx")


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
    try:
        n = exchange.apply_import(db.session, current_user, preview, t["n"])
        db.session.commit()
    except (StaleEdit, StaleDataError, IntegrityError):
        db.session.rollback()
        flash("导入时发现数据已被他人修改,本次未写入任何数据,请重新上传核对。", "error")
        return redirect(url_for(".import_page"))
    except DomainError as e:
        db.session.rollback()
        flash(str(e), "error")
        return redirect(url_for(".import_page"))
    stash.discard(t["f"])
    flash(f"导入完成:登记宣传活动{n}场。", "success")
    return redirect(url_for(".activities"))


# -- 无诈 creations ------------------------------------------------------------------------------------


@bp.get("/creations")
@login_required
def creations():
    status = request.args.get("status") or None
    unit_id = _filter_unit()
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
