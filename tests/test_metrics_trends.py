"""The district's monthly trend (全区月度走势): the towns' totals are added up by the database; each month must be the
figure the like-for-like rule gives, as worked out by hand and as the row-by-row computation it replaced gives."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from sqlalchemy import event

from tracker import clock
from tracker.metrics import service
from tracker.metrics.comparisons import FigureStore
from tracker.metrics.models import MetricValue
from tracker.metrics.values import shift_month
from tracker.periods import Period

from .conftest import get_unit
from .metrics_util import NOW, put

Q, L, Y = "青石镇", "柳溪镇", "云岭镇"


def _row_by_row(session, indicators, year):
    """The trend as it was computed before the database added it up: every town's row of the 24 months."""
    months = [Period.month(year, m) for m in range(1, 13)]
    store = FigureStore.load(session, indicators, [c for m in months for c in (m.code, shift_month(m, -12).code)])
    out, missing = {}, []
    for ind in indicators:
        this, last = [], []
        for m in months:
            p = store.pair(ind, None, [m], -12)
            if p.now:
                this.append(store.level_of(ind, None, p.now))
                last.append(store.level_of(ind, None, p.then))
                missing.extend(p.missing)
            else:
                this.append(store.level(ind, None, [m]))
                last.append(store.level(ind, None, [shift_month(m, -12)]))
        out[ind.code] = (this, last)
    return out, list(store.named(missing))


def _typed(trend):
    """Values with their types and exact text (Decimal('1.30') is not Decimal('1.3'))."""
    return {code: tuple([(type(v), str(v)) for v in year] for year in pair) for code, pair in trend.items()}


@pytest.fixture
def district(seeded, session, frozen):
    """Three towns over 2025 and 2026, with every kind of month the rule tells apart (cases; losses in 万元):

    - July: 青石镇 and 柳溪镇 both years (cases 5 + 3 against 8 + 4; losses 1.25 + 0.05 against 2.50 + 0.10)
    - August: 青石镇 both years, 柳溪镇 in 2025 only: 21 against 26 (柳溪镇's 1 left out), 40.00 against 50.00
    - September: 2026 only (4 + 2); June: 2025 only (7)
    - May: 青石镇 in 2026 only, 柳溪镇 in 2025 only: no town in both, each year's total (3, 9), nothing missing
    - October: 青石镇 both years, 云岭镇 in 2026 only, 柳溪镇 in 2025 only: 2 against 4, both left out and named
    - no month of 2026 is a NULL: losses are amounts (their count column is empty), cases counts."""
    frozen(*NOW)
    s = session
    put(s, "2025-05", {(L, "cases"): 9, (L, "losses"): "0.90"})
    put(s, "2025-06", {(Q, "cases"): 7, (Q, "losses"): "0.70"})
    put(s, "2025-07", {(Q, "cases"): 8, (L, "cases"): 4, (Q, "losses"): "2.50", (L, "losses"): "0.10"})
    put(s, "2025-08", {(Q, "cases"): 26, (L, "cases"): 1, (Q, "losses"): "50.00", (L, "losses"): "2.00"})
    put(s, "2025-10", {(Q, "cases"): 4, (L, "cases"): 6, (Q, "losses"): "4.44", (L, "losses"): "6.06"})
    put(s, "2026-05", {(Q, "cases"): 3, (Q, "losses"): "0.33"})
    put(s, "2026-07", {(Q, "cases"): 5, (L, "cases"): 3, (Q, "losses"): "1.25", (L, "losses"): "0.05"})
    put(s, "2026-08", {(Q, "cases"): 21, (Q, "losses"): "40.00"})
    put(s, "2026-09", {(Q, "cases"): 4, (L, "cases"): 2, (Q, "losses"): "0.40", (L, "losses"): "0.20"})
    put(s, "2026-10", {(Q, "cases"): 2, (Y, "cases"): 1, (Q, "losses"): "0.02", (Y, "losses"): "0.01"})
    s.commit()
    return s


def _core(s):
    return [i for i in service.active_indicators(s) if i.code in service.CORE_CODES]


def test_the_district_trend_is_like_for_like_month_by_month(district):
    s = district
    trend, missing = service.trends_and_missing(s, _core(s), None, 2026)
    cases_now, cases_then = trend["cases"]
    assert cases_now == [None, None, None, None, 3, None, 8, 21, 6, 2, None, None]
    assert cases_then == [None, None, None, None, 9, 7, 12, 26, None, 4, None, None]
    assert all(type(v) is int for v in cases_now + cases_then if v is not None)
    losses_now, losses_then = trend["losses"]
    d = Decimal
    assert losses_now == [None, None, None, None, d("0.33"), None, d("1.30"), d("40.00"), d("0.60"), d("0.02")] + [
        None,
        None,
    ]
    assert losses_then == [None, None, None, None, d("0.90"), d("0.70"), d("2.60"), d("50.00"), None, d("4.44")] + [
        None,
        None,
    ]
    assert [str(v) for v in losses_now if v is not None] == ["0.33", "1.30", "40.00", "0.60", "0.02"]
    # nothing entered for arrests and solved: no point at all
    assert trend["arrests"] == ([None] * 12, [None] * 12)
    # what is left out, in the towns' order then by month; May (no town in both years) names nobody
    assert missing == [(L, "2026-08"), (L, "2026-10"), (Y, "2025-10")]
    assert (trend, missing) == _row_by_row(s, _core(s), 2026)
    assert _typed(trend) == _typed(_row_by_row(s, _core(s), 2026)[0])


