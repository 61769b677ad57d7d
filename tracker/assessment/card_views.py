"""The card board, a card's page, issuing, dismissing, rectification, lifting and escalation."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from .. import clock, db, policy
from ..evidence import service as evidence
from ..hardening import large_body
from ..meetings.models import Meeting
from ..org.service import active_unit_names
from ..periods import Period
from ..plans.current import current_plan
from ..saving import save
from ..web import EmptyForm, get_or_404, require, safe_next
from . import card_board, card_rows_html, holidays, lifting
from . import cards as service
from .forms import DismissForm, EditCardForm, IssueForm, LiftForm, PeriodActionForm, RectifyForm, RectReviewForm
from .models import Card, CardColour, CardStatus, Recommendation, Rectification
from .views import quarter_arg

bp = Blueprint("cards", __name__, url_prefix="/cards")
# the board's rows as HTML (tracker/assessment/card_rows_html.py)
bp.add_app_template_global(card_rows_html.card_rows, "card_rows_html")


def card_colour(session, card: Card) -> CardColour:
    return session.get(CardColour, card.colour)


def _issue_form(meeting_id: int | None = None) -> IssueForm:
    form = IssueForm(meeting_id=meeting_id)
    form.unit_id.choices = active_unit_names(db.session)
    return form


def _board_unit() -> int | None:
    """The unit whose cards the board shows the current user: None for those who see every card, else its own."""
    return None if policy.can(current_user, "card.view_all") else current_user.unit_id


def board_cards() -> dict:
    """The cards the board shows the current user (an officer: its unit's), active by colour and the history, as
    entities: the board's Excel export reads them here (the page reads them as rows, `card_board.board_rows`)."""
    return card_board.board(db.session, _board_unit())


@bp.get("/")
@login_required
def board():
    require("card.view")
    period = quarter_arg()
    data = card_board.board_rows(db.session, _board_unit())
    recs = card_board.pending_rows(db.session) if policy.can(current_user, "card.decide") else []
    return render_template(
        "cards/board.html",
        data=data,
        recs=recs,
        in_progress=card_board.in_progress_rows(db.session, recs),
        period=period,
        today=clock.today(),
        refresh_form=PeriodActionForm(period=period.code),
        issue_form=_issue_form(),
        dismiss_form=DismissForm(),
        empty=EmptyForm(),
    )


@bp.post("/recommend")
@login_required
def recommend():
    require("card.decide")
    form = PeriodActionForm()
    back = url_for(".board", period=form.period.data)

    def refresh():
        period = Period.parse(form.period.data or "")
        if not form.validate_on_submit():
            return None
        return period, service.refresh_recommendations(db.session, current_user, current_plan(), period)

    done = save(refresh, back=back)
    if done:
        period, recs = done
        flash(f"已按规则研判{period.label},待决定的建议{len(recs)}条", "success")
    return redirect(back)


@bp.post("/escalate")
@login_required
def escalate():
    require("card.decide")
    if EmptyForm().validate_on_submit():
        made = service.escalate_overdue(db.session, current_user)
        db.session.commit()
        flash(f"逾期未整改的黄牌生成升级建议{len(made)}条" if made else "没有需要升级的黄牌", "success")
    return redirect(url_for(".board"))


@bp.post("/issue")
@login_required
def issue():
    require("card.decide")
    form = _issue_form()
    target = safe_next(request.form.get("next")) or url_for(".board")
    if not form.validate_on_submit():
        flash("发牌信息不完整:" + ";".join(e for errs in form.errors.values() for e in errs), "error")
        return redirect(target)

    def write():
        if form.recommendation_id.data:
            return service.issue_recommended(
                db.session,
                current_user,
                form.recommendation_id.data,
                form.version.data,
                reason=form.reason.data or None,
                deadline=form.deadline.data,
                meeting_id=form.meeting_id.data,
            )
        else:
            return service.issue_card(
                db.session,
                current_user,
                unit_id=form.unit_id.data,
                colour=form.colour.data,
                reason=form.reason.data,
                period=form.period.data or quarter_arg().code,
                deadline=form.deadline.data,
                meeting_id=form.meeting_id.data,
            )

    card = save(write, back=target)
    flash(f"已向{card.unit.name}发出{card.colour_label},整改期限{card.deadline:%Y年%m月%d日}", "success")
    return redirect(url_for(".show", card_id=card.id))


@bp.post("/recommendations/<int:rec_id>/dismiss")
@login_required
def dismiss(rec_id: int):
    require("card.decide")
    rec = get_or_404(Recommendation, rec_id)
    form = DismissForm()
    back = url_for(".board", period=rec.period)
    if not form.validate_on_submit():
        flash("不予发牌须填写理由", "error")
        return redirect(back)
    save(lambda: service.dismiss(db.session, current_user, rec.id, form.version.data, form.reason.data), back=back)
    flash("已不予发牌,理由已记录", "success")
    return redirect(back)


@bp.get("/<int:card_id>")
@login_required
def show(card_id: int):
    card = get_or_404(Card, card_id)
    require("card.view", card)
    edit = EditCardForm(reason=card.reason, deadline=card.deadline)
    return render_template(
        "cards/card.html",
        card=card,
        state=service.card_state(card),
        conditions=lifting.lift_conditions(db.session, card) if card.status == CardStatus.ACTIVE else [],
        monthly=lifting.monthly_reports(db.session, card),
        calendar_gaps=holidays.card_gaps(db.session, card) if card.status == CardStatus.ACTIVE else [],
        meeting=db.session.get(Meeting, card.meeting_id) if card.meeting_id else None,
        earliest=lifting.earliest_lifting(card_colour(db.session, card), clock.local(card.issued_at).date()),
        edit_form=edit,
        rectify_form=RectifyForm(),
        review_form=RectReviewForm(),
        lift_form=LiftForm(),
    )


@bp.post("/<int:card_id>/edit")
@login_required
def edit(card_id: int):
    require("card.decide")
    get_or_404(Card, card_id)
    form = EditCardForm()
    back = url_for(".show", card_id=card_id)
    if not form.validate_on_submit():
        flash("请填写理由和有效的整改期限", "error")
        return redirect(back)
    save(
        lambda: service.edit_card(
            db.session,
            current_user,
            card_id,
            form.version.data,
            reason=form.reason.data,
            deadline=form.deadline.data,
        ),
        back=back,
    )
    flash("已修改理由和整改期限", "success")
    return redirect(back)


@bp.post("/<int:card_id>/rectify")
@login_required
@large_body(evidence.MAX_REQUEST_BYTES)
def rectify(card_id: int):
    card = get_or_404(Card, card_id)
    require("card.rectify", card)
    form = RectifyForm()
    back = url_for(".show", card_id=card_id)
    if not form.validate_on_submit():
        flash("请填写整改内容", "error")
        return redirect(back)

    def submit():
        r = service.submit_rectification(db.session, current_user, card.id, form.kind.data, form.text.data)
        # the 佐证材料 go in with the plan or report; a refused file refuses the submission
        evidence.store_all(db.session, current_user, "rectification", r.id, request.files.getlist("evidence"))
        return r

    save(submit, back=back)
    flash("已报送,等待审核", "success")
    return redirect(back)


@bp.post("/rectifications/<int:rect_id>/review")
@login_required
def review(rect_id: int):
    require("card.decide")
    r = get_or_404(Rectification, rect_id)
    form = RectReviewForm()
    back = url_for(".show", card_id=r.card_id)
    if not form.validate_on_submit():
        return redirect(back)
    save(
        lambda: service.review_rectification(
            db.session, current_user, r.id, form.version.data, form.decision.data, form.comment.data
        ),
        back=back,
    )
    flash("审核意见已记录", "success")
    return redirect(back)


@bp.post("/<int:card_id>/lift")
@login_required
def lift(card_id: int):
    require("card.decide")
    get_or_404(Card, card_id)
    form = LiftForm()
    back = url_for(".show", card_id=card_id)
    if not form.validate_on_submit():
        flash("摘牌须填写意见", "error")
        return redirect(back)
    save(lambda: service.lift(db.session, current_user, card_id, form.version.data, form.note.data), back=back)
    flash("已摘牌", "success")
    return redirect(back)
