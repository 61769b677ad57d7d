"""Assessment pages: scores and rankings, a unit's breakdown, publishing, and the scheme's administration."""

from __future__ import annotations

import json

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from .. import clock, db
from ..auth import policy
from ..errors import DomainError, ValidationError
from ..org.models import Unit
from ..periods import Period
from ..web import current_plan, flash_error, get_or_404, require
from . import scheme, scoring
from .forms import AdjustmentForm, ItemForm, PeriodActionForm, ReopenForm, RuleForm
from .models import EVENTS, FORMULAS, RULE_KINDS, RULE_PARAMS, Adjustment, CardRule, SchemeItem

bp = Blueprint("assessment", __name__, url_prefix="/assessment")


def last_ended_quarter() -> Period:
    today = clock.today()
    q = Period.quarter(today.year, (today.month - 1) // 3 + 1)
    return q.previous()


def quarter_arg() -> Period:
    text = request.args.get("period")
    if not text:
        return last_ended_quarter()
    try:
        p = Period.parse(text)
    except ValidationError as e:
        flash(str(e), "error")
        return last_ended_quarter()
    if p.kind == "month":
        return Period.quarter(p.year, (p.first - 1) // 3 + 1)
    if p.kind != "quarter":
        flash("考评按季度计分,已显示该年第四季度", "info")
        return Period.quarter(p.year, 4)
    return p


def _visible(snapshot: dict, published: bool) -> dict:
    """Before publishing, a unit's officer sees only its own score."""
    if published or policy.can(current_user, "assessment.view_all"):
        return snapshot
    own = current_user.unit_id
    return {
        **snapshot,
        "groups": {k: [r for r in rows if r["unit_id"] == own] for k, rows in snapshot["groups"].items()},
    }


def _checks_changes() -> bool:
    """Whether the page lists what changed after publication: that means scoring the quarter live as well, so only
    the reviewers and administrators who decide on re-opening pay for it; units read the frozen results."""
    return policy.can(current_user, "assessment.view_all")


@bp.get("/")
@login_required
def index():
    require("assessment.view")
    period = quarter_arg()
    res = scoring.quarter_results(db.session, current_plan(), period, changes=_checks_changes())
    snap, pub = res.snapshot, res.publication
    return render_template(
        "assessment/index.html",
        period=period,
        snap=_visible(snap, pub is not None),
        pub=pub,
        res=res,
        history=scoring.publication_history(db.session, period),
        publish_form=PeriodActionForm(period=period.code),
        reopen_form=ReopenForm(period=period.code),
        prev=period.previous(),
        next=Period.quarter(period.year + (period.last == 12), (period.last % 12) // 3 + 1),
        can_publish=period.end < clock.today(),
    )


@bp.get("/units/<int:unit_id>")
@login_required
def unit(unit_id: int):
    u = get_or_404(Unit, unit_id)
    period = quarter_arg()
    res = scoring.quarter_results(db.session, current_plan(), period, changes=_checks_changes())
    pub = res.publication
    if not (
        policy.can(current_user, "unit.view", u) or (pub is not None and policy.can(current_user, "assessment.view"))
    ):
        abort(403)
    changes = [c for c in res.changes if c.who == u.name]
    return render_template("assessment/unit.html", unit=u, period=period, row=res.row(u.id), pub=pub, changes=changes)


def _posted_period(form) -> Period | None:
    try:
        return Period.parse(form.period.data or "")
    except ValidationError as e:
        flash(str(e), "error")
        return None


@bp.post("/publish")
@login_required
def publish():
    require("assessment.publish")
    form = PeriodActionForm()
    period = _posted_period(form)
    if period is None:
        return redirect(url_for(".index"))
    if form.validate_on_submit():
        try:
            scoring.publish(db.session, current_user, current_plan(), period)
            db.session.commit()
            flash(f"{period.label}考评结果已发布,排名对所有单位可见", "success")
        except DomainError as e:
            flash_error(e)
    return redirect(url_for(".index", period=period.code))


@bp.post("/reopen")
@login_required
def reopen():
    require("assessment.publish")
    form = ReopenForm()
    period = _posted_period(form)
    if period is None:
        return redirect(url_for(".index"))
    if form.validate_on_submit():
        try:
            scoring.reopen(db.session, current_user, period, form.reason.data, plan=current_plan())
            db.session.commit()
            flash(f"{period.label}已重新开放,得分按最新数据计算", "success")
        except DomainError as e:
            flash_error(e)
    else:
        flash("重新开放须填写理由", "error")
    return redirect(url_for(".index", period=period.code))


@bp.get("/scheme")
@login_required
def scheme_page():
    require("scheme.view")
    return render_template(
        "assessment/scheme.html",
        items=scheme.items(db.session),
        adjustments=scheme.adjustments(db.session),
        rules=scheme.rules(db.session),
        formulas=FORMULAS,
        events=EVENTS,
        rule_kinds=RULE_KINDS,
        rule_params=RULE_PARAMS,
        item_form=ItemForm(),
        adj_form=AdjustmentForm(),
        rule_form=RuleForm(),
    )


@bp.post("/scheme/items/<int:item_id>")
@login_required
def item_update(item_id: int):
    require("scheme.manage")
    get_or_404(SchemeItem, item_id)
    form = ItemForm()
    if form.validate_on_submit():
        try:
            params = json.loads(form.params.data) if form.params.data else None
            if params is not None and not isinstance(params, dict):
                raise ValidationError("参数须为JSON对象")
            scheme.update_item(
                db.session,
                current_user,
                item_id,
                form.version.data,
                name=form.name.data,
                weight_township=form.weight_township.data,
                weight_department=form.weight_department.data,
                is_active=form.is_active.data,
                params=params,
            )
            db.session.commit()
            flash("考评项目已保存", "success")
        except json.JSONDecodeError:
            flash("参数不是有效的JSON", "error")
        except DomainError as e:
            flash_error(e)
    else:
        flash("请填写项目名称和分值", "error")
    return redirect(url_for(".scheme_page"))


@bp.post("/scheme/adjustments/<int:adj_id>")
@login_required
def adjustment_update(adj_id: int):
    require("scheme.manage")
    get_or_404(Adjustment, adj_id)
    form = AdjustmentForm()
    if form.validate_on_submit():
        try:
            scheme.update_adjustment(
                db.session,
                current_user,
                adj_id,
                form.version.data,
                points=form.points.data,
                cap=form.cap.data,
                is_active=form.is_active.data,
            )
            db.session.commit()
            flash("扣分加分项已保存", "success")
        except DomainError as e:
            flash_error(e)
    else:
        flash("请填写分值和上限", "error")
    return redirect(url_for(".scheme_page"))


@bp.post("/scheme/rules/<int:rule_id>")
@login_required
def rule_update(rule_id: int):
    require("scheme.manage")
    get_or_404(CardRule, rule_id)
    form = RuleForm()
    if form.validate_on_submit():
        keys = ("n", "pct", "months", "small_base", "abs")
        params = {k: getattr(form, k).data for k in keys if getattr(form, k).data is not None}
        try:
            scheme.update_rule(
                db.session, current_user, rule_id, form.version.data, params=params, is_active=form.is_active.data
            )
            db.session.commit()
            flash("红黄牌规则已保存", "success")
        except DomainError as e:
            flash_error(e)
    else:
        flash("参数须为整数", "error")
    return redirect(url_for(".scheme_page"))
