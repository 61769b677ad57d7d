"""Report pages: HTML previews and PDF downloads of the briefing, the card report and the scorecard."""

from __future__ import annotations

from dataclasses import replace

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from .. import db, policy
from ..assessment import results
from ..assessment.views import quarter_arg
from ..meetings.models import Meeting
from ..org.models import Unit
from ..org.service import active_units
from ..periods import Period, period_arg
from ..plans.current import current_plan
from ..saving import save
from ..web import error_page, get_or_404, require
from . import builders, official, service
from .forms import NumberingForm, RegenerateForm
from .models import DocumentNumber
from .pdf import FontMissing

bp = Blueprint("reports", __name__, url_prefix="/reports")


def _pdf_response(pdf: bytes, filename: str) -> Response:
    resp = Response(pdf, mimetype="application/pdf")
    resp.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{filename}"
    return resp


DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _docx_response(body: bytes, filename: str) -> Response:
    resp = Response(body, mimetype=DOCX)
    resp.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{filename}"
    return resp


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name)


def _period() -> Period:
    """The span the URL names (the last ended quarter when none); an invalid one is refused with 400."""
    return period_arg(
        request.args.get("period"), default=quarter_arg, on_invalid=lambda reason: error_page(400, reason)
    )


def _meeting() -> Meeting | None:
    mid = request.args.get("meeting", type=int)
    return get_or_404(Meeting, mid) if mid else None


@bp.get("/")
@login_required
def index():
    require("reports.view")
    meetings_ = db.session.query(Meeting).order_by(Meeting.date.desc()).limit(20).all()
    return render_template(
        "reports/index.html", period=quarter_arg(), units=active_units(db.session), meetings=meetings_
    )


@bp.get("/briefing")
@login_required
def briefing():
    require("reports.view")
    meeting = _meeting()
    period = service.meeting_period(meeting) if meeting else _period()
    data = service.briefing_data(db.session, period, meeting)
    archive = service.current_archive(db.session, meeting.id, with_pdf=False) if meeting else None
    return render_template(
        "reports/preview.html",
        body_template=service.TEMPLATES["briefing"],
        r=data,
        kind="briefing",
        archive=archive,
        pdf_url=url_for(".briefing_pdf", period=period.code, meeting=meeting.id if meeting else None),
        docx_url=url_for(".briefing_docx", period=period.code, meeting=meeting.id if meeting else None),
    )


@bp.get("/briefing.pdf")
@login_required
def briefing_pdf():
    require("reports.view")
    meeting = _meeting()
    if meeting is not None:
        archive = service.current_archive(db.session, meeting.id)
        if archive is not None:
            return _pdf_response(archive.pdf, _quote(f"{meeting.title}-通报-第{archive.version}版.pdf"))
    period = service.meeting_period(meeting) if meeting else _period()
    try:
        pdf = service.to_pdf("briefing", service.briefing_data(db.session, period, meeting))
    except FontMissing as e:
        abort(500, str(e))
    return _pdf_response(pdf, _quote(f"联席会议通报-{period.code}.pdf"))


@bp.get("/cards")
@login_required
def cards():
    require("reports.view")
    period = _period()
    data = builders.card_report(db.session, period, _district())
    return render_template(
        "reports/preview.html",
        body_template=service.TEMPLATES["cards"],
        r=data,
        kind="cards",
        pdf_url=url_for(".cards_pdf", period=period.code),
        docx_url=url_for(".cards_docx", period=period.code),
    )


@bp.get("/cards.pdf")
@login_required
def cards_pdf():
    require("reports.view")
    period = _period()
    pdf = service.to_pdf("cards", builders.card_report(db.session, period, _district()))
    return _pdf_response(pdf, _quote(f"红黄牌考评通报-{period.code}.pdf"))


def _scorecard_data():
    unit = get_or_404(Unit, request.args.get("unit", type=int) or current_user.unit_id or 0)
    require("reports.scorecard", unit)
    period = _period()
    if period.kind != "quarter":
        error_page(400, "记分卡按季度生成,请选择季度(如 2026-Q3)")
    data = builders.scorecard(db.session, current_plan(), unit, period, _district())
    if not policy.can(current_user, "assessment.view_ranks", data):
        # before publication an officer reads the unit's own score, not its rank
        data = replace(data, score=results.without_rank(data.score))
    return data, unit, period


