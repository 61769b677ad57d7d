"""导出Excel: each list's page as an .xlsx file, read through the page's own query with the same URL parameters and
the same permission checks, so the file holds exactly the rows the page shows its reader."""

from __future__ import annotations

import re

from flask import Blueprint, Response, request, url_for
from flask_login import current_user, login_required

from .. import db
from ..assessment import card_views
from ..assessment import views as assessment_views
from ..audit import views as audit_views
from ..meetings import views as meetings_views
from ..plans.current import current_plan
from ..progress import service as progress_service
from ..progress import views as progress_views
from ..saving import save
from ..web import require, xlsx_response
from ..xlsx import Sheet, workbook
from . import lists
from .service import record_export

bp = Blueprint("exports", __name__, url_prefix="/exports")
AUDIT_LIMIT = 50_000  # newest events in one file; filter by action for older ones


def _send(name: str, sheets: list[Sheet], rows: int, filters: dict, filename: str, back: str) -> Response:
    """Write the workbook, audit the export (export.<name>), and hand the file over."""
    data = workbook(sheets)
    save(lambda: record_export(db.session, current_user, name, filters, rows), back=back)
    return xlsx_response(data, filename)


def _name(stem: str, *parts) -> str:
    """reports-2026-10.xlsx: the list and its period, in letters, digits and hyphens only (a period typed into the
    URL is not checked by every page, and the name goes into a header)."""
    cleaned = (re.sub(r"[^0-9A-Za-z-]", "", str(p)) for p in parts if p)
    return "-".join([stem, *(p for p in cleaned if p)]) + ".xlsx"


@bp.get("/reports.xlsx")
@login_required
def reports():
    filters = progress_views.report_filters()
    rows = progress_views.report_rows(filters)
    back = url_for("progress.reports", **request.args)
    return _send("reports", [lists.reports_sheet(rows)], len(rows), filters, _name("reports", filters["period"]), back)


@bp.get("/grid.xlsx")
@login_required
def grid():
    require("dashboard.view")
    period = progress_views.month_arg()
    g = progress_service.build_grid(db.session, current_plan(), period)
    back = url_for("progress.grid", period=period.code)
    return _send("grid", lists.grid_sheets(g), len(g.tasks), {"period": period.code}, _name("grid", period.code), back)


@bp.get("/decisions.xlsx")
@login_required
def decisions():
    require("decision.view")
    shown = meetings_views.decision_list()
    filters = {
        "status": shown["status"],
        "unit": shown["unit_id"],
        "meeting": shown["meeting_id"],
        "due": shown["due_in"].code if shown["due_in"] else None,
    }
    back = url_for("meetings.decisions", **request.args)
    sheet = lists.decisions_sheet(shown["rows"])
    return _send("decisions", [sheet], len(shown["rows"]), filters, _name("decisions", filters["due"]), back)


@bp.get("/scores.xlsx")
@login_required
def scores():
    require("assessment.view")
    period, _res, shown, show_ranks = assessment_views.ranking(changes=False)
    groups = shown["groups"]
    back = url_for("assessment.index", period=period.code)
    sheets = lists.scores_sheets(period.label, groups, show_ranks)
    rows = sum(len(r) for r in groups.values())
    return _send("scores", sheets, rows, {"period": period.code}, _name("scores", period.code), back)


@bp.get("/cards.xlsx")
@login_required
def cards():
    require("card.view")
    data = card_views.board_cards()
    shown = lists.board_order(data)
    back = url_for("cards.board")
    return _send("cards", lists.cards_sheets(shown, data["monthly"]), len(shown), {}, _name("cards"), back)


@bp.get("/meetings.xlsx")
@login_required
def meetings():
    require("meeting.view")
    found, period = meetings_views.meeting_list()
    back = url_for("meetings.index", period=period)
    rows = len(found.upcoming) + len(found.past)
    sheet = lists.meetings_sheet(found)
    return _send("meetings", [sheet], rows, {"period": period}, _name("meetings", period), back)


@bp.get("/audit.xlsx")
@login_required
def audit():
    require("audit.view")
    action = request.args.get("action", "").strip()
    events = db.session.scalars(audit_views.events_query(action).limit(AUDIT_LIMIT)).all()
    back = url_for("audit.index", action=action or None)
    return _send("audit", [lists.audit_sheet(events)], len(events), {"action": action}, _name("audit"), back)
