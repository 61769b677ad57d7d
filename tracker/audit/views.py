"""The audit trail page."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import login_required
from sqlalchemy import select

from .. import db
from ..web import require
from .models import AuditEvent
from .service import verify

bp = Blueprint("audit", __name__)
PAGE = 100


def events_query(action: str = ""):
    """The events the audit page lists, newest first, those whose action starts with `action` when given; the page
    (100 at a time) and its Excel export both read them here."""
    q = select(AuditEvent).order_by(AuditEvent.id.desc())
    if action:
        q = q.where(AuditEvent.action.startswith(action))
    return q


@bp.get("/audit")
@login_required
def index():
    require("audit.view")
    page = max(request.args.get("page", 1, type=int), 1)
    action = request.args.get("action", "").strip()
    events = db.session.scalars(events_query(action).offset((page - 1) * PAGE).limit(PAGE + 1)).all()
    problems = verify(db.session) if request.args.get("verify") else None
    return render_template(
        "audit/index.html",
        events=events[:PAGE],
        has_more=len(events) > PAGE,
        page=page,
        action=action,
        problems=problems,
    )
