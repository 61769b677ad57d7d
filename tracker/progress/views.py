"""Progress pages: the reviewer's grid, the officer's to-do list, a report, review and urging."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from .. import clock, db
from ..evidence import service as evidence
from ..hardening import large_body
from ..org.models import Unit
from ..org.service import active_units
from ..periods import Period, period_arg
from ..plans.current import current_plan
from ..plans.models import Task
from ..plans.service import due_date, has_duty
from ..saving import save
from ..templating import html_text
from ..web import EmptyForm, error_page, get_or_404, require, safe_next
from . import service
from .forms import ReportForm, ReviewForm, UrgeForm
from .grid_html import overdue_cells, row_cells, unit_heads
from .models import CONTENT_FIELDS, STATE_ORDER, ProgressReport

bp = Blueprint("progress", __name__, url_prefix="/progress")
LIST_LIMIT = 500


# ids no real row has, marking where link_maker fills in a link's own
_MARKS = (918273645, 546372819)


@bp.app_template_global()
def link_maker(endpoint: str, ids: str, **values):
    """For links that differ only in one or two ids (the grid's hundreds of cells): url_for once, with marks in
    place of the ids named in `ids` ("unit" or "task_id,unit_id": their values here only keep their places), then
    a function of those ids, in that order, giving the text url_for would give."""
    return _link(_link_pieces(endpoint, ids, values))


@bp.app_template_global()
def html_link_maker(endpoint: str, ids: str, **values):
    """`link_maker`, its links escaped for an HTML attribute as markupsafe.escape writes them (for HTML written in
    Python): the text around the ids is escaped once, the ids (integers) need none."""
    return _link([html_text(piece) for piece in _link_pieces(endpoint, ids, values)])


def _link_pieces(endpoint: str, ids: str, values: dict) -> list[str]:
    """url_for's text of the link split around the ids named in `ids`, in that order."""
    names = ids.split(",")
    if not 1 <= len(names) <= len(_MARKS):
        raise ValueError("link_maker fills in one or two ids")
    for name, mark in zip(names, _MARKS, strict=False):
        values[name] = mark
    pieces = [url_for(endpoint, **values)]
    for mark in _MARKS[: len(names)]:
        head, found, tail = pieces.pop().partition(str(mark))
        if not found:
            raise ValueError(f"{endpoint}: the ids must appear in the URL in the order given")
        pieces += [head, tail]
    return pieces


def _link(pieces: list[str]):
    if len(pieces) == 2:
        head, tail = pieces
        return lambda a: f"{head}{a}{tail}"
    head, middle, tail = pieces
    return lambda a, b: f"{head}{a}{middle}{b}{tail}"


# the grid's cells, column heads and overdue row as HTML (tracker/progress/grid_html.py)
bp.add_app_template_global(row_cells, "grid_cells")
bp.add_app_template_global(unit_heads, "grid_unit_heads")
bp.add_app_template_global(overdue_cells, "grid_overdue_cells")


def month_arg() -> Period:
    """The month the URL names (a longer span: its first month); this month when none or invalid."""
    p = period_arg(request.args.get("period"), default=lambda: Period.of_date(clock.today()))
    return p if p.kind == "month" else Period.month(p.year, p.first)


@bp.get("/grid")
@login_required
def grid():
    require("dashboard.view")
    plan = current_plan()
    period = month_arg()
    g = service.build_grid(db.session, plan, period)
    return render_template(
        "progress/grid.html", grid=g, plan=plan, states=STATE_ORDER, prev=period.previous(), next=period.next()
    )


@bp.post("/urges/read")
@login_required
def urges_read():
    require("todo.view")
    if EmptyForm().validate_on_submit():
        service.mark_urges_read(db.session, current_user, current_user.unit_id)
        db.session.commit()
    return redirect(url_for(".todo"))


def report_filters() -> dict:
    """The report list's filters from the URL (period, unit_id, status), a unit refused as its own page refuses
    it; the list page and its Excel export both read them here."""
    unit_id = request.args.get("unit", type=int)
    if unit_id:
        # refused (404/403) exactly as the unit's own page would be
        require("report.view", get_or_404(Unit, unit_id))
    status = request.args.get("status") or None
    status = status if status in service.LIST_STATES else None
    period = request.args.get("period") or None
    return dict(period=period, unit_id=unit_id, status=status)


def report_rows(filters: dict) -> list[service.ReportRow]:
    """The report list's rows for the current user, as many as the page shows."""
    return service.list_reports(db.session, current_user, **filters, limit=LIST_LIMIT)


@bp.get("/reports")
@login_required
def reports():
    filters = report_filters()
    unit_id, status, period = filters["unit_id"], filters["status"], filters["period"]
    rows = report_rows(filters)
    units = active_units(db.session) if current_user.role != "officer" else [current_user.unit]
    return render_template(
        "progress/reports.html",
        reports=rows,
        units=units,
        unit_id=unit_id,
        status=status,
        period=period,
        list_states=service.LIST_STATES,
        limit=LIST_LIMIT,
    )


def _report_context(task: Task, unit: Unit, period: Period):
    plan = task.plan
    report = service.find_report(db.session, task.id, unit.id, period.code)
    due = due_date(plan, period)
    state = service.report_state(plan, period, report, clock.today())
    return report, due, state


@bp.route("/tasks/<int:task_id>/units/<int:unit_id>/<period>", methods=["GET", "POST"])
@login_required
@large_body(evidence.MAX_REQUEST_BYTES)
def report(task_id: int, unit_id: int, period: str):
    task, unit = get_or_404(Task, task_id), get_or_404(Unit, unit_id)
    require("report.view", unit.id)
    # a report is a month's: any other segment names no page, and the 404 says why as a bad ?period= would
    p = period_arg(period, on_invalid=lambda reason: error_page(404, reason), kinds=("month",))
    if not has_duty(db.session, task, unit):
        error_page(404, f"{unit.name}不承担该任务")
    report = service.find_report(db.session, task.id, unit.id, p.code)
    form = ReportForm(obj=report if request.method == "GET" else None)
    form.measures.choices = [(m.id, m.text) for m in task.measures]
    if request.method == "GET" and report:
        form.measures.data = [m.id for m in report.measures]

    def page(status: int):
        report, due, state = _report_context(task, unit, p)
        return render_template(
            "progress/report.html",
            task=task,
            unit=unit,
            period=p,
            report=report,
            due=due,
            state=state,
            form=form,
            review_form=ReviewForm(),
            urge_form=UrgeForm(),
            fields=CONTENT_FIELDS,
        ), status

    if request.method != "POST":  # GET, and HEAD as a link checker sends it
        return page(200)
    require("report.write", unit.id)
    if not form.validate_on_submit():
        return page(422)

    save(lambda: _save(form, task, unit, p), page=page, form=form)
    flash("已报送,等待审核" if form.action.data == "submit" else "草稿已保存", "success")
    return redirect(url_for(".report", task_id=task.id, unit_id=unit.id, period=p.code))


def _save(form: ReportForm, task: Task, unit: Unit, p: Period):
    fields = {f: getattr(form, f).data for f in CONTENT_FIELDS}
    saved = service.save_draft(
        db.session,
        current_user,
        task_id=task.id,
        unit_id=unit.id,
        period=p.code,
        fields=fields,
        measure_ids=form.measures.data or [],
        version=form.version.data,
    )
    # the 佐证材料 chosen in the form are kept with the text; a refused file refuses the whole save
    evidence.store_all(db.session, current_user, "report", saved.id, request.files.getlist("evidence"))
    if form.action.data == "submit":
        saved = service.submit_report(db.session, current_user, saved.id, saved.version)
    return saved


@bp.post("/reports/<int:report_id>/review")
@login_required
def review(report_id: int):
    require("report.review")
    r = get_or_404(ProgressReport, report_id)
    form = ReviewForm()
    back = url_for(".report", task_id=r.task_id, unit_id=r.unit_id, period=r.period)
    if not form.validate_on_submit():
        flash("请求无效,请刷新后重试", "error")
        return redirect(back)
    save(
        lambda: service.review_report(
            db.session, current_user, report_id, form.version.data, form.decision.data, form.comment.data
        ),
        back=back,
    )
    flash("已审核通过" if form.decision.data == "accept" else "已退回,单位将收到退回意见", "success")
    return redirect(back)


@bp.post("/urge")
@login_required
def urge():
    require("report.urge")
    form = UrgeForm()
    target = safe_next(form.next.data) or url_for(".grid")
    if not form.validate_on_submit():
        flash("催办请求无效", "error")
        return redirect(target)
    u = save(
        lambda: service.urge(
            db.session,
            current_user,
            task_id=form.task_id.data,
            unit_id=form.unit_id.data,
            period=form.period.data,
            message=form.message.data,
        ),
        back=target,
    )
    flash(f"已向{u.unit.name}发出催办", "success")
    return redirect(target)
