"""The decisions table (`decision_rows` in templates/meetings/_macros.html) written in Python: the meeting page's
agenda and decisions and the decisions list show one row per decision, each with a state badge, up to two links and
two permission checks, which the macro composed from about twenty template expressions per row.

The HTML is the macro's, byte for byte (tests/test_decision_rows.py renders both)."""

from __future__ import annotations

from flask import current_app, url_for
from flask_login import current_user
from markupsafe import Markup

from .. import clock, policy
from ..templating import cn_date
from ..templating import html_text as _e
from .decisions import decision_status
from .models import CLOSED, DECISION_COLOURS, DECISION_LABELS, OVERDUE

TEXT_CHARS = 80  # the decision's text, clipped as `truncate(80, True, '…')` clips it
ELLIPSIS = "…"
_MARK = 918273645  # an id no row has, marking where a link's own id goes


def _link(endpoint: str, name: str, **args):
    """url_for once with a mark for the id `name` (and the other `args`), then a function of the id giving the text
    url_for gives."""
    head, found, tail = url_for(endpoint, **{name: _MARK}, **args).partition(str(_MARK))
    if not found:
        raise ValueError(f"{endpoint}: no {name} in the URL")
    return lambda value: f"{head}{value}{tail}"


def _clip(text: str) -> str:
    """Jinja's `truncate(TEXT_CHARS, True, '…')` with the environment's leeway."""
    leeway = current_app.jinja_env.policies["truncate.leeway"]
    if len(text) <= TEXT_CHARS + leeway:
        return text
    return text[: TEXT_CHARS - len(ELLIPSIS)] + ELLIPSIS


def decision_badge(d, st: str | None = None) -> Markup:
    """The macro `decision_badge`: the displayed state (st, when worked out already), the stored one beside 逾期,
    and 逾期销号."""
    st = st or decision_status(d)
    out = f'<span class="badge state-{DECISION_COLOURS[st]}">{DECISION_LABELS[st]}</span>'
    if st == OVERDUE and d.status != "open":
        out += f'<span class="badge state-{DECISION_COLOURS[d.status]}">{DECISION_LABELS[d.status]}</span>'
    if d.status == CLOSED and d.closed_on_time is False:
        out += '<span class="badge state-late">逾期销号</span>'
    return Markup(out)  # nosec B704  # constants only: the states' colours and labels


def _head(show_meeting: bool, show_number: bool) -> str:
    return (
        '<table class="data decisions">\n<thead><tr>'
        + ('<th class="num">序号</th>' if show_number else "")
        + "<th>议定事项</th>"
        + ("<th>会议</th>" if show_meeting else "")
        + "<th>牵头单位</th><th>配合单位</th><th>办结期限</th><th>状态</th><th></th></tr></thead>\n<tbody>\n"
    )


def decision_rows(rows, show_meeting: bool = True, show_number: bool = False) -> Markup:
    """The decisions table of the macro `decision_rows`, every row's state worked out once (as of today)."""
    user = current_user._get_current_object()
    today = clock.today()
    may_review = policy.can(user, "decision.review")
    meeting_link = _link("meetings.show", "meeting_id")
    decision_link = _link("meetings.decision", "decision_id")
    out = [_head(show_meeting, show_number)]
    for d in rows:
        st = decision_status(d, today)
        number = f'<td class="num" data-label="序号">{d.number}</td>' if show_number else ""
        meeting = ""
        if show_meeting:
            m = d.meeting
            title, day = _e(m.title), cn_date(m.date)
            shown = (
                f'<a href="{meeting_link(d.meeting_id)}" title="{title}">{day}会议</a>'
                if policy.can(user, "meeting.view", m)
                else f'<span title="{title}">{day}会议</span>'
            )
            meeting = f'<td class="nowrap" data-label="会议">{shown} 第{d.number}项</td>'
        supporting = "、".join(u.name for u in d.supporting_units) or "—"
        if d.status in ("open", "returned") and policy.can(user, "decision.answer", d):
            action = "反馈"
        else:
            action = "审核" if may_review and d.status == "answered" else "查看"
        out.append(
            f'\n\n<tr class="{"row-overdue" if st == OVERDUE else ""}">\n'
            f"  {number}\n"
            f'  <td class="decision-text" data-label="议定事项">{_e(_clip(d.text))}</td>\n'
            f"  {meeting}\n"
            f'  <td class="nowrap" data-label="牵头单位">{_e(d.lead_unit.name)}</td>\n'
            f'  <td data-label="配合单位">{_e(supporting)}</td>\n'
            f'  <td class="nowrap" data-label="办结期限">{cn_date(d.deadline)}</td>\n'
            f'  <td class="nowrap" data-label="状态">{decision_badge(d, st)}</td>\n'
            f'  <td class="nowrap" data-label=""><a href="{decision_link(d.id)}">{action}</a></td>\n'
            "</tr>\n"
        )
    if not rows:
        out.append('<tr><td colspan="8" class="muted">没有督办事项。</td></tr>')
    out.append("\n</tbody>\n</table>")
    return Markup("".join(out))  # nosec B704  # every text and URL put into the rows went through html_text


def ranking_line(summary) -> Markup:
    """The meeting material's 综合排名: each town in the order of the combined ranking with its rank, its name
    linking to its figures and, when it did not meet 两降两升 or its data are incomplete, that; `;` between towns."""
    town_link = _link("metrics.town", "unit_id", period=summary.period.code)
    parts = []
    for u in summary.ranked():
        verdict = u.verdict
        note = "(未实现)" if verdict == "unmet" else ("(数据不全)" if verdict == "incomplete" else "")
        parts.append(f'{_e(u.rank)}. <a href="{_e(town_link(u.unit.id))}">{_e(u.unit.name)}</a>{note}')
    return Markup(";".join(parts))  # nosec B704  # every text and URL put into the line went through html_text
