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


def unit_state_rows(units: list[UnitState]) -> Markup:
    """A task's units with their role, their state in the period's last month and the months in each state."""
    out = []
    for u in units:
        latest = u.latest
        shown = _e(STATE_LABELS[latest]) if latest else "—"
        months = "、".join(f"{_e(STATE_LABELS[st])}{n}" for st, n in u.states.items())
        out.append(
            f'\n<tr><td class="uname">{_e(u.unit)}</td><td class="nw">{_e(u.role)}</td>'
            f'<td class="st-{_e(latest)} state">{shown}</td>\n<td>{months}</td></tr>\n'
        )
    return Markup("".join(out))  # nosec B704  # every value put into the rows went through html_text
