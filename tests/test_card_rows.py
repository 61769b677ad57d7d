"""The card board's rows, written in Python (tracker/assessment/card_rows_html.py) from the cards read as plain rows
(`card_board.board_rows`), give the HTML the include `cards/_card_row.html` gave for the cards as entities
(`card_board.board`), byte for byte: the include as it was is kept here and rendered beside them, for the whole
district and one town, on a day with monthly reports overdue and a later one, and with markup in a unit's name and
a card without a rule. The pending recommendations and the cards they would duplicate read as rows are those the
entities give."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from flask import render_template_string
from sqlalchemy import select

from tracker import clock
from tracker.assessment import card_board, card_rows_html
from tracker.assessment import cards as service
from tracker.assessment.models import Card
from tracker.org.models import Unit

from .conftest import get_user

# templates/cards/_card_row.html before the rows were written in Python, in the board's loop
OLD_ROW = (Path(__file__).parent / "data" / "card_row_before.html").read_text(encoding="utf-8").removesuffix("\n")
OLD_LOOP = "{% for c in cards %}" + OLD_ROW + "\n  {% endfor %}"


@pytest.fixture
def demo(app, session, frozen, demo_districts):
    """The demo district on 3 December 2026: active red and yellow cards and lifted ones."""
    demo_districts.install(app, (2026, 12, 3, 9))
    frozen(2026, 12, 3, 9)
    return app


def _assert_same(session, unit_id=None) -> int:
    """The rows of every part of the board alike; how many rows there were."""
    old, new = card_board.board(session, unit_id), card_board.board_rows(session, unit_id)
    assert {k: v.overdue for k, v in new["monthly"].items()} == {k: v.overdue for k, v in old["monthly"].items()}
    shown = 0
    for part in ("red", "yellow", "history"):
        assert [c.id for c in new[part]] == [c.id for c in old[part]]
        was = render_template_string(OLD_LOOP, cards=old[part], state=service.card_state, data=old)
        assert str(card_rows_html.card_rows(new[part], new["monthly"], clock.today())) == was
        shown += len(new[part])
    return shown


@pytest.mark.parametrize("day", [(2026, 12, 3, 9), (2027, 3, 2, 9)])
def test_the_rows_are_the_include_for_the_district_and_a_town(demo, app, session, frozen, day):
    frozen(*day)
    with app.test_request_context():
        assert _assert_same(session) > 3
        town = session.scalar(select(Card.unit_id).order_by(Card.id))
        assert _assert_same(session, town) >= 1
        assert _assert_same(session, -1) == 0


def test_overdue_reports_are_shown_alike(demo, app, session, frozen):
    frozen(2027, 3, 2, 9)
    with app.test_request_context():
        data = card_board.board_rows(session)
        assert any(m.overdue for m in data["monthly"].values())
        assert "整改报告逾期" in str(card_rows_html.card_rows(data["red"], data["monthly"], clock.today()))


def test_markup_and_a_card_without_a_rule_are_written_alike(demo, app, session):
    card = session.scalar(select(Card).order_by(Card.id))
    card.rule_id = None
    session.get(Unit, card.unit_id).name = "<b>\"甲&乙'</b>"
    session.flush()
    with app.test_request_context():
        _assert_same(session)
        html = str(card_rows_html.card_rows(card_board.board_rows(session)["history"], {}, clock.today()))
        html += str(card_rows_html.card_rows(card_board.board_rows(session)["red"], {}, clock.today()))
        html += str(card_rows_html.card_rows(card_board.board_rows(session)["yellow"], {}, clock.today()))
        assert "&lt;b&gt;&#34;甲&amp;乙&#39;&lt;/b&gt;" in html and "审核员提出" in html


def test_pending_recommendations_and_their_cards_as_rows(demo, app, session):
    recs = service.pending(session)
    assert recs
    rec = recs[0]
    session.add(
        Card(
            unit_id=rec.unit_id,
            colour=rec.colour,
            rule_id=rec.rule_id,
            period=rec.period,
            reason="同一事实",
            figures=rec.figures,
            issued_by_id=get_user(session, "reviewer").id,
            plan_due=date(2026, 12, 20),
            deadline=date(2027, 1, 20),
        )
    )
    session.flush()
    rows = card_board.pending_rows(session)
    assert [(r.id, r.unit_name, r.rule_code, r.rule_name) for r in rows] == [
        (r.id, r.unit.name, r.rule.code, r.rule.name) for r in recs
    ]
    old = {rec_id: card.id for rec_id, card in service.in_progress(session, recs).items()}
    assert old and {rec_id: card.id for rec_id, card in card_board.in_progress_rows(session, rows).items()} == old
    assert card_board.in_progress_rows(session, []) == {}
