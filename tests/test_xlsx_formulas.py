"""Excel files the product writes never carry a live formula: a unit or indicator named like one arrives as
text, shown literally; numbers, negative ones included, stay numbers."""

from __future__ import annotations

import io
from types import SimpleNamespace

import pytest
from openpyxl import load_workbook

from tracker.metrics import service
from tracker.metrics.excel import write_workbook
from tracker.org import service as org
from tracker.org.models import KIND_TOWNSHIP

from .conftest import get_user
from .metrics_util import NOW, put

HYPERLINK = '=HYPERLINK("http://example.com/x","点我")'
DDE = "=cmd|'/ccalc'!A1"  # unit and indicator names lose their spaces when saved, so "/c calc" becomes "/ccalc"
PLUS, AT = "+1+2镇", "@SUM(1)街道"


@pytest.fixture
def hostile(seeded, session, frozen):
    frozen(*NOW)
    admin = get_user(session, "admin")
    for name in (HYPERLINK, PLUS, AT):
        org.create_unit(session, admin, name=name, kind=KIND_TOWNSHIP)
    service.create_indicator(
        session,
        admin,
        {"code": "hostile", "name": DDE, "unit_label": "起", "direction": "down", "decimals": 0},
    )
    session.flush()
    put(session, "2026-10", {(HYPERLINK, "cases"): 7, (PLUS, "cases"): 2, (AT, "cases"): 1, ("青石镇", "cases"): 3})
    session.commit()
    return session


def _cells(data: bytes) -> dict:
    """Every non-empty cell of the 数据 sheet by its text, as (data_type, value, quotePrefix)."""
    ws = load_workbook(io.BytesIO(data))["数据"]
    cells = [c for row in ws.iter_rows() for c in row if c.value is not None]
    return {str(c.value): (c.data_type, c.value, c.quotePrefix) for c in cells}


@pytest.mark.parametrize(
    "url", ["/metrics/export?from=2026-10&to=2026-10", "/metrics/template?month=2026-10"], ids=["export", "template"]
)
def test_names_that_look_like_formulas_are_written_as_text(hostile, client, auth, url):
    auth.login("reviewer")
    resp = client.get(url)
    assert resp.status_code == 200
    cells = _cells(resp.data)
    for text in (HYPERLINK, PLUS, AT, DDE + "(起)"):
        assert cells[text] == ("s", text, True), text
    assert all(dtype != "f" for dtype, _, _ in cells.values())
    # an ordinary name is plain text, without the quote prefix
    assert cells["青石镇"] == ("s", "青石镇", False)


def test_export_keeps_figures_as_numbers(hostile, client, auth):
    auth.login("reviewer")
    ws = load_workbook(io.BytesIO(client.get("/metrics/export?from=2026-10&to=2026-10").data))["数据"]
    header = [c.value for c in ws[1]]
    rows = {r[0].value: r for r in ws.iter_rows(min_row=2)}
    cases = rows[HYPERLINK][header.index("发案数(起)")]
    assert (cases.data_type, cases.value) == ("n", 7)


def test_negative_numbers_stay_numbers_and_negative_text_is_text():
    ind = SimpleNamespace(label="增减数(起)", decimals=0)
    data = write_workbook([ind], [("-5镇", "2026-10", [-3]), ("青石镇", "2026-10", [4])], ["=1+1 说明"])
    wb = load_workbook(io.BytesIO(data))
    ws = wb["数据"]
    assert (ws["A2"].data_type, ws["A2"].value, ws["A2"].quotePrefix) == ("s", "-5镇", True)
    assert (ws["C2"].data_type, ws["C2"].value) == ("n", -3)
    assert (ws["C3"].data_type, ws["C3"].value) == ("n", 4)
    note = wb["说明"]["A1"]
    assert (note.data_type, note.value) == ("s", "=1+1 说明")
