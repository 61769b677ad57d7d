"""The briefing's progress tables, written in Python (tracker/reports/rows_html.py), give the HTML the template gave,
byte for byte: the template's rows as they were are kept in tests/data and rendered beside them for every task of
the demo district's briefings (a quarter, a month, a year), for a unit whose name holds markup, a unit with no month
due and a task without units; and so does its towns' table (tests/data/briefing_towns_before.html), for the demo
district's briefings and for figures of every kind, and its scores' tables
(tests/data/briefing_scores_before.html), for the demo district's quarters and rows of every kind."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest
from flask import render_template_string

from tracker.assessment.results import without_rank
from tracker.periods import Period
from tracker.reports import service
from tracker.reports.rows import TaskProgress, UnitState
from tracker.reports.rows_html import unit_state_rows

BEFORE = (Path(__file__).parent / "data" / "briefing_rows_before.html").read_text(encoding="utf-8")
NEW = "<tbody>\n{{ unit_state_rows(t.units) }}\n</tbody></table>"


@pytest.fixture
def demo(app, session, frozen, demo_districts):
    """The demo district on 3 December 2026."""
    demo_districts.install(app, (2026, 12, 3, 9))
    frozen(2026, 12, 3, 9)
    return app


def _both(t: TaskProgress) -> tuple[str, str]:
    return render_template_string(BEFORE, t=t), render_template_string(NEW, t=t)


@pytest.mark.parametrize("period", ["2026-Q3", "2026-Q4", "2026-11", "2026"])
def test_every_task_table_is_the_templates(demo, app, session, period):
    with app.test_request_context():
        data = service.briefing_data(session, Period.parse(period))
        assert data.tasks and any(t.units for t in data.tasks)
        for t in data.tasks:
            before, now = _both(t)
            assert now == before


def test_markup_no_month_due_and_no_unit(app):
    units = [
        UnitState("A&B<镇>", "牵头", {"overdue": 2, "accepted": 1}, "overdue"),
        UnitState("乙镇", "成员", {}, ""),
    ]
    with app.test_request_context():
        for t in (TaskProgress(1, "(一)任务", [], [], units, []), TaskProgress(2, "(二)任务", [], [], [], [])):
            before, now = _both(t)
            assert now == before
        assert "A&amp;B&lt;镇&gt;" in str(unit_state_rows(units)) and "—" in str(unit_state_rows(units))


TOWNS_BEFORE = (Path(__file__).parent / "data" / "briefing_towns_before.html").read_text(encoding="utf-8")
TOWNS_NEW = "<tbody>\n{{ town_rows(s) }}\n</tbody></table>"


@pytest.mark.parametrize("period", ["2026-Q3", "2026-Q4", "2026-11", "2026"])
def test_towns_table_is_the_templates(demo, app, session, period):
    with app.test_request_context():
        s = service.briefing_data(session, Period.parse(period)).summary
        assert s.units
        assert render_template_string(TOWNS_NEW, s=s) == render_template_string(TOWNS_BEFORE, s=s)


_CMP = ("value", "last_year", "yoy_abs", "yoy_pct", "judged_by", "state", "arrow")


def _cmp(*values):
    return SimpleNamespace(**dict(zip(_CMP, values, strict=True)))


def test_towns_table_markup_missing_figures_and_each_kind_of_change(app):
    """A town whose name holds markup; a figure missing, one without last year's, one without a change; a change in
    per cent and one in numbers (a Decimal, which %g reads as a float), improved, not improved and not judged; the
    three verdicts."""
    core = [SimpleNamespace(code=c, decimals=d) for c, d in (("cases", 0), ("loss", 2), ("rate", 1), ("other", 0))]
    towns = [
        SimpleNamespace(
            rank=1,
            unit=SimpleNamespace(name="A&B<镇>"),
            verdict="met",
            comparisons={
                "cases": _cmp(12, 15, -3, Decimal("-20.0"), "pct", "good", "↓"),
                "loss": _cmp(Decimal("1234.5"), Decimal("1000"), Decimal("234.50"), None, "abs", "bad", "↑"),
                "rate": _cmp(Decimal("3.25"), None, None, None, "pct", "none", "–"),
            },
        ),
        SimpleNamespace(
            rank=2,
            unit=SimpleNamespace(name="乙镇"),
            verdict="incomplete",
            comparisons={
                "cases": _cmp(None, 4, None, None, "pct", "none", "–"),
                "other": _cmp(5, 5, 0, 0.0, "x", "", "→"),
            },
        ),
        SimpleNamespace(rank=3, unit=SimpleNamespace(name="丙镇"), verdict="unmet", comparisons={}),
    ]
    s = SimpleNamespace(core=core, ranked=lambda: towns)
    with app.test_request_context():
        before, now = render_template_string(TOWNS_BEFORE, s=s), render_template_string(TOWNS_NEW, s=s)
    assert now == before
    assert "A&amp;B&lt;镇&gt;" in now and "1,234.50" in now and "↑+234.5<span" in now and "↓-20.0%" in now


SCORES_BEFORE = (Path(__file__).parent / "data" / "briefing_scores_before.html").read_text(encoding="utf-8")
SCORES_NEW = "<tbody>\n{{ score_rows(rows) }}\n</tbody></table>"


@pytest.mark.parametrize("period", ["2026-Q3", "2026-Q4"])
def test_scores_tables_are_the_templates(demo, app, session, period):
    """Every group's rows of the demo district's quarter, as the reviewer reads them and as an officer reads them
    before publication (no rank: 发布后公布)."""
    with app.test_request_context():
        groups = service.briefing_data(session, Period.parse(period)).scores["groups"]
        assert any(groups.values())
        for rows in groups.values():
            for shown in (rows, [without_rank(r) for r in rows]):
                assert render_template_string(SCORES_NEW, rows=shown) == render_template_string(
                    SCORES_BEFORE, rows=shown
                )


def test_scores_rows_of_every_kind(app):
    """A unit whose name holds markup; an item not applicable; no score; a hidden rank and no rank; deductions and
    bonuses; a row frozen before its adjustments, a total or an item's points were kept (the template read nothing
    there)."""
    item = {"code": "A", "name": "报送", "weight": "40.00", "points": "30.00"}
    rows = [
        {
            "unit": "A&B<镇>",
            "rank": 1,
            "total": "72.50",
            "items": [item, {**item, "points": None}],
            "adjustments": [{"name": "迟报", "points": "-1.00"}, {"name": "零发案", "points": "2.00"}],
        },
        {"unit": "乙镇", "rank": None, "total": None, "items": [{**item, "points": None}], "adjustments": []},
        {"unit": "丙镇", "rank": None, "rank_hidden": True, "total": "60.00", "items": [item]},
        {"unit": "丁镇", "rank": 2, "items": [{"code": "A", "weight": "40.00"}]},
    ]
    with app.test_request_context():
        now = render_template_string(SCORES_NEW, rows=rows)
        assert now == render_template_string(SCORES_BEFORE, rows=rows)
    assert "A&amp;B&lt;镇&gt;" in now and '30.00/40.00</td><td class="num">不适用' in now
    assert "迟报-1.00;零发案2.00" in now and "无适用考核项" in now and "发布后公布" in now and "不排名" in now
