"""The plan page's tasks written in Python: an article per task with its link, its text and its units (lead units,
then member departments and towns), which the template composed from a loop and an include of
`plans/_responsibility.html` per task. The HTML is the template's, byte for byte (tests/test_plan_articles.py
renders both)."""

from __future__ import annotations

from collections.abc import Callable

from markupsafe import Markup

from ..templating import html_text as _e
from .service import Responsibility


def task_articles(
    tasks: list,
    by_task: dict[int, Responsibility],
    names_by_task: dict[int, dict[str, Markup]],
    task_url: Callable[[int], str],
    townships_label: str,
) -> Markup:
    """Each task's article: `tasks` (with id, label, body and includes_townships) in order, their grouped duties
    `by_task` and the linked names of those duties `names_by_task` (plans/views.py UnitLinks), by task id;
    `task_url` gives a task's page from its id."""
    label = _e(townships_label)
    out = []
    for t in tasks:
        resp, names = by_task[t.id], names_by_task[t.id]
        towns = ""
        if t.includes_townships:
            towns = (
                f'{"、" if resp.departments else ""}<details class="inline"><summary>{label}'
                f"({len(resp.townships)}个)</summary>\n      {names['townships']}\n    </details>"
            )
        out.append(
            f'\n  <article class="task">\n    <h3><a href="{_e(task_url(t.id))}">{_e(t.label)}</a></h3>\n'
            f'    <p class="prose">{_e(t.body)}</p>\n    \n\n<dl class="resp">\n  <dt>责任单位</dt>\n'
            f"  <dd>{names['leads']}</dd>\n  <dt>成员单位</dt>\n  <dd>\n    \n    {names['departments']}\n"
            f"    {towns}\n  </dd>\n</dl>\n  </article>\n  "
        )
    return Markup("".join(out))  # nosec B704  # texts and URLs escaped above; names are escaped Markup (UnitLinks)