def test_the_trend_agrees_with_the_row_by_row_computation_for_every_year_and_indicator(district):
    s = district
    admin = service.all_indicators(s)
    for year in (2025, 2026, 2027):
        got = service.trends_and_missing(s, admin, None, year)
        want = _row_by_row(s, admin, year)
        assert got == want, year
        assert _typed(got[0]) == _typed(want[0]), year


def test_the_trend_reads_the_totals_and_only_the_uneven_months_town_by_town(district, app):
    s = district
    rows = []

    def count(conn, cursor, statement, parameters, context, executemany):
        if "metric_values" in statement:
            rows.append(statement)

    engine = app.extensions["tracker.engine"]
    event.listen(engine, "after_cursor_execute", count)
    try:
        service.trends_and_missing(s, _core(s), None, 2026)
    finally:
        event.remove(engine, "after_cursor_execute", count)
    # one statement of totals, and the uneven months (August, October) read town by town; on SQLite the amounts
    # are read as rows (it keeps them as text)
    assert 2 <= len(rows) <= 3


def test_rows_the_database_would_add_up_differently_are_read_row_by_row(district):
    """A whole-number indicator holding an amount, or an amount with more decimal places than the indicator shows,
    cannot be stored through the product (the indicator page refuses to switch or to cut decimals under such
    figures); if one is there all the same, the trend rounds each figure as Python always did."""
    s = district
    ids = {i.code: i.id for i in service.all_indicators(s)}
    q, y = get_unit(s, Q).id, get_unit(s, Y).id
    now = clock.now()
    for unit in (q, y):
        # 1.2350 rounds to 1.24 (half even) before it is added: 2.48, where adding first would give 2.47
        s.add(
            MetricValue(
                indicator_id=ids["losses"], unit_id=unit, month="2026-03", amount=Decimal("1.2350"), updated_at=now
            )
        )
    s.add(MetricValue(indicator_id=ids["cases"], unit_id=q, month="2026-03", amount=Decimal("2.5"), updated_at=now))
    s.add(MetricValue(indicator_id=ids["cases"], unit_id=y, month="2026-03", count=3, updated_at=now))
    s.flush()
    trend, missing = service.trends_and_missing(s, _core(s), None, 2026)
    assert trend["losses"][0][2] == Decimal("2.48") and str(trend["losses"][0][2]) == "2.48"
    assert trend["cases"][0][2] == 5  # 2.5 rounds to 2 (half even), then 2 + 3
    assert (trend, missing) == _row_by_row(s, _core(s), 2026)
    assert _typed(trend) == _typed(_row_by_row(s, _core(s), 2026)[0])


def test_the_overview_draws_the_like_for_like_trend_and_names_what_it_left_out(district, client, auth):
    auth.login("reviewer")
    html = client.get("/metrics/?period=2026-Q4").get_data(as_text=True)
    trend = html.split("全区月度走势")[1].split("各镇(街道)情况")[0]
    assert "2026年10月:2起" in trend and "2025年10月:4起" in trend and "2025年10月:10起" not in trend
    assert "2026年10月:0.02万元" in trend and "2025年10月:4.44万元" in trend
    assert "2026年5月:3起" in trend and "2025年5月:9起" in trend
    text = re.sub(r"\s+", "", re.sub(r"<[^>]+>", "", trend))
    assert "柳溪镇2026年8月" in text and "柳溪镇2026年10月" in text and "云岭镇2025年10月" in text


@pytest.mark.parametrize(
    "here, there, uneven",
    [
        ("3,1,2", "3,1,2", False),  # the same towns, as the database listed them
        ("1,2,3", "3,1,2", False),  # the same towns in another order: a month compared whole
        ("1,2,3", "2,3", True),  # a town missing in one year, the others in both: town by town
        ("1,12", "2,11", False),  # no town in both (ids are compared whole, not by their digits)
    ],
)
def test_a_month_is_read_town_by_town_only_when_its_towns_differ_but_meet(here, there, uneven):
    from tracker.metrics.series import _differ_but_meet

    assert _differ_but_meet(here, there) is uneven
