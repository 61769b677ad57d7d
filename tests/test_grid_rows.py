"""The grid's rows and links: what the page draws must be what the cells and url_for say."""

from __future__ import annotations

import pytest
from flask import url_for

from tracker.periods import Period
from tracker.plans.service import active_plan
from tracker.progress import service as progress
from tracker.progress.models import STATE_LABELS
from tracker.progress.views import link_maker


def test_link_maker_gives_url_for_text(app):
    with app.test_request_context():
        report = link_maker("progress.report", "task_id,unit_id", task_id=0, unit_id=0, period="2026-11")
        overdue = link_maker("progress.reports", "unit", period="2026-11", unit=0, status="overdue")
        unit = link_maker("org.show", "unit_id", unit_id=0)
        for a, b in [(1, 2), (17, 3), (123, 45678)]:
            assert report(a, b) == url_for("progress.report", task_id=a, unit_id=b, period="2026-11")
            assert overdue(b) == url_for("progress.reports", period="2026-11", unit=b, status="overdue")
            assert unit(a) == url_for("org.show", unit_id=a)
        with pytest.raises(ValueError):
            link_maker("progress.report", "unit_id,task_id", task_id=0, unit_id=0, period="2026-11")


def test_rows_follow_cells(seeded, session, frozen):
    frozen(2026, 11, 26, 9)
    plan = active_plan(session)
    grid = progress.build_grid(session, plan, Period.parse("2026-11"))
    assert [r.task for r in grid.rows] == grid.tasks
    drawn = 0
    for row in grid.rows:
        assert row.label == row.task.short_label
        assert [uid for uid, *_ in row.cells] == [u.id for u in grid.units]
        for (uid, cell, state, title), unit in zip(row.cells, grid.units, strict=True):
            assert cell == grid.cell(row.task.id, uid)
            if cell is None:
                continue
            drawn += 1
            assert state == STATE_LABELS[cell.state]
            assert title.startswith(f"{row.label} · {unit.name} · {state}")
            assert ("· 牵头" in title) == (cell.role == "lead")
            assert ("· 迟报" in title) == cell.is_late
    assert drawn == len(grid.cells) > 0
