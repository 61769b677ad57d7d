"""Assessment pages: scores and rankings, a unit's breakdown, publishing, and the scheme's administration."""

from __future__ import annotations

import json

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from .. import clock, db, policy
from ..org.models import Unit
from ..periods import Period, period_arg
from ..plans.current import current_plan
from ..saving import STALE, save
from ..web import get_or_404, require
from . import publishing, results, scheme
from .forms import AdjustmentForm, ItemsForm, PeriodActionForm, ReopenForm, RuleForm, SchemeSettingsForm
from .models import (
    EVENTS,
    FORMULA_PARAMS,
    FORMULAS,
    NOT_APPLICABLE_POLICIES,
    RULE_KINDS,
    RULE_PARAMS,
    Adjustment,
    CardRule,
)

bp = Blueprint("assessment", __name__, url_prefix="/assessment")


def last_ended_quarter() -> Period:
    today = clock.today()
    q = Period.quarter_of(today.year, today.month)
    return q.previous()


def quarter_arg() -> Period:
    p = period_arg(request.args.get("period"), default=last_ended_quarter)
    if p.kind == "month":
        return p.in_quarter
    if p.kind != "quarter":
        flash("考评按季度计分,已显示该年第四季度", "info")
        return Period.quarter(p.year, 4)
    return p


def _visible(snapshot: dict, published: bool) -> dict:
    """Before publishing, a unit's officer sees only its own score, without its rank."""
    if published or policy.can(current_user, "assessment.view_all"):
        return snapshot
    own = current_user.unit_id
    shown = {k: [r for r in rows if r["unit_id"] == own] for k, rows in snapshot["groups"].items()}
    if not policy.can(current_user, "assessment.view_ranks", published):
        shown = {k: [results.without_rank(r) for r in rows] for k, rows in shown.items()}
    return {**snapshot, "groups": shown}


def _checks_changes() -> bool:
    """Whether the page lists what changed after publication: that means scoring the quarter live as well, so only
    the reviewers and administrators who decide on re-opening pay for it; units read the frozen results."""
    return policy.can(current_user, "assessment.view_all")


def ranking(changes: bool | None = None) -> tuple[Period, results.QuarterResults, dict, bool]:
    """The quarter the URL names, its results, the score rows the current user may read (an officer: only its own
    before publication, without rank) and whether ranks show; the ranking page and its Excel export both read
    them here. changes: list what changed after publication (default: for those who decide on re-opening)."""
    period = quarter_arg()
    changes = _checks_changes() if changes is None else changes
    res = results.quarter_results(db.session, current_plan(), period, changes=changes)
    shown = _visible(res.snapshot, res.publication is not None)
    return period, res, shown, policy.can(current_user, "assessment.view_ranks", res)


@bp.get("/")
@login_required
def index():
    require("assessment.view")
    period, res, shown, show_ranks = ranking()
    pub = res.publication
    return render_template(
        "assessment/index.html",
        period=period,
        snap=shown,
        show_ranks=show_ranks,
        pub=pub,
        res=res,
        history=results.publication_history(db.session, period),
        publish_form=PeriodActionForm(period=period.code),
        reopen_form=ReopenForm(period=period.code),
        prev=period.previous(),
        next=period.next(),
        can_publish=period.end < clock.today(),
    )


@bp.get("/units/<int:unit_id>")
@login_required
def unit(unit_id: int):
    u = get_or_404(Unit, unit_id)
    period = quarter_arg()
    res = results.quarter_results(db.session, current_plan(), period, changes=_checks_changes())
    pub = res.publication
    if not (
        policy.can(current_user, "unit.view", u) or (pub is not None and policy.can(current_user, "assessment.view"))
    ):
        abort(403)
    changes = [c for c in res.changes if c.who == u.name]
    row = res.row(u.id)
    if not policy.can(current_user, "assessment.view_ranks", res):
        row = results.without_rank(row)
    return render_template(
        "assessment/unit.html",
        unit=u,
        period=period,
        row=row,
        pub=pub,
        changes=changes,
        not_applicable=res.snapshot.get("not_applicable", "full"),  # a quarter frozen before the setting: full
    )


def _posted_period(form) -> Period | None:
    """The quarter a publish or re-open button names (its hidden field): a bad one is flashed as in a URL, None."""
    return period_arg(form.period.data)


@bp.post("/publish")
@login_required
def publish():
    require("assessment.publish")
    form = PeriodActionForm()
    period = _posted_period(form)
    if period is None:
        return redirect(url_for(".index"))
    back = url_for(".index", period=period.code)
    if form.validate_on_submit():
        save(lambda: publishing.publish(db.session, current_user, current_plan(), period), back=back)
        flash(f"{period.label}考评结果已发布,排名对所有单位可见", "success")
    return redirect(back)


@bp.post("/reopen")
@login_required
def reopen():
    require("assessment.publish")
    form = ReopenForm()
    period = _posted_period(form)
    if period is None:
        return redirect(url_for(".index"))
    back = url_for(".index", period=period.code)
    if not form.validate_on_submit():
        flash("重新开放须填写理由", "error")
        return redirect(back)
    save(lambda: publishing.reopen(db.session, current_user, period, form.reason.data, plan=current_plan()), back=back)
    flash(f"{period.label}已重新开放,得分按最新数据计算", "success")
    return redirect(back)


