"""The desk: the pages where areas meet, on the top floor of the package.

The workbench, an officer's to-do list, a unit's page, a meeting's page with its material and agenda, and
"hold the meeting, then archive its briefing" read or act on several areas at once. They live here so that the
areas below only import downwards; nothing but the app factory imports the desk. Pages keep their areas'
endpoint names (progress.todo, org.show, meetings.show, ...): their routes are added to the areas' blueprints.
"""

from __future__ import annotations

from flask import Flask


def template_globals(app: Flask) -> None:
    """The labels and helpers the templates of every area use (the printed reports' too): what a template needs
    besides the filters, without the pages."""
    from ..meetings.models import DECISION_COLOURS, DECISION_LABELS
    from ..meetings.service import decision_status
    from ..metrics import cells as metric_cells
    from ..metrics.service import VERDICT_LABELS
    from ..plans.service import plan_period_label
    from ..progress.models import STATE_LABELS
    from ..reports.rows_html import (
        decision_table_rows,
        overdue_rows,
        score_rows,
        tally_rows,
        town_rows,
        unit_state_rows,
        urge_rows,
    )
    from . import evidence_globals

    app.jinja_env.globals.update(evidence_globals.template_helpers())
    app.jinja_env.globals.update(metric_cells.template_helpers())
    app.jinja_env.globals.update(
        STATE_LABELS=STATE_LABELS,
        VERDICT_LABELS=VERDICT_LABELS,
        plan_period_label=plan_period_label,
        DECISION_LABELS=DECISION_LABELS,
        DECISION_COLOURS=DECISION_COLOURS,
        decision_status=decision_status,
        unit_state_rows=unit_state_rows,  # the briefing's progress tables (tracker/reports/rows_html.py)
        town_rows=town_rows,  # the briefing's towns' table (the same)
        score_rows=score_rows,  # the briefing's scores' tables (the same)
        overdue_rows=overdue_rows,  # the briefing's lists of overdue reports, urges and publicity figures (the same)
        urge_rows=urge_rows,
        tally_rows=tally_rows,
        decision_table_rows=decision_table_rows,  # the reports' decisions tables (the same)
    )


def add_routes() -> None:
    """Import the desk's pages: each adds its routes to its area's blueprint, so this comes before the areas'
    blueprints are registered."""
    from . import evidence, home, meeting, unit  # noqa: F401


def init_app(app: Flask) -> None:
    """The workbench's blueprint, the attachments' routes and the queue's tasks (after `add_routes` and the areas'
    blueprints)."""
    from . import evidence, home, tasks

    app.register_blueprint(home.bp)
    app.register_blueprint(evidence.bp)
    tasks.register(app)
