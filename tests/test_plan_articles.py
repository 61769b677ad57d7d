"""The plan page's task articles, written in Python (tracker/plans/task_articles_html.py), give the HTML the
template's loop over the tasks with its include of `plans/_responsibility.html` gave, byte for byte: the loop as it
was is kept here and rendered beside them, for the seeded plan's tasks read as entities and for made-up tasks with
markup in their texts, without member departments, and without 各镇(街道)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from flask import render_template_string, url_for
from flask_login import login_user
from markupsafe import Markup

from tracker.plans import service
from tracker.plans.current import current_plan
from tracker.plans.task_articles_html import task_articles
from tracker.plans.views import UnitLinks

from .conftest import get_user

# the loop of templates/plans/plan.html before the tasks were written in Python
OLD_LOOP = (Path(__file__).parent / "data" / "plan_tasks_before.html").read_text(encoding="utf-8")


def _assert_same(tasks, by_task, names_by_task) -> None:
    old = render_template_string(
        OLD_LOOP,
        tasks=tasks,
        by_task=by_task,
        names_by_task=names_by_task,
        townships_label=service.TOWNSHIPS_LABEL,
    )
    new = task_articles(
        tasks,
        by_task,
        names_by_task,
        lambda task_id: url_for("plans.task", task_id=task_id),
        service.TOWNSHIPS_LABEL,
    )
    assert "  " + str(new) == old  # the loop starts indented; a template loses its last newline


def test_seeded_plan_tasks_alike(app, session, seeded):
    with app.test_request_context():
        login_user(get_user(session, "reviewer"))
        plan = current_plan()
        tasks = service.load_tasks(session, plan)
        by_task = service.responsibilities(service.duties(session, plan, tasks), tasks)
        assert tasks and any(t.includes_townships for t in tasks)
        links = UnitLinks()
        _assert_same(tasks, by_task, {t: links.names(r) for t, r in by_task.items()})


def test_made_up_tasks_alike(app):
    def task(task_id, with_towns):
        return SimpleNamespace(id=task_id, label=f"(一)<b>&{task_id}", body='"正文" <i>', includes_townships=with_towns)

    duty = object()
    cases = [  # (task, departments, towns)
        (task(1, True), [duty], [duty, duty]),
        (task(2, True), [], [duty]),
        (task(3, False), [duty], []),
        (task(4, False), [], []),
    ]
    tasks = [t for t, _d, _t in cases]
    by_task = {t.id: service.Responsibility([duty], depts, towns) for t, depts, towns in cases}
    names = {
        t.id: {
            "leads": Markup("<a>甲</a>"),
            "departments": Markup("乙&amp;") if depts else Markup(""),
            "townships": Markup("丙"),
        }
        for t, depts, _t in cases
    }
    with app.test_request_context():
        _assert_same(tasks, by_task, names)