def _item_values(items_) -> dict[int, dict]:
    """What the scheme form shows for each item: as stored."""
    return {
        it.id: {
            "version": it.version,
            "name": it.name,
            "weight_township": str(it.weight_township),
            "weight_department": str(it.weight_department),
            "params": json.dumps(it.params or {}, ensure_ascii=False),
            "is_active": it.is_active,
        }
        for it in items_
    }


def _scheme_page(values: dict[int, dict] | None = None, status: int = 200):
    """The scheme page; values: the items as typed, shown back when a save was refused."""
    items_ = scheme.items(db.session)
    settings = scheme.settings(db.session)
    return (
        render_template(
            "assessment/scheme.html",
            items=items_,
            values=values or _item_values(items_),
            totals=scheme.weight_totals(items_),
            settings=settings,
            policies=NOT_APPLICABLE_POLICIES,
            adjustments=scheme.adjustments(db.session),
            rules=scheme.rules(db.session),
            formulas=FORMULAS,
            formula_params=FORMULA_PARAMS,
            events=EVENTS,
            rule_kinds=RULE_KINDS,
            rule_params=RULE_PARAMS,
            items_form=ItemsForm(),
            settings_form=SchemeSettingsForm(),
            adj_form=AdjustmentForm(),
            rule_form=RuleForm(),
        ),
        status,
    )


@bp.get("/scheme")
@login_required
def scheme_page():
    require("scheme.view")
    return _scheme_page()


def _posted_items() -> tuple[list[scheme.ItemEdit], dict[int, dict]]:
    """The items as the form posted them (the ones it names), and the same as values to show back."""
    edits, values = [], {}
    for it in scheme.items(db.session):
        prefix = f"item-{it.id}-"
        if prefix + "version" not in request.form:
            continue
        version = request.form.get(prefix + "version", type=int)
        v = {
            "version": version,
            "name": request.form.get(prefix + "name", ""),
            "weight_township": request.form.get(prefix + "weight_township", ""),
            "weight_department": request.form.get(prefix + "weight_department", ""),
            "params": request.form.get(prefix + "params", ""),
            "is_active": request.form.get(prefix + "is_active") == "y",
        }
        values[it.id] = v
        edits.append(
            scheme.ItemEdit(
                it.id,
                version,
                v["name"],
                v["weight_township"],
                v["weight_department"],
                v["is_active"],
                v["params"],
            )
        )
    return edits, values


@bp.post("/scheme/items")
@login_required
def items_update():
    require("scheme.manage")
    form = ItemsForm()
    edits, values = _posted_items()
    if not form.validate_on_submit() or not edits:
        flash("表单已过期或没有可保存的考评项目,请刷新后重试", "error")
        return _scheme_page(status=400)

    def page(status: int):
        if status == STALE:  # saving again, after checking, overwrites knowingly
            current = {it.id: it.version for it in scheme.items(db.session)}
            return _scheme_page({i: {**v, "version": current[i]} for i, v in values.items()}, status)
        return _scheme_page({**_item_values(scheme.items(db.session)), **values}, status)

    save(lambda: scheme.update_items(db.session, current_user, edits), page=page)
    flash("考评项目已保存;未发布季度的得分按新办法计算,已发布季度不受影响", "success")
    return redirect(url_for(".scheme_page"))


@bp.post("/scheme/settings")
@login_required
def settings_update():
    require("scheme.manage")
    form = SchemeSettingsForm()
    if not form.validate_on_submit():
        flash("请选择不适用项目的计分办法", "error")
        return redirect(url_for(".scheme_page"))
    back = url_for(".scheme_page")
    save(
        lambda: scheme.update_settings(
            db.session, current_user, form.version.data, not_applicable=form.not_applicable.data
        ),
        back=back,
    )
    flash("计分办法已保存;未发布季度的得分按新办法计算,已发布季度不受影响", "success")
    return redirect(back)


@bp.post("/scheme/adjustments/<int:adj_id>")
@login_required
def adjustment_update(adj_id: int):
    require("scheme.manage")
    get_or_404(Adjustment, adj_id)
    form = AdjustmentForm()
    back = url_for(".scheme_page")
    if not form.validate_on_submit():
        flash("请填写分值和上限", "error")
        return redirect(back)
    save(
        lambda: scheme.update_adjustment(
            db.session,
            current_user,
            adj_id,
            form.version.data,
            points=form.points.data,
            cap=form.cap.data,
            is_active=form.is_active.data,
        ),
        back=back,
    )
    flash("扣分加分项已保存", "success")
    return redirect(back)


@bp.post("/scheme/rules/<int:rule_id>")
@login_required
def rule_update(rule_id: int):
    require("scheme.manage")
    get_or_404(CardRule, rule_id)
    form = RuleForm()
    back = url_for(".scheme_page")
    if not form.validate_on_submit():
        flash("参数须为整数", "error")
        return redirect(back)
    keys = ("n", "pct", "months", "small_base", "abs")
    params = {k: getattr(form, k).data for k in keys if getattr(form, k).data is not None}
    save(
        lambda: scheme.update_rule(
            db.session, current_user, rule_id, form.version.data, params=params, is_active=form.is_active.data
        ),
        back=back,
    )
    flash("红黄牌规则已保存", "success")
    return redirect(back)
