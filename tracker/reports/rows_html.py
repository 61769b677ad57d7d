"""The briefing's progress tables written in Python: one row per unit of each task (hundreds at district scale), which
the template composed from about ten expressions and a loop per row; and its towns' table, a row per town with two
cells of about ten expressions for each of the four indicators; and its scores' tables, a row per unit with a cell
per item; and its lists of overdue reports, urges, decisions and publicity figures, a row of a few cells per item.
The HTML is the template's, byte for byte
(tests/test_briefing_rows.py and tests/test_briefing_lists.py render both)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from markupsafe import Markup

from ..progress.models import STATE_LABELS
from ..templating import cn_date, cn_month, number
from ..templating import html_text as _e

if TYPE_CHECKING:  # the rows' module reads cards and meetings: not imported with the templates' helpers
    from .rows import UnitState


# the states' and roles' texts escaped once, not for every row (a state key, its label; a role's label)
_STATES = {state: _e(state) for state in STATE_LABELS}
_LABELS = {state: _e(label) for state, label in STATE_LABELS.items()}
_ROLES = {role: _e(role) for role in ("牵头", "成员")}


def unit_state_rows(units: list[UnitState]) -> Markup:
    """A task's units with their role, their state in the period's last month and the months in each state."""
    out = []
    states, labels, roles = _STATES, _LABELS, _ROLES
    for u in units:
        latest = u.latest
        shown = labels[latest] if latest else "—"
        months = "、".join(f"{labels[st]}{n}" for st, n in u.states.items())
        role = roles.get(u.role) or _e(u.role)
        out.append(
            f'\n<tr><td class="uname">{_e(u.unit)}</td><td class="nw">{role}</td>'
            f'<td class="st-{states[latest] if latest else ""} state">{shown}</td>\n<td>{months}</td></tr>\n'
        )
    return Markup("".join(out))  # nosec B704  # every value put into the rows went through html_text


# a town's verdict: the class of its cell and its text
_VERDICT_CLASS = {"met": "good", "unmet": "bad"}
_VERDICT_TEXT = {"met": "实现", "unmet": "未实现"}


def town_rows(summary) -> Markup:
    """The towns of the 两降两升 summary in the order of the combined ranking, each with its rank, its four
    indicators' figures and 同比 (the arrow, the change and whether it improved) and its verdict."""
    core = [(ind.code, ind.decimals) for ind in summary.core]
    out = []
    for u in summary.ranked():
        out.append(f'\n<tr><td class="num">{_e(u.rank)}</td><td class="uname">{_e(u.unit.name)}</td>\n')
        comparisons = u.comparisons
        for code, decimals in core:
            c = comparisons.get(code)
            value = _e(number(c.value, decimals)) if c and c.value is not None else "—"
            state = _e(c.state) if c else "none"
            out.append(f'\n<td class="num">{value}</td>\n<td class="num {state}">{_change(c)}</td>\n')
        verdict = u.verdict
        css, text = _VERDICT_CLASS.get(verdict, ""), _VERDICT_TEXT.get(verdict, "数据不全")
        out.append(f'\n<td class="{css}">{text}</td></tr>\n')
    return Markup("".join(out))  # nosec B704  # every value put into the rows went through html_text


def _change(c) -> str:
    """A town's 同比 of one indicator: 无同期 without last year's figure, — without a change, else the arrow and the
    change (in per cent when judged by it), and whether it improved."""
    if not c or c.last_year is None:
        return "无同期"
    if c.yoy_abs is None:
        return "—"
    state = c.state
    judged = ""
    if state in ("good", "bad"):
        judged = f'<span class="judge-word">{"向好" if state == "good" else "未向好"}</span>'
    # the template's % formatting, not format(): a Decimal formats itself otherwise (%g reads it as a float)
    if c.judged_by == "pct":
        return f"{_e(c.arrow)}{_e('%+.1f' % c.yoy_pct)}%{judged}"  # noqa: UP031
    return f"{_e(c.arrow)}{_e('%+g' % c.yoy_abs)}{judged}"  # noqa: UP031


