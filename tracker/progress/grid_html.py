"""The grid's cells as HTML, written in Python: at ten times the demo a month has 396 cells, and Jinja writing each
one (its state, lead and urge marks, link and tooltip: about eight escapes) cost more than the rest of the page.
The text is what `templates/progress/_grid.html` wrote for them."""

from __future__ import annotations

from collections.abc import Callable

from markupsafe import Markup

from ..plans.models import ROLE_LEAD
from ..templating import html_text as _e  # markupsafe.escape's text, as a str
from .grid import Grid, GridRow

_NONE = '  <td class="cell none"></td>'
_LEAD = "<sup>牵</sup>"
_URGED = '<sup class="urged">催</sup>'


def row_cells(row: GridRow, report_href: Callable[[int, int], str]) -> Markup:
    """One task's cells, a `<td>` per unit of the grid; report_href(task_id, unit_id): the link of a cell, escaped
    for HTML (`html_link_maker`)."""
    tid = row.task.id
    out = []
    escaped: dict[str, str] = {}  # a state and its label (a handful of values) escaped once
    for uid, c, state, title in row.cells:
        if c is None:
            out.append(_NONE)
            continue
        lead = c.role == ROLE_LEAD
        css = escaped.get(c.state) or escaped.setdefault(c.state, _e(c.state))
        text = escaped.get(state) or escaped.setdefault(state, _e(state))
        out.append(
            f'  <td class="cell state-{css}{" lead" if lead else ""}">\n'
            f'    <a href="{report_href(tid, uid)}" title="{_e(title)}">{text}'
            f"{_LEAD if lead else ''}{_URGED if c.urges else ''}</a>\n"
            "  </td>"
        )
    return Markup("\n".join(out))  # nosec B704  # every value in the cells is escaped (html_text, html_link_maker)


def unit_heads(grid: Grid, unit_href: Callable[[int], str]) -> Markup:
    """The header of each unit's column, with the link to the unit; unit_href(unit_id): its link, escaped for HTML
    (`html_link_maker`)."""
    return Markup(  # nosec B704  # every value in the headers is escaped (html_text, html_link_maker)
        "".join(
            f'<th class="unit {"township" if u.is_township else ""}"><a href="{unit_href(u.id)}">{_e(u.name)}</a></th>'
            for u in grid.units
        )
    )


def overdue_cells(grid: Grid, overdue_href: Callable[[int], str]) -> Markup:
    """The last row: each unit's overdue reports of the month, linked to their list; overdue_href(unit_id): the
    link, escaped for HTML (`html_link_maker`)."""
    out = []
    for u in grid.units:
        n = grid.unit_count(u.id, "overdue")
        out.append(
            f'<td class="num {"bad" if n else ""}" data-unit="{_e(u.name)}"><a href="{overdue_href(u.id)}">{n}</a></td>'
        )
    return Markup("".join(out))  # nosec B704  # every value is escaped (html_text, html_link_maker) or a count
