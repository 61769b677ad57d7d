"""The card board's rows (`templates/cards/_card_row.html` as it was) written in Python: the active cards and the
history show one row per card, each with a link, its state worked out and about ten template expressions, which
an include composed for every card.

The HTML is the include's, byte for byte (tests/test_card_rows.py renders both)."""

from __future__ import annotations

from datetime import date

from flask import url_for
from markupsafe import Markup

from ..templating import cn_date
from ..templating import html_text as _e
from .cards import card_state
from .models import COLOUR_LABELS

_MARK = 918273645  # an id no card has, marking where a link's own id goes

# the colours and their labels escaped once, not for every row
_COLOURS = {colour: _e(colour) for colour in COLOUR_LABELS}
_LABELS = {colour: _e(label) for colour, label in COLOUR_LABELS.items()}


def card_rows(cards: list, monthly: dict, today: date) -> Markup:
    """The rows of the cards (`card_board.BoardCard`): number and link, colour, unit, rule (审核员提出 without one),
    issue day, deadline, state on `today`, and how many monthly reports are overdue (`monthly`: card id -> its
    `lifting.MonthlyReports`, the active red cards')."""
    head, _, tail = _e(url_for("cards.show", card_id=_MARK)).partition(str(_MARK))
    out = []
    for c in cards:
        css, label = card_state(c, today)
        mr = monthly.get(c.id)
        overdue = mr.overdue if mr else 0
        late = f'\n    <span class="badge state-overdue">整改报告逾期{_e(overdue)}份</span>' if overdue else ""
        colour = c.colour
        rule = "审核员提出" if c.rule_name is None else _e(c.rule_name)
        out.append(
            f'\n<tr>\n  <td data-label="编号"><a href="{head}{c.id}{tail}">#{_e(c.id)}</a></td>\n'
            f'  <td data-label="牌色"><span class="badge state-{_COLOURS.get(colour) or _e(colour)}">'
            f"{_LABELS[colour]}</span></td>\n"
            f'  <td data-label="单位">{_e(c.unit_name)}</td>\n  <td data-label="规则">{rule}</td>\n'
            f'  <td data-label="发牌日">{_e(cn_date(c.issued_at))}</td>\n'
            f'  <td data-label="整改期限">{_e(cn_date(c.deadline))}</td>\n'
            f'  <td data-label="状态"><span class="badge state-{_e(css)}">{_e(label)}</span>{late}</td>\n</tr>\n  '
        )
    return Markup("".join(out))  # nosec B704  # every value put into the rows went through html_text
