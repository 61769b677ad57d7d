"""The briefing's progress tables, written in Python (tracker/reports/rows_html.py), give the HTML the template gave,
byte for byte: the template's rows as they were are kept in tests/data and rendered beside them for every task of
the demo district's briefings (a quarter, a month, a year), for a unit whose name holds markup, a unit with no month
due and a task without units."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import render_template_string

from tracker.periods import Period
from tracker.reports import service
from tracker.reports.rows import TaskProgress, UnitState
from tracker.reports.rows_html import unit_state_rows

BEFORE = (Path(__file__).parent / "data" / "briefing_rows_before.html").read_text(encoding="utf-8")
NEW = "<tbody>\n{{ unit_state_rows(t.units) }}\n</tbody></table>"


@pytest.fixture
def demo(app, session, frozen, demo_districts):
    """The demo district on 3 December 2026."""
    demo_districts.install(app, (2026, 12, 3, 9))
    frozen(2026, 12, 3, 9)
    return app


def _both(t: TaskProgress) -> tuple[str, str]:
    return render_template_string(BEFORE, t=t), render_template_string(NEW, t=t)


@pytest.mark.parametrize("period", ["2026-Q3", "2026-Q4", "2026-11", "2026"])
def test_every_task_table_is_the_templates(demo, app, session, period):
    with app.test_request_context():
        data = service.briefing_data(session, Period.parse(period))
        assert data.tasks and any(t.units for t in data.tasks)
        for t in data.tasks:
            before, now = _both(t)
            assert now == before


def test_markup_no_month_due_and_no_unit(app):
    units = [
        UnitState("A&B<镇>", "牵头", {"overdue": 2, "accepted": 1}, "overdue"),
        UnitState("乙镇", "成员", {}, ""),
    ]
    with app.test_request_context():
        for t in (TaskProgress(1, "(一)任务", [], [], units, []), TaskProgress(2, "(二)任务", [], [], [], [])):
            before, now = _both(t)
            assert now == before
        assert "A&amp;B&lt;镇&gt;" in str(unit_state_rows(units)) and "—" in str(unit_state_rows(units))
