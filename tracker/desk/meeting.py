"""A joint meeting's page with its material and agenda, and "hold the meeting, then archive its briefing".

The meeting page shows the figures, card recommendations and archived briefing of the areas above meetings.
Marking a meeting held queues its briefing's archive in the same transaction; a background job renders the PDF
once the transaction commits (the request does not wait), retried up to three times.
"""

from __future__ import annotations

from flask import abort, flash, jsonify, redirect, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy.orm import Session

from .. import clock, db, policy
from ..assessment import cards as card_service
from ..assessment.forms import DismissForm, IssueForm
from ..assessment.results import current_publication, quarter_results
from ..meetings import service
from ..meetings.models import Meeting
from ..meetings.views import bp as meetings_bp
from ..metrics import service as metrics
from ..notify.models import QUEUED
from ..notify.views import bp as notify_bp
from ..plans.models import Plan
from ..plans.service import active_plan, plain_duties
from ..reports import service as reports
from ..reports.archive_job import ARCHIVE, job_state, queue_archive
from ..reports.forms import RegenerateForm
from ..saving import save
from ..web import EmptyForm, get_or_404, require

# -- holding a meeting and archiving its briefing ---------------------------------------------------------


def hold_meeting(session: Session, actor, meeting_id: int, version: int | None) -> Meeting:
    """Mark the meeting held and, in the same transaction, queue the archive of the briefing it reviewed."""
    meeting = service.mark_held(session, actor, meeting_id, version)
    queue_archive(session, meeting.id, getattr(actor, "id", None))
    return meeting


# -- the meeting page ---------------------------------------------------------------------------------


def material(meeting: Meeting, plan: Plan | None, plan_duties: list | None = None, facts: dict | None = None) -> dict:
    """The agenda's figures and card recommendations and the archived briefing (areas above meetings); plan: the
    active plan, plan_duties: its duties as counting reads them (`plain_duties`), facts: the period's decisions as
    of today (`meeting_facts`), when read already."""
    period = reports.meeting_period(meeting)
    quarter = period.in_quarter
    # a quarter's figures come from its results: frozen once published (months are never published)
    results = (
        quarter_results(db.session, plan, period, plan_duties=plan_duties, decisions=facts)
        if plan and period.kind == "quarter"
        else None
    )
    # the meeting page issues recommended cards only: its form needs the CSRF token, not the list of units
    recs = card_service.pending(db.session, quarter)
    # a quarter's results know whether it is published (their period is the quarter); a month asks
    published = results.published if results is not None else current_publication(db.session, quarter) is not None
    if not policy.can(current_user, "assessment.view_ranks", published):
        # a recommendation on the ranking quotes the rank, which units read only after publication
        recs = [r for r in recs if r.rule.kind != "rank_bottom"]
    return {
        "archive": reports.current_archive(db.session, meeting.id, with_pdf=False),
        "archive_job": job_state(db.session, ARCHIVE, meeting.id),
        "regenerate_form": RegenerateForm(),
        "summary": results.summary if results is not None else metrics.summary(db.session, period),
        "published": results is not None and results.published,
        "changes": results.changes if results is not None else [],
        "recommendations": recs,
        "in_progress": card_service.in_progress(db.session, recs),
        "issue_form": IssueForm(meeting_id=meeting.id),
        "dismiss_form": DismissForm(),
        "quarter": quarter,
    }


@meetings_bp.get("/<int:meeting_id>")
@login_required
def show(meeting_id: int):
    meeting = service.page_meeting(db.session, meeting_id)
    if meeting is None:
        abort(404)
    require("meeting.view", meeting)
    today = clock.today()
    agenda = shown = None
    if policy.can(current_user, "meeting.view_all"):
        plan = active_plan(db.session)
        # the agenda's month counts and the quarter's live scores count the same duties: read once
        plan_duties = plain_duties(db.session, plan) if plan is not None else None
        # the agenda's table of decisions due and a quarter's live scores count the same decisions: read once
        facts = service.meeting_facts(db.session, meeting, today)
        agenda = service.agenda(db.session, meeting, today, plan_duties, plan=plan, facts=facts)
        shown = material(meeting, plan, plan_duties, facts)
    has_briefing = policy.can(current_user, "reports.view")
    briefing_url = url_for("reports.briefing", meeting=meeting.id) if has_briefing else None
    return render_template(
        "meetings/show.html",
        meeting=meeting,
        agenda=agenda,
        hold_form=EmptyForm(),
        counts=service.status_counts(meeting.decisions, today),
        briefing_url=briefing_url,
        material=shown,
    )


@meetings_bp.post("/<int:meeting_id>/hold")
@login_required
def hold(meeting_id: int):
    require("meeting.manage")
    get_or_404(Meeting, meeting_id)
    form = EmptyForm()
    back = url_for("meetings.show", meeting_id=meeting_id)
    if not form.validate_on_submit():
        flash("请求无效,请刷新后重试", "error")
        return redirect(back)
    save(
        lambda: hold_meeting(db.session, current_user, meeting_id, form.version.data),
        back=back,
        stale_message="会议信息已被他人修改,请核对后再标记召开",
    )
    flash("会议已标记为召开,会议信息已锁定;议定事项仍可录入", "success")
    return redirect(url_for("meetings.show", meeting_id=meeting_id))


# -- the archive job's status (polled by static/jobs.js) and its retry ------------------------------------


@notify_bp.get("/jobs/briefing/<int:meeting_id>")
@login_required
def archive_status(meeting_id: int):
    meeting = get_or_404(Meeting, meeting_id)
    require("meeting.view", meeting)
    job = job_state(db.session, ARCHIVE, meeting_id)
    arc = reports.current_archive(db.session, meeting_id, with_pdf=False)
    body = {"state": job.state if job else ("done" if arc else "none"), "attempts": job.attempts if job else 0}
    if job is not None and job.state == "failed":
        body["error"] = job.error
    if arc is not None:
        body.update(version=arc.version, sha256=arc.sha256)
    return jsonify(body)


@notify_bp.post("/jobs/briefing/<int:meeting_id>/retry")
@login_required
def archive_retry(meeting_id: int):
    require("meeting.manage")
    meeting = get_or_404(Meeting, meeting_id)
    job = job_state(db.session, ARCHIVE, meeting_id)
    if not EmptyForm().validate_on_submit() or not meeting.is_held or job is None or job.state != "failed":
        flash("只有生成失败的通报可以重试", "error")
    else:
        queue_archive(db.session, meeting_id, current_user.id)
        db.session.commit()
        flash("已重新排入生成队列" if job.state == QUEUED else "通报生成已重试", "success")
    return redirect(url_for("meetings.show", meeting_id=meeting_id))
