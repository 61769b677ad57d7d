"""The briefing's progress tables written in Python: one row per unit of each task (hundreds at district scale), which
the template composed from about ten expressions and a loop per row. The HTML is the template's, byte for byte
(tests/test_briefing_rows.py renders both)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from markupsafe import Markup

from ..progress.models import STATE_LABELS
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
