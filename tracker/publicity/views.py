"""Register pages: the activity list with its filters, recording and editing an activity, statistics and coverage,
a town's 村/社区 and the lists. The Excel downloads and import (import_views) and the 无诈 creations
(creation_views) add their routes to the same blueprint."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from .. import clock, db, policy
from ..evidence import service as evidence
from ..hardening import large_body
from ..metrics.charts import Bar, bar_chart
from ..org.models import KIND_TOWNSHIP, Unit
from ..org.service import active_units
from ..periods import Period, period_arg
from ..saving import STALE, save
from ..web import get_or_404, require
from . import creation_views, import_views, service
from . import creations as creation_service
from .blueprint import activity_filter, bp, int_arg
from .forms import ActivityForm, CommunitiesForm, OptionsForm
from .models import FORM, FRAUD, TARGET, Activity, CommunityList
from .statistics import Tally
from .statistics import statistics as count_period

__all__ = ["bp", "creation_views", "import_views"]  # the route modules register on bp when this module is imported


def _lists() -> dict:
    return {kind: service.options(db.session, kind) for kind in (TARGET, FORM, FRAUD)}


@bp.get("/activities")
@login_required
def activities():
    f = activity_filter()
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
    """The period the statistics page shows: the URL's, else (or when it does not parse) this quarter."""
    today = clock.today()
    return period_arg(
        request.args.get("period", "").strip(), default=lambda: Period.quarter_of(today.year, today.month)
    )


def _following(p: Period) -> Period | None:
    """The period after p, of the same kind (None for a year-to-date span)."""
    return None if p.kind == "ytd" else p.next()


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
    uid = int_arg("unit")
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
