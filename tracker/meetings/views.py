"""Joint-meeting pages: the list, a meeting with its agenda, scheduling, decisions, and supervised items."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from .. import clock, db, policy
from ..errors import ValidationError
from ..evidence import service as evidence
from ..hardening import large_body
from ..org.models import KIND_TOWNSHIP
from ..org.service import active_units
from ..periods import Period, period_arg
from ..saving import STALE, save
from ..web import get_or_404, require
from . import rows_html, service
from .forms import AnswerForm, DecisionForm, MeetingForm, ReviewForm
from .models import ANSWERED, DECISION_LABELS, Decision, Meeting

bp = Blueprint("meetings", __name__, url_prefix="/meetings")
# the decisions table and a decision's state badge as HTML (tracker/meetings/rows_html.py)
bp.add_app_template_global(rows_html.decision_rows, "decision_rows_html")
bp.add_app_template_global(rows_html.decision_badge, "decision_badge_html")
# the meeting material's 综合排名 line as HTML (the same)
bp.add_app_template_global(rows_html.ranking_line, "ranking_line_html")


@bp.app_template_filter("period_label")
def period_label(code: str) -> str:
    """2026-Q3 -> 2026年第三季度, 2026-10 -> 2026年10月."""
    try:
        return Period.parse(code).label
    except ValidationError:
        return code


def _active_units() -> list[tuple[int, str, str]]:
    """(id, name, kind) of the active units, read once per request: the forms' choices and the pickers' town list
    share them (plain values, which a rollback after a refused save does not expire)."""
    if "active_units" not in g:
        g.active_units = [(u.id, u.name, u.kind) for u in active_units(db.session)]
    return g.active_units


def _unit_choices() -> list[tuple[int, str]]:
    return [(uid, name) for uid, name, _kind in _active_units()]


def _township_ids() -> list[int]:
    """The active towns and streets, for the unit pickers' 全选镇(街道) button."""
    return [uid for uid, _name, kind in _active_units() if kind == KIND_TOWNSHIP]


def meeting_list() -> tuple[service.MeetingList, str | None]:
    """The meetings the list page shows for its URL's period filter, and the filter applied (an invalid one is
    flashed and dropped, as every page answers it); the page and its Excel export both read them here."""
    p = period_arg(request.args.get("period"), kinds=service.FILTER_KINDS)
    period = p.code if p else None
    return service.list_meetings(db.session, current_user, period), period


@bp.get("/")
@login_required
def index():
    require("meeting.view")
    meetings, period = meeting_list()
    return render_template("meetings/index.html", meetings=meetings, period=period)


def _default_period() -> str:
    today = clock.today()
    return Period.quarter_of(today.year, today.month).previous().code


def _meeting_form_page(form: MeetingForm, meeting: Meeting | None, status: int = 200, conflict: bool = False):
    return (
        render_template(
            "meetings/form.html", form=form, meeting=meeting, conflict=conflict, township_ids=_township_ids()
        ),
        status,
    )


def _save_meeting(form: MeetingForm, meeting: Meeting | None) -> Meeting:
    values = dict(
        title=form.title.data,
        meeting_date=form.date.data,
        convener=form.convener.data,
        unit_ids=form.units.data or [],
        period=form.period.data,
        location=form.location.data,
        notes=form.notes.data,
    )
    if meeting is None:
        return service.schedule_meeting(db.session, current_user, **values)
    return service.update_meeting(db.session, current_user, meeting.id, form.version.data, **values)


def _meeting_form_post(form: MeetingForm, meeting: Meeting | None):
    """Validate and save; on any problem show the form again with what was typed."""
    if not form.validate_on_submit():
        return _meeting_form_page(form, meeting, 422)

    def page(status: int):
        current = db.session.get(Meeting, meeting.id) if meeting else None
        if status == STALE and current is not None:
            form.version.data = current.version  # saving again, after checking, overwrites knowingly
        return _meeting_form_page(form, current, status, conflict=status == STALE)

    saved = save(lambda: _save_meeting(form, meeting), page=page)
    flash("会议已安排" if meeting is None else "会议信息已保存", "success")
    return redirect(url_for(".show", meeting_id=saved.id))


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    require("meeting.manage")
    form = MeetingForm()
    form.units.choices = _unit_choices()
    if request.method != "POST":
        form.period.data = _default_period()
        return _meeting_form_page(form, None)
    return _meeting_form_post(form, None)


@bp.route("/<int:meeting_id>/edit", methods=["GET", "POST"])
@login_required
def edit(meeting_id: int):
    require("meeting.manage")
    meeting = get_or_404(Meeting, meeting_id)
    form = MeetingForm(obj=meeting if request.method != "POST" else None)
    form.units.choices = _unit_choices()
    if request.method != "POST":
        if meeting.is_held:
            flash("会议已召开,会议信息不能再修改", "error")
            return redirect(url_for(".show", meeting_id=meeting.id))
        form.units.data = [u.id for u in meeting.units]
        form.version.data = meeting.version
        return _meeting_form_page(form, meeting)
    return _meeting_form_post(form, meeting)


