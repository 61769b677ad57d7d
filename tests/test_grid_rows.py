"""The grid's rows and links: what the page draws must be what the cells and url_for say."""

from __future__ import annotations

import re

import pytest
from flask import url_for

from tracker.periods import Period
from tracker.plans.service import active_plan
from tracker.progress import service as progress
from tracker.progress.models import STATE_LABELS
from tracker.progress.views import link_maker

from .conftest import get_unit, get_user


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


def test_page_draws_every_cell_and_escapes_names(seeded, session, frozen, client, auth):
    frozen(2026, 11, 26, 9)
    town = get_unit(session, "青石镇")
    town.name = '青石<i>镇</i>&"'
    session.commit()
    plan = active_plan(session)
    before = progress.build_grid(session, plan, Period.parse("2026-11"))
    unfiled = next(c for c in before.cells.values() if c.state in ("not_due", "overdue", "draft"))
    reviewer = get_user(session, "reviewer")
    progress.urge(session, reviewer, task_id=unfiled.task_id, unit_id=unfiled.unit_id, period="2026-11")
    session.commit()
    grid = progress.build_grid(session, plan, Period.parse("2026-11"))
    auth.login("reviewer")
    page = client.get("/progress/grid?period=2026-11").get_data(as_text=True)
    assert "<i>镇" not in page
    shown = "青石&lt;i&gt;镇&lt;/i&gt;&amp;&#34;"
    assert f'<a href="/units/{town.id}">{shown}</a></th>' in page
    assert (
        f'data-unit="{shown}"><a href="/progress/reports?period=2026-11&amp;unit={town.id}&amp;status=overdue">' in page
    )
    drawn = re.findall(
        r'<td class="cell state-(\w+)( lead)?">\s*<a href="/progress/tasks/(\d+)/units/(\d+)/2026-11" '
        r'title="([^"]*)">([^<]*)((?:<sup[^>]*>.</sup>)*)</a>\s*</td>',
        page,
    )
    assert len(drawn) == len(grid.cells) == page.count('<td class="cell state-')
    assert any(c.urges for c in grid.cells.values()) and any(c.role == "lead" for c in grid.cells.values())
    for state, lead, task_id, unit_id, title, label, marks in drawn:
        cell = grid.cell(int(task_id), int(unit_id))
        assert (state, bool(lead), label) == (cell.state, cell.role == "lead", STATE_LABELS[cell.state])
        assert ("<sup>牵</sup>" in marks, "催" in marks) == (cell.role == "lead", cell.urges > 0)
        if cell.unit_id == town.id:
            assert f" · {shown} · " in title
    assert page.count('<td class="cell none"></td>') == len(grid.tasks) * len(grid.units) - len(grid.cells)