@bp.get("/scorecard")
@login_required
def scorecard():
    data, unit, period = _scorecard_data()
    return render_template(
        "reports/preview.html",
        body_template=service.TEMPLATES["scorecard"],
        r=data,
        kind="scorecard",
        pdf_url=url_for(".scorecard_pdf", unit=unit.id, period=period.code),
        docx_url=url_for(".scorecard_docx", unit=unit.id, period=period.code),
    )


@bp.get("/scorecard.pdf")
@login_required
def scorecard_pdf():
    data, unit, period = _scorecard_data()
    return _pdf_response(service.to_pdf("scorecard", data), _quote(f"{unit.name}-记分卡-{period.code}.pdf"))


@bp.get("/briefing.docx")
@login_required
def briefing_docx():
    """The Word version of the briefing: built from today's data, a draft (a held meeting's record is its PDF)."""
    require("reports.view")
    meeting = _meeting()
    period = service.meeting_period(meeting) if meeting else _period()
    body = service.to_docx("briefing", service.briefing_data(db.session, period, meeting))
    name = f"{meeting.title}-通报-草稿.docx" if meeting else f"联席会议通报-{period.code}-草稿.docx"
    return _docx_response(body, _quote(name))


@bp.get("/cards.docx")
@login_required
def cards_docx():
    require("reports.view")
    period = _period()
    body = service.to_docx("cards", builders.card_report(db.session, period, _district()))
    return _docx_response(body, _quote(f"红黄牌考评通报-{period.code}-草稿.docx"))


@bp.get("/scorecard.docx")
@login_required
def scorecard_docx():
    data, unit, period = _scorecard_data()
    return _docx_response(service.to_docx("scorecard", data), _quote(f"{unit.name}-记分卡-{period.code}-草稿.docx"))


@bp.post("/meetings/<int:meeting_id>/regenerate")
@login_required
def regenerate(meeting_id: int):
    require("meeting.manage")
    meeting = get_or_404(Meeting, meeting_id)
    form = RegenerateForm()
    back = url_for("meetings.show", meeting_id=meeting_id)
    if not form.validate_on_submit():
        flash("重新生成须填写理由", "error")
        return redirect(back)
    arc = save(lambda: service.regenerate(db.session, current_user, meeting, form.reason.data), back=back)
    flash(f"已生成通报第{arc.version}版,SHA-256 {arc.sha256[:16]}…", "success")
    return redirect(back)


def _district() -> str:
    from flask import current_app

    return current_app.config["DISTRICT_NAME"]


@bp.route("/numbering", methods=["GET", "POST"])
@login_required
def numbering():
    """系统管理 › 发文字号: the prefix, the next sequence number of a year and the 抄送 line."""
    require("documents.manage")
    form = NumberingForm()

    def page(status: int = 200):
        row = official.numbering(db.session)
        numbers = db.session.execute(
            select(DocumentNumber, Meeting)
            .join(Meeting, Meeting.id == DocumentNumber.meeting_id)
            .order_by(DocumentNumber.year.desc(), DocumentNumber.seq.desc())
        ).all()
        body = render_template(
            "reports/numbering.html",
            form=form,
            row=row,
            taken=official.highest_taken(db.session, row.year),
            preview=official.format_number(row.prefix, row.year, official.next_number(db.session, row.year)),
            numbers=numbers,
        )
        return body, status

    if request.method == "POST":
        if not form.validate_on_submit():
            flash(";".join(m for msgs in form.errors.values() for m in msgs) or "请检查填写内容", "error")
            return page(422)
        save(
            lambda: official.update_numbering(
                db.session,
                current_user,
                int(form.version.data) if (form.version.data or "").isdigit() else None,
                prefix=form.prefix.data,
                year=form.year.data,
                next_seq=form.next_seq.data,
                copy_to=form.copy_to.data or "",
            ),
            page=page,
        )
        flash("发文字号设置已保存", "success")
        return redirect(url_for(".numbering"))
    row = official.numbering(db.session)
    form.prefix.data, form.year.data, form.next_seq.data = row.prefix, row.year, row.next_seq
    form.copy_to.data, form.version.data = row.copy_to, str(row.version)
    return page()
