"""The grid's rows and links: what the page draws must be what the cells and url_for say."""

from __future__ import annotations

import re

import pytest
from flask import url_for
from markupsafe import escape
from sqlalchemy import event, select

from tracker.org import service as org_service
from tracker.org.models import Unit
from tracker.periods import Period
from tracker.plans import service as plan_service
from tracker.plans.models import Assignment, Task
from tracker.plans.service import active_plan
from tracker.progress import service as progress
from tracker.progress.models import STATE_LABELS
from tracker.progress.views import html_link_maker, link_maker

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


def test_html_link_maker_gives_url_for_text_escaped(app):
    """The grid's links as its HTML writes them: url_for's text escaped as markupsafe escapes it (& in a query)."""
    with app.test_request_context():
        report = html_link_maker("progress.report", "task_id,unit_id", task_id=0, unit_id=0, period="2026-11")
        overdue = html_link_maker("progress.reports", "unit", period="2026-11", unit=0, status="overdue")
        unit = html_link_maker("org.show", "unit_id", unit_id=0)
        odd = html_link_maker("progress.reports", "unit", period="<11>&'\"", unit=0)
        for a, b in [(1, 2), (17, 3), (123, 45678)]:
            assert report(a, b) == str(escape(url_for("progress.report", task_id=a, unit_id=b, period="2026-11")))
            assert overdue(b) == str(escape(url_for("progress.reports", period="2026-11", unit=b, status="overdue")))
            assert "&amp;unit=" in overdue(b)
            assert unit(a) == str(escape(url_for("org.show", unit_id=a)))
            assert odd(a) == str(escape(url_for("progress.reports", period="<11>&'\"", unit=a)))
        with pytest.raises(ValueError):
            html_link_maker("progress.report", "unit_id,task_id", task_id=0, unit_id=0, period="2026-11")


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


def _as_duties(session, plan):
    """What `duties` gives, as comparable values: (task, unit id, name, kind, sort order, role), read afresh (the
    session keeps the tasks' assignments it read before)."""
    session.expire_all()
    return [
        (d.task.id, d.unit.id, d.unit.name, d.unit.kind, d.unit.sort_order, d.role)
        for d in plan_service.duties(session, plan)
    ]


def _as_rows(session, plan):
    tasks, rows = plan_service.duty_rows(session, plan)
    return [(t.id, t.number, t.title, t.short_label) for t in tasks], [
        (task_id, u.id, u.name, u.kind, u.sort_order, role) for task_id, u, role in rows
    ]


def _expected_tasks(session, plan):
    return [(t.id, t.number, t.title, t.short_label) for t in plan_service.load_tasks(session, plan, measures=False)]


def test_duty_rows_are_the_duties(seeded, session, frozen):
    """The grid's plain rows give the very duties `duties` gives, in its order, through the cases it handles: a
    town named explicitly in a 各镇(街道) task keeps its role, a member assigned before the lead still comes after
    it, a deactivated unit has no duty, a town added later joins, a task with no unit is a row with no duty."""
    frozen(2026, 11, 26, 9)
    plan = active_plan(session)
    assert _as_rows(session, plan) == (_expected_tasks(session, plan), _as_duties(session, plan))
    admin = get_user(session, "admin")
    township_task, other_task = plan_service.load_tasks(session, plan)[:2]
    assert township_task.includes_townships
    other_task.includes_townships = False
    town, baisha = get_unit(session, "柳溪镇"), get_unit(session, "白沙镇")
    session.add(Assignment(task_id=township_task.id, unit_id=town.id, role="lead"))
    new_town = org_service.create_unit(session, admin, name="石桥镇", kind="township")
    session.flush()
    session.add(Assignment(task_id=other_task.id, unit_id=new_town.id, role="member"))
    session.flush()
    session.add(Assignment(task_id=other_task.id, unit_id=baisha.id, role="lead"))
    police = get_unit(session, "公安分局")
    police.is_active = False
    session.add(Task(plan_id=plan.id, number=99, title="无责任单位的任务", body="", includes_townships=False))
    session.commit()
    tasks, rows = _as_rows(session, plan)
    assert tasks == _expected_tasks(session, plan) and tasks[-1][1:] == (99, "无责任单位的任务", "任务九十九")
    assert rows == _as_duties(session, plan)
    assert (township_task.id, town.id, "柳溪镇", "township", town.sort_order, "lead") in rows
    other = [(unit_id, role) for task_id, unit_id, *_x, role in rows if task_id == other_task.id]
    assert other.index((baisha.id, "lead")) < other.index((new_town.id, "member"))
    assert (township_task.id, new_town.id, "石桥镇", "township", new_town.sort_order, "member") in rows
    assert not any(r[1] == police.id for r in rows) and not any(r[0] == tasks[-1][0] for r in rows)
    grid = progress.build_grid(session, plan, Period.parse("2026-11"))
    assert list(grid.cells) == [(task_id, unit_id) for task_id, unit_id, *_ in rows]
    assert [(t.id, t.number, t.title, t.short_label) for t in grid.tasks] == tasks
    assert grid.cell(township_task.id, town.id).role == "lead" and grid.cell(other_task.id, new_town.id).state
    assert police.id not in [u.id for u in grid.units]
    assert all(c is None for _uid, c, *_ in grid.rows[-1].cells)


def test_duty_rows_without_townships(seeded, session, app):
    """No task names 各镇(街道): the same duties, read in one statement (the towns are not read)."""
    plan = active_plan(session)
    for t in plan_service.load_tasks(session, plan):
        t.includes_townships = False
    session.commit()
    sent = []
    engine = app.extensions["tracker.engine"]
    listen = event.listens_for(engine, "before_cursor_execute")
    counter = listen(lambda *args: sent.append(args[2]))
    try:
        tasks, rows = _as_rows(session, plan)
    finally:
        event.remove(engine, "before_cursor_execute", counter)
    assert (tasks, rows) == (_expected_tasks(session, plan), _as_duties(session, plan))
    assert len([s for s in sent if not s.startswith("BEGIN")]) == 1
    assert rows and {r[1] for r in rows} < {u.id for u in session.scalars(select(Unit))}
