"""佐证材料 pages: download, thumbnail, add and delete. An attachment is read, added and deleted under the rules of
its parent object (a report, a card's rectification, a decision's feedback, …), which the evidence area below
cannot load: PARENTS maps each owner kind to its parent, and tracker/policy.py decides on the parent.

Responses never let the browser interpret a file: everything but an image is `Content-Disposition: attachment`;
images (re-encoded by the product, EXIF-free) are shown inline; every file answer carries `nosniff` and a
sandboxing Content-Security-Policy, so a PDF with JavaScript is stored but never rendered here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Blueprint, abort, current_app, flash, redirect, request, send_file, url_for
from flask_login import current_user, login_required

from .. import db
from ..assessment.models import Rectification
from ..evidence import service as evidence
from ..evidence.blobs import store_for
from ..evidence.models import Attachment
from ..hardening import large_body
from ..meetings.models import DecisionEvent
from ..policy import can
from ..progress.models import ProgressReport
from ..progress.service import EDITABLE
from ..publicity.models import Activity
from ..saving import save
from ..web import EmptyForm, get_or_404

bp = Blueprint("evidence", __name__, url_prefix="/evidence")


@dataclass(frozen=True)
class Parent:
    """How an owner kind finds its parent and what the parent allows."""

    model: type
    view: Callable  # (user, parent) -> may read its attachments
    add: Callable  # (user, parent) -> may add or delete attachments now (the parent is still editable)
    page: Callable  # parent -> the URL of its page


PARENTS: dict[str, Parent] = {
    "report": Parent(
        ProgressReport,
        view=lambda user, r: can(user, "report.view", r),
        add=lambda user, r: can(user, "report.write", r) and r.status in EDITABLE,
        page=lambda r: url_for("progress.report", task_id=r.task_id, unit_id=r.unit_id, period=r.period),
    ),
    # a rectification and a feedback take their files when they are submitted; once in, they are not edited
    "rectification": Parent(
        Rectification,
        view=lambda user, r: can(user, "card.view", r.card),
        add=lambda user, r: False,
        page=lambda r: url_for("cards.show", card_id=r.card_id),
    ),
    "feedback": Parent(
        DecisionEvent,
        view=lambda user, e: e.action == "answer" and can(user, "decision.view", e.decision),
        add=lambda user, e: False,
        page=lambda e: url_for("meetings.decision", decision_id=e.decision_id),
    ),
    # an activity's photos: its unit's officers add and delete them as long as they may edit the activity
    "activity": Parent(
        Activity,
        view=lambda user, a: can(user, "activity.view", a),
        add=lambda user, a: can(user, "activity.write", a),
        page=lambda a: url_for("publicity.activity", activity_id=a.id),
    ),
}


def _parent(owner_kind: str, owner_id: int):
    kind = PARENTS.get(owner_kind)
    if kind is None:
        abort(404)
    return kind, get_or_404(kind.model, owner_id)


def _readable(attachment_id: int) -> tuple[Attachment, Parent, object]:
    att = get_or_404(Attachment, attachment_id)
    kind, parent = _parent(att.owner_kind, att.owner_id)
    if not kind.view(current_user, parent):
        abort(403)
    return att, kind, parent


def _file_response(sha: str, mimetype: str, name: str, inline: bool):
    path = store_for(current_app).path(sha)
    if not path.is_file():
        abort(404)
    resp = send_file(path, mimetype=mimetype, as_attachment=not inline, download_name=name, conditional=False)
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return resp


@bp.get("/<int:attachment_id>")
@login_required
def download(attachment_id: int):
    """The file: an image inline (it is the product's own re-encoding), anything else as a download."""
    att, _kind, _parent_obj = _readable(attachment_id)
    return _file_response(att.sha256, att.content_type, att.download_name, inline=att.is_image)


@bp.get("/<int:attachment_id>/thumb")
@login_required
def thumb(attachment_id: int):
    att, _kind, _parent_obj = _readable(attachment_id)
    if not att.thumb_sha256:
        abort(404)
    return _file_response(att.thumb_sha256, "image/jpeg", "thumb.jpg", inline=True)


@bp.post("/<owner_kind>/<int:owner_id>")
@login_required
@large_body(evidence.MAX_REQUEST_BYTES)
def upload(owner_kind: str, owner_id: int):
    """Add files to an object that is still editable (the report page's own form saves them with the text)."""
    kind, parent = _parent(owner_kind, owner_id)
    if not kind.view(current_user, parent) or not kind.add(current_user, parent):
        abort(403)
    back = kind.page(parent)
    if not EmptyForm().validate_on_submit():
        flash("请求无效,请刷新后重试", "error")
        return redirect(back)
    chosen = evidence.chosen(request.files.getlist("evidence"))
    if not chosen:
        flash("请选择要上传的文件", "error")
        return redirect(back)
    added = save(lambda: evidence.store_all(db.session, current_user, owner_kind, owner_id, chosen), back=back)
    flash(f"已上传{len(added)}个佐证材料", "success")
    return redirect(back)


@bp.post("/<int:attachment_id>/delete")
@login_required
def delete(attachment_id: int):
    att, kind, parent = _readable(attachment_id)
    if not kind.add(current_user, parent) or not can(current_user, "evidence.remove", att):
        abort(403)
    back = kind.page(parent)
    if not EmptyForm().validate_on_submit():
        flash("请求无效,请刷新后重试", "error")
        return redirect(back)
    name = att.name
    save(lambda: evidence.remove(db.session, current_user, att), back=back)
    flash(f"已删除佐证材料“{name}”", "success")
    return redirect(back)
