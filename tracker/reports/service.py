"""Rendering reports to HTML and PDF, and archiving a meeting's briefing unchanged once it is held."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from flask import current_app, render_template
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, defer

from .. import clock, policy
from ..audit import anchors
from ..audit.service import head as audit_head
from ..audit.service import record
from ..errors import ValidationError, WorkflowError
from ..periods import Period
from ..plans.service import active_plan
from . import builders, official
from .models import BriefingArchive
from .pdf import render_pdf

TEMPLATES = {
    "briefing": "reports/briefing_body.html",
    "cards": "reports/cards_body.html",
    "scorecard": "reports/scorecard_body.html",
}


def render_html(kind: str, data, for_print: bool, keywords: str = "") -> str:
    """The report's HTML: the print layout for WeasyPrint, or the body inside the app's page for preview.

    For print, each face is named only when it covers every character it sets (official.choose_faces)."""
    layout = "reports/print.html" if for_print else "reports/preview.html"
    html = render_template(layout, body_template=TEMPLATES[kind], r=data, kind=kind, keywords=keywords)
    if for_print:
        html = html.replace("/*FACES*/", official.choose_faces(html).css(), 1)
    return html


def to_pdf(kind: str, data, keywords: str = "") -> bytes:
    html = render_html(kind, data, for_print=True, keywords=keywords)
    pdf, _fetcher = render_pdf(html, Path(current_app.static_folder))
    return pdf


def to_docx(kind: str, data) -> bytes:
    """The Word version (a draft to edit) from the same data object and the same sections as the PDF."""
    from .word import to_docx as html_to_docx

    html = render_html(kind, data, for_print=True)
    return html_to_docx(html, data.title, Path(current_app.static_folder))


def meeting_period(meeting) -> Period:
    return Period.parse(meeting.period)


def briefing_data(session: Session, period: Period, meeting=None):
    plan = active_plan(session)
    return builders.briefing(session, plan, period, meeting, current_app.config["DISTRICT_NAME"])


def current_archive(session: Session, meeting_id: int, with_pdf: bool = True) -> BriefingArchive | None:
    """The meeting's latest archived briefing; without with_pdf the PDF's bytes stay in the database until read
    (pages show only its version, date, size and checksum)."""
    return session.scalar(_archive_query(with_pdf), {"meeting_id": meeting_id})


@cache
def _archive_query(with_pdf: bool):
    """`current_archive`'s statement, built once (the meeting page reads it on every request)."""
    q = select(BriefingArchive).where(BriefingArchive.meeting_id == bindparam("meeting_id"))
    if not with_pdf:
        q = q.options(defer(BriefingArchive.pdf))
    return q.order_by(BriefingArchive.version.desc()).limit(1)


def archive_briefing(session: Session, actor, meeting, reason: str = "会议召开时存档") -> BriefingArchive:
    """Render the meeting's briefing now and store the bytes with their SHA-256 as a new version.

    The first version takes the meeting's document number (发文字号); later versions keep it."""
    number = official.take_number(session, meeting, clock.today())
    data = briefing_data(session, meeting_period(meeting), meeting)
    chain = audit_head(session)
    pdf = to_pdf("briefing", data, keywords=f"audit-head #{chain.seq} {chain.mac}" if chain else "")
    last = current_archive(session, meeting.id, with_pdf=False)
    arc = BriefingArchive(
        meeting_id=meeting.id,
        version=(last.version + 1) if last else 1,
        pdf=pdf,
        sha256=hashlib.sha256(pdf).hexdigest(),
        size=len(pdf),
        generated_at=clock.now(),
        generated_by_id=getattr(actor, "id", None),
        reason=reason[:500],
        audit_seq=chain.seq if chain else None,
        audit_mac=chain.mac if chain else None,
    )
    session.add(arc)
    anchors.record_on_commit(session, "briefing", chain)
    record(
        session,
        actor,
        "briefing.archive",
        arc,
        summary=f"存档联席会议通报(第{arc.version}版,{number.text}):{meeting.title};{arc.reason}",
    )
    return arc


def regenerate(session: Session, actor, meeting, reason: str) -> BriefingArchive:
    """An explicit, audited new version of a held meeting's briefing; earlier versions stay."""
    policy.require(actor, "meeting.manage")
    if meeting.held_at is None:
        raise WorkflowError("会议尚未召开,通报尚未存档")
    reason = (reason or "").strip()
    if len(reason) < 4:
        raise ValidationError("重新生成须填写理由(至少4个字)")
    return archive_briefing(session, actor, meeting, reason=f"重新生成:{reason}")
