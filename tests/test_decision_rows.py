"""The decisions table and the state badge, written in Python (tracker/meetings/rows_html.py), give the HTML the
Jinja macros gave, byte for byte: the macros as they were are kept here and rendered beside them, for the reviewer and
for officers, with and without the meeting and number columns, for every decision of the demo district in its state
as of the day (open, answered, returned, overdue, closed on time and late), a long text, markup in a text, a meeting
title and a unit's name, and no decision at all. So does the meeting material's 综合排名 line."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from flask import render_template_string
from flask_login import login_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from tracker.meetings import rows_html
from tracker.meetings.models import Decision, Meeting
from tracker.metrics.service import summary
from tracker.periods import Period

from .conftest import get_user

# templates/meetings/_macros.html before the rows were written in Python
OLD_MACROS = (Path(__file__).parent / "data" / "decision_macros_before.html").read_text(encoding="utf-8")


@pytest.fixture
def demo(app, session, frozen, demo_districts):
    """The demo district on 3 December 2026: decisions in every state."""
    demo_districts.install(app, (2026, 12, 3, 9))
    frozen(2026, 12, 3, 9)
    return app


def _decisions(session) -> list[Decision]:
    return list(
        session.scalars(
            select(Decision)
            .options(
                selectinload(Decision.meeting),
                selectinload(Decision.lead_unit),
                selectinload(Decision.supporting_units),
            )
            .order_by(Decision.id)
        )
    )


def _old(rows, show_meeting, show_number) -> str:
    # the macros' definitions leave blank lines before the call's output
    return render_template_string(
        OLD_MACROS + "{{ decision_rows(rows, show_meeting, show_number) }}",
        rows=rows,
        show_meeting=show_meeting,
        show_number=show_number,
    ).lstrip("\n")


@pytest.mark.parametrize("username", ["reviewer", "town1", "police", "admin"])
def test_the_table_is_the_macros_for_every_decision_and_user(demo, app, session, username):
    rows = _decisions(session)
    states = {(d.status, d.closed_on_time) for d in rows}
    assert len(rows) > 5 and len(states) >= 3
    with app.test_request_context():
        login_user(get_user(session, username))
        for show_meeting, show_number in ((True, False), (False, True), (True, True), (False, False)):
            new = str(rows_html.decision_rows(rows, show_meeting, show_number))
            assert new == _old(rows, show_meeting, show_number)
        assert str(rows_html.decision_rows([])) == _old([], True, False)
        assert "没有督办事项。" in str(rows_html.decision_rows([]))
        for d in rows:
            old_badge = render_template_string(OLD_MACROS + "{{ decision_badge(d) }}", d=d).lstrip("\n")
            assert str(rows_html.decision_badge(d)) == old_badge


def test_long_texts_and_markup_are_clipped_and_escaped_alike(demo, app, session):
    rows = _decisions(session)[:3]
    rows[0].text = "<b>甲</b>" + "乙" * 90
    rows[1].text = "丙" * 85  # within the leeway: kept whole
    rows[2].text = "丁" * 86
    rows[0].meeting.title = '会议"<i>'
    rows[0].lead_unit.name = "A&B<镇>"
    with app.test_request_context():
        login_user(get_user(session, "reviewer"))
        new = str(rows_html.decision_rows(rows))
        assert new == _old(rows, True, False)
        assert "&lt;b&gt;甲&lt;/b&gt;" in new and "…" in new and "丙" * 85 + "<" in new
        assert 'title="会议&#34;&lt;i&gt;"' in new and "A&amp;B&lt;镇&gt;" in new
    session.rollback()


def test_the_meeting_page_draws_the_rows(demo, app, session, client, auth):
    auth.login("reviewer")
    meeting = session.scalar(select(Meeting).where(Meeting.status == "held").order_by(Meeting.date.desc()).limit(1))
    html = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    for d in meeting.decisions:
        assert f'href="/meetings/decisions/{d.id}"' in html
    assert html.count('<table class="data decisions">') == 2  # the meeting's decisions and the agenda's


RANKING_BEFORE = (Path(__file__).parent / "data" / "ranking_line_before.html").read_text(encoding="utf-8")


def _town(rank: int, name: str, unit_id: int, verdict: str) -> SimpleNamespace:
    return SimpleNamespace(rank=rank, unit=SimpleNamespace(id=unit_id, name=name), verdict=verdict)


@pytest.mark.parametrize("period", ["2026-Q3", "2026-11"])
def test_ranking_line_is_the_templates(demo, app, session, period):
    """The meeting material's 综合排名 for the demo district's towns, and for towns of each verdict, one whose name
    holds markup, and none."""
    fake = [_town(1, "A&B<镇>", 7, "met"), _town(2, "乙镇", 12, "unmet"), _town(2, "丙镇", 3, "incomplete")]
    with app.test_request_context():
        real = summary(session, Period.parse(period))
        assert real.units
        for s in (
            real,
            SimpleNamespace(period=real.period, ranked=lambda: fake),
            SimpleNamespace(period=real.period, ranked=list),
        ):
            assert str(rows_html.ranking_line(s)) == render_template_string(RANKING_BEFORE, s=s)
        line = str(rows_html.ranking_line(SimpleNamespace(period=real.period, ranked=lambda: fake)))
    assert line.startswith('1. <a href="/metrics/') and "A&amp;B&lt;镇&gt;</a>;2. " in line
    assert line.endswith("丙镇</a>(数据不全)") and "乙镇</a>(未实现);" in line
