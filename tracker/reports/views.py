"""Report pages: HTML previews and PDF downloads of the briefing, the card report and the scorecard."""

from __future__ import annotations

from dataclasses import replace

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from .. import db, policy
from ..assessment import scoring
from ..assessment.views import quarter_arg
from ..meetings.models import Meeting
from ..org.models import Unit
from ..org.service import active_units
from ..periods import Period, period_arg
from ..plans.current import current_plan
from ..saving import save
from ..web import get_or_404, require
from . import builders, service
from .forms import RegenerateForm
from .pdf import FontMissing

bp = Blueprint("reports", __name__, url_prefix="/reports")


def _pdf_response(pdf: bytes, filename: str) -> Response:
    resp = Response(pdf, mimetype="application/pdf")
    resp.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{filename}"
    return resp


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name)


def _period() -> Period:
    """The span the URL names (the last ended quarter when none); an invalid one is refused with 400."""
    return period_arg(request.args.get("period"), default=quarter_arg, on_invalid=lambda reason: abort(400, reason))


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
        abort(400, "记分卡按季度生成")
    data = builders.scorecard(db.session, current_plan(), unit, period, _district())
    if not policy.can(current_user, "assessment.view_ranks", data):
        # before publication an officer reads the unit's own score, not its rank
        data = replace(data, score=scoring.without_rank(data.score))
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
    )


@bp.get("/scorecard.pdf")
@login_required
def scorecard_pdf():
    data, unit, period = _scorecard_data()
    return _pdf_response(service.to_pdf("scorecard", data), _quote(f"{unit.name}-记分卡-{period.code}.pdf"))


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