@bp.route("/<int:meeting_id>/decisions/new", methods=["GET", "POST"])
@login_required
def decision_new(meeting_id: int):
    require("meeting.manage")
    meeting = get_or_404(Meeting, meeting_id)
    form = DecisionForm()
    form.lead_unit.choices = [(0, "请选择")] + _unit_choices()
    form.supporting.choices = _unit_choices()

    def page(status: int):
        shown = db.session.get(Meeting, meeting_id)
        return render_template(
            "meetings/decision_form.html",
            form=form,
            meeting=shown,
            number=service.next_number(db.session, shown),
            township_ids=_township_ids(),
        ), status

    if request.method != "POST":
        return page(200)
    if not form.validate_on_submit():
        return page(422)
    d = save(
        lambda: service.record_decision(
            db.session,
            current_user,
            meeting.id,
            text=form.text.data,
            lead_unit_id=form.lead_unit.data or None,
            supporting_unit_ids=form.supporting.data or [],
            deadline=form.deadline.data,
        ),
        page=page,
    )
    flash(f"已录入第{d.number}项议定事项,已交{d.lead_unit.name}办理", "success")
    if request.form.get("then") == "next":
        return redirect(url_for(".decision_new", meeting_id=meeting.id))
    return redirect(url_for(".show", meeting_id=meeting.id))


def decision_list() -> dict:
    """The supervised items the list page shows for its URL's filters (lead unit for staff, meeting, state, deadline
    period), with the counts per state and the filters applied; the page and its Excel export both read them here.
    A meeting the user may not open is refused (404/403) as its own page refuses it."""
    staff = policy.can(current_user, "meeting.view_all")
    unit_id = request.args.get("unit", type=int) if staff else None
    meeting_id = request.args.get("meeting", type=int)
    # filtering by a meeting names it: refused (404/403) exactly as the meeting's own page would be
    meeting = get_or_404(Meeting, meeting_id) if meeting_id else None
    if meeting is not None:
        require("meeting.view", meeting)
    status = request.args.get("status") or ("all" if staff else service.PENDING)
    if status != "all" and status not in service.FILTERS:
        flash("状态筛选无效", "error")
        status = "all"
    due_in = period_arg(request.args.get("due"), kinds=service.FILTER_KINDS)
    query = dict(unit_id=unit_id, meeting_id=meeting_id, due_in=due_in)
    visible = service.list_decisions(db.session, current_user, **query)
    rows = visible if status == "all" else service.list_decisions(db.session, current_user, status=status, **query)
    counts = service.status_counts(visible)
    counts[service.PENDING] = sum(1 for d in visible if d.status in service.ANSWERABLE)
    counts["all"] = len(visible)
    return dict(
        rows=rows,
        status=status,
        counts=counts,
        unit_id=unit_id,
        meeting_id=meeting_id,
        due_in=due_in,
        staff=staff,
        meeting=meeting,
    )


@bp.get("/decisions")
@login_required
def decisions():
    require("decision.view")
    shown = decision_list()
    return render_template(
        "meetings/decisions.html",
        filters=service.FILTERS,
        units=active_units(db.session) if shown["staff"] else [],
        **shown,
    )


def _decision_page(
    d: Decision, answer_form: AnswerForm | None = None, review_form: ReviewForm | None = None, status: int = 200
):
    return render_template(
        "meetings/decision.html",
        d=d,
        answer_form=answer_form or AnswerForm(),
        review_form=review_form or ReviewForm(),
        labels=DECISION_LABELS,
        ANSWERED=ANSWERED,
    ), status


@bp.get("/decisions/<int:decision_id>")
@login_required
def decision(decision_id: int):
    d = get_or_404(Decision, decision_id)
    require("decision.view", d)
    return _decision_page(d)


@bp.post("/decisions/<int:decision_id>/answer")
@login_required
@large_body(evidence.MAX_REQUEST_BYTES)
def answer(decision_id: int):
    d = get_or_404(Decision, decision_id)
    require("decision.answer", d)
    form = AnswerForm()
    if not form.validate_on_submit():
        return _decision_page(d, answer_form=form, status=422)

    def page(status: int):
        current = get_or_404(Decision, decision_id)
        if status == STALE:
            form.version.data = current.version
        return _decision_page(current, answer_form=form, status=status)

    def submit():
        answered = service.answer_decision(db.session, current_user, d.id, form.version.data, form.feedback.data)
        # the 佐证材料 belong to this feedback (the newest answer); a refused file refuses the feedback
        feedback = answered.events[-1]
        evidence.store_all(db.session, current_user, "feedback", feedback.id, request.files.getlist("evidence"))
        return answered

    save(submit, page=page)
    flash("反馈已提交,等待联席办审核", "success")
    return redirect(url_for(".decision", decision_id=d.id))


@bp.post("/decisions/<int:decision_id>/review")
@login_required
def review(decision_id: int):
    require("decision.review")
    d = get_or_404(Decision, decision_id)
    form = ReviewForm()
    if not form.validate_on_submit():
        flash("请求无效,请刷新后重试", "error")
        return _decision_page(d, review_form=form, status=422)

    def page(status: int):
        current = get_or_404(Decision, decision_id)
        if status == STALE:
            form.version.data = current.version
        return _decision_page(current, review_form=form, status=status)

    save(
        lambda: service.review_decision(
            db.session, current_user, d.id, form.version.data, form.verdict.data, form.comment.data
        ),
        page=page,
        stale_message="该事项已有新的反馈或处理,请核对后重新审核。您填写的意见已保留在下方。",
    )
    flash("已销号" if form.verdict.data == "close" else f"已退回,{d.lead_unit.name}将重新反馈", "success")
    return redirect(url_for(".decision", decision_id=d.id))