_MISSING = object()  # a key a snapshot's dict lacks (a row frozen before it was kept): the template's Undefined


def _text(d: dict, key: str) -> str:
    """The template's `{{ d.key }}` of a snapshot's dict: the value escaped, nothing when the dict lacks the key."""
    value = d.get(key, _MISSING)
    return "" if value is _MISSING else _e(value)


def score_rows(rows: list[dict]) -> Markup:
    """A group's score rows of the snapshot, as `assessment/_score.html` reads them: the rank (不排名 without one,
    发布后公布 when hidden), the unit, the total (无适用考核项 without one), each item's points out of its weight
    (不适用 when it does not apply) and the deductions and bonuses."""
    out = []
    for row in rows:
        if row.get("rank", _MISSING) is not None:
            rank = _text(row, "rank")
        else:
            rank = "发布后公布" if row.get("rank_hidden") else "不排名"
        total = "无适用考核项" if row.get("total", _MISSING) is None else _text(row, "total")
        cells = "".join(
            '<td class="num">不适用</td>'
            if it.get("points", _MISSING) is None
            else f'<td class="num">{_text(it, "points")}/{_text(it, "weight")}</td>'
            for it in row.get("items", ())
        )
        adjustments = ";".join(f"{_text(a, 'name')}{_text(a, 'points')}" for a in row.get("adjustments", ()))
        out.append(
            f'\n<tr><td class="num">{rank}</td><td class="uname">{_text(row, "unit")}</td>'
            f'<td class="num"><strong>{total}</strong></td>\n{cells}\n<td class="small">{adjustments}</td></tr>\n'
        )
    return Markup("".join(out))  # nosec B704  # every value put into the rows went through html_text


def overdue_rows(rows) -> Markup:
    """The overdue reports (`OverdueRow`): unit, task, month, due date and how many times each was urged."""
    return Markup(  # nosec B704  # every value put into the rows went through html_text
        "".join(
            f'<tr><td class="uname">{_e(o.unit)}</td><td class="nw">{_e(o.task)}</td><td class="nw">{_e(o.month)}</td>'
            f'<td class="nw">{_e(cn_date(o.due))}</td><td class="num">{_e(o.urges)} 次</td></tr>'
            for o in rows
        )
    )


def urge_rows(rows) -> Markup:
    """The urges (`UrgeRow`): day, unit, task, month and message."""
    return Markup(  # nosec B704  # every value put into the rows went through html_text
        "".join(
            f'<tr><td class="nw">{_e(cn_date(u.at))}</td><td class="uname">{_e(u.unit)}</td>'
            f'<td class="nw">{_e(u.task)}</td><td class="nw">{_e(cn_month(u.month))}</td><td>{_e(u.message)}</td></tr>'
            for u in rows
        )
    )


def decision_table_rows(rows) -> Markup:
    """The rows of the macro `decision_table` (`DecisionRow`): meeting, text, lead and supporting units (— without
    any), deadline and state."""
    return Markup(  # nosec B704  # every value put into the rows went through html_text
        "".join(
            f'\n<tr><td>{_e(d.meeting)}</td><td>{_e(d.text)}</td><td class="uname">{_e(d.lead)}</td>'
            f'<td>{_e("、".join(d.supporting)) or "—"}</td>\n<td class="nw">{_e(cn_date(d.deadline))}</td>'
            f'<td class="st-{_e(d.status)} state">{_e(d.status_label)}</td></tr>\n'
            for d in rows
        )
    )


def tally_rows(tallies: dict, name_class: str = "") -> Markup:
    """A publicity table's rows (name -> `Tally`): the name (in a cell of class `name_class`, a constant), the
    activities and their audience."""
    cell = f'<td class="{name_class}">' if name_class else "<td>"
    return Markup(  # nosec B704  # every value put into the rows went through html_text
        "".join(
            f'<tr>{cell}{_e(name)}</td><td class="num">{_e(t.activities)}</td>'
            f'<td class="num">{_e(t.audience)}</td></tr>'
            for name, t in tallies.items()
        )
    )
