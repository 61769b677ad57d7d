"""The briefing's lists written in Python (tracker/reports/rows_html.py: the overdue reports, the urges, the decisions
followed up and the publicity figures) give the HTML the template's loops gave, byte for byte: the loops as they were
are kept here and rendered beside them for the demo district's briefings (a quarter, a month, a year) and for rows
whose texts hold markup; and the decisions read as plain rows are the rows read from the entities."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from flask import render_template_string

from tracker.meetings import service as meetings
from tracker.periods import Period
from tracker.publicity.statistics import Tally
from tracker.reports import service
from tracker.reports.rows import DecisionRow, OverdueRow, UrgeRow, decision_row, follow_up_row

OVERDUE = (
    '{% for o in rows %}<tr><td class="uname">{{ o.unit }}</td><td class="nw">{{ o.task }}</td><td class="nw">'
    '{{ o.month }}</td><td class="nw">{{ o.due | cn_date }}</td><td class="num">{{ o.urges }} 次</td></tr>{% endfor %}'
)
URGES = (
    '{% for u in rows %}<tr><td class="nw">{{ u.at | cn_date }}</td><td class="uname">{{ u.unit }}</td><td class="nw">'
    '{{ u.task }}</td><td class="nw">{{ u.month | cn_month }}</td><td>{{ u.message }}</td></tr>{% endfor %}'
)
DECISIONS = (
    "{% for d in rows %}\n"
    '<tr><td>{{ d.meeting }}</td><td>{{ d.text }}</td><td class="uname">{{ d.lead }}</td>'
    "<td>{{ d.supporting | join('、') or '—' }}</td>\n"
    '<td class="nw">{{ d.deadline | cn_date }}</td><td class="st-{{ d.status }} state">{{ d.status_label }}</td></tr>\n'
    "{% endfor %}"
)
TARGETS = (
    '{% for name, t in rows.items() %}<tr><td>{{ name }}</td><td class="num">{{ t.activities }}</td>'
    '<td class="num">{{ t.audience }}</td></tr>{% endfor %}'
)
TOWNS = (
    '{% for name, t in rows.items() %}<tr><td class="uname">{{ name }}</td><td class="num">{{ t.activities }}</td>'
    '<td class="num">{{ t.audience }}</td></tr>{% endfor %}'
)
NEW = {
    OVERDUE: "{{ overdue_rows(rows) }}",
    URGES: "{{ urge_rows(rows) }}",
    DECISIONS: "{{ decision_table_rows(rows) }}",
    TARGETS: "{{ tally_rows(rows) }}",
    TOWNS: '{{ tally_rows(rows, "uname") }}',
}


def _same(before: str, rows) -> str:
    old = render_template_string(before, rows=rows)
    assert render_template_string(NEW[before], rows=rows) == old
    return old


@pytest.fixture
def demo(app, session, frozen, demo_districts):
    """The demo district on 3 December 2026."""
    demo_districts.install(app, (2026, 12, 3, 9))
    frozen(2026, 12, 3, 9)
    return app


@pytest.mark.parametrize("period", ["2026-Q3", "2026-Q4", "2026-11", "2026"])
def test_lists_are_the_templates(demo, app, session, period):
    with app.test_request_context():
        r = service.briefing_data(session, Period.parse(period))
        assert r.overdue and r.earlier_decisions and r.publicity
        _same(OVERDUE, r.overdue)
        _same(URGES, r.urges)
        _same(DECISIONS, r.earlier_decisions)
        _same(TARGETS, r.publicity.stats.by_target)
        _same(TOWNS, r.publicity.stats.by_town)


def test_lists_with_markup(app):
    with app.test_request_context():
        html = _same(OVERDUE, [OverdueRow("A&B<镇>", "任务'一'", "2026年9月", date(2026, 10, 5), "逾期未报", 2)])
        assert "A&amp;B&lt;镇&gt;" in html and "任务&#39;一&#39;" in html and "2 次" in html
        at = datetime(2026, 9, 30, 17, 0, tzinfo=UTC)  # 1 October in China
        html = _same(URGES, [UrgeRow(at, "乙镇", "任务一", "2026-09", 'please "now" <b>')])
        assert "2026年10月1日" in html and "&#34;now&#34; &lt;b&gt;" in html
        rows = [
            DecisionRow(1, "会<议>", "a&b", "甲", ["乙<", "丙"], date(2026, 9, 1), "overdue", "逾期(未反馈)"),
            DecisionRow(2, "会议", "text", "甲", [], date(2026, 9, 1), "accepted", "已销号"),
        ]
        html = _same(DECISIONS, rows)
        assert "乙&lt;、丙" in html and "<td>—</td>" in html
        tallies = {"A&B": Tally(3, 120), "乙镇": Tally()}
        assert "A&amp;B" in _same(TARGETS, tallies) and "A&amp;B" in _same(TOWNS, tallies)


@pytest.mark.parametrize("day", [date(2026, 12, 3), date(2026, 10, 16), date(2026, 7, 1)])
def test_follow_up_rows_are_the_entities(demo, session, day):
    """The decisions followed up, read as plain rows, are those read as entities, in the same order and state."""
    previous = meetings.previous_meetings(session, day)
    today = date(2026, 12, 3)
    entities = [decision_row(d, today) for d in meetings.follow_up_decisions(session, previous, day)]
    assert [follow_up_row(f, today) for f in meetings.follow_up_rows(session, previous, day)] == entities
    assert entities or day == date(2026, 7, 1)
    assert not day == date(2026, 12, 3) or any(len(e.supporting) > 1 for e in entities)


def test_no_previous_meeting(session):
    assert meetings.follow_up_rows(session, [], date(2026, 1, 1)) == []
