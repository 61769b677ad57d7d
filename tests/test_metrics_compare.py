"""两降两升 comparisons, verdicts and rankings, against figures worked out by hand."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import event

from tracker.auth.system import SYSTEM
from tracker.metrics import service
from tracker.org import service as org_service
from tracker.periods import Period

from .conftest import get_unit, get_user
from .metrics_util import NOW, put, series

Q = "青石镇"
L = "柳溪镇"


@pytest.fixture
def env(seeded, session, frozen):
    frozen(*NOW)
    return session


def test_month_year_on_year_and_month_on_month(env):
    s = env
    put(s, "2025-10", {(Q, "cases"): 20})
    put(s, "2026-09", {(Q, "cases"): 15})
    put(s, "2026-10", {(Q, "cases"): 12})
    c = service.compare(s, "cases", get_unit(s, Q).id, Period.parse("2026-10"))
    # 12 against 20: -8, -40.0 %; against September's 15: -3, -20.0 %
    assert (c.value, c.last_year, c.yoy_abs, c.yoy_pct) == (12, 20, -8, Decimal("-40.0"))
    assert (c.previous, c.mom_abs, c.mom_pct) == (15, -3, Decimal("-20.0"))
    assert c.judged_by == "pct" and c.improved is True and c.state == "good" and c.arrow == "↓"
    assert isinstance(c.value, int)


def test_quarter_sums_its_months_and_compares_with_the_quarter_before(env):
    s = env
    series(s, Q, "cases", "2025-07", [20, 0, 10])  # 2025-Q3: 30
    series(s, Q, "cases", "2026-04", [5, 5, 5, 10, 11, 12])  # 2026-Q2: 15, 2026-Q3: 33
    c = service.compare(s, "cases", get_unit(s, Q).id, Period.parse("2026-Q3"))
    assert (c.value, c.last_year, c.yoy_abs, c.yoy_pct) == (33, 30, 3, Decimal("10.0"))
    assert (c.previous, c.mom_abs, c.mom_pct) == (15, 18, Decimal("120.0"))
    assert c.improved is False and c.state == "bad"  # more cases is worse


def test_year_to_date_and_no_month_on_month_for_it(env):
    s = env
    series(s, Q, "cases", "2025-01", [4, 4, 4])
    series(s, Q, "cases", "2026-01", [1, 2, 3])
    c = service.compare(s, "cases", get_unit(s, Q).id, Period.parse("2026-YTD-03"))
    assert (c.value, c.last_year, c.yoy_abs, c.yoy_pct) == (6, 12, -6, Decimal("-50.0"))
    assert c.mom_abs is None and c.improved is True


def test_small_base_is_judged_by_the_difference(env):
    s = env
    put(s, "2025-10", {(Q, "cases"): 3, (Q, "arrests"): 10})
    put(s, "2026-10", {(Q, "cases"): 5, (Q, "arrests"): 12})
    p, uid = Period.parse("2026-10"), get_unit(s, Q).id
    c = service.compare(s, "cases", uid, p)
    # 3 → 5 would be +66.7 %; below the base of 10 it is +2 and judged so
    assert (c.yoy_abs, c.yoy_pct, c.judged_by, c.improved) == (2, None, "abs", False)
    a = service.compare(s, "arrests", uid, p)
    assert (a.yoy_abs, a.yoy_pct, a.judged_by, a.improved) == (2, Decimal("20.0"), "pct", True)


def test_small_base_is_configurable_per_indicator(env):
    s = env
    ind = service.get_indicator(s, "cases")
    admin = get_user(s, "admin")
    service.update_indicator(s, admin, ind.id, ind.version, {**ind.snapshot(), "small_base": 2})
    put(s, "2025-10", {(Q, "cases"): 3})
    put(s, "2026-10", {(Q, "cases"): 5})
    c = service.compare(s, "cases", get_unit(s, Q).id, Period.parse("2026-10"))
    assert (c.yoy_pct, c.judged_by) == (Decimal("66.7"), "pct")


def test_no_last_year_figure_means_no_comparison(env):
    s = env
    put(s, "2026-10", {(Q, "cases"): 7})
    c = service.compare(s, "cases", get_unit(s, Q).id, Period.parse("2026-10"))
    assert c.value == 7 and c.last_year is None
    assert (c.yoy_abs, c.yoy_pct, c.judged_by, c.improved, c.state) == (None, None, None, None, "none")
    empty = service.compare(s, "cases", get_unit(s, L).id, Period.parse("2026-10"))
    assert empty.value is None and empty.improved is None


def test_no_last_year_shows_as_such_on_the_page(env, client, auth):
    put(env, "2026-10", {(Q, "cases"): 7})
    env.commit()
    auth.login("town1")
    html = client.get("/metrics/?period=2026-10").get_data(as_text=True)
    assert "无同期数据" in html and "0%" not in html.replace("100%", "")


def test_a_town_added_this_year_has_no_comparison_and_is_left_out_of_the_district_comparison(env):
    s = env
    put(s, "2025-10", {(Q, "cases"): 10})
    new = org_service.create_unit(s, get_user(s, "admin"), name="新港街道", kind="township")
    s.flush()
    put(s, "2026-10", {(Q, "cases"): 8, ("新港街道", "cases"): 5})
    summary = service.summary(s, Period.parse("2026-10"))
    mine = next(u for u in summary.units if u.unit.id == new.id)
    assert mine.comparisons["cases"].value == 5 and mine.comparisons["cases"].last_year is None
    assert mine.comparisons["cases"].improved is None and mine.two_down_two_up is False
    d = summary.district["cases"]
    # like for like: only 青石镇 has October in both years, 8 against 10: -2, -2 / 10 = -20.0 %;
    # 新港街道's 5 has no 2025-10 counterpart and is named instead of being compared with nothing
    assert (d.value, d.last_year, d.yoy_abs, d.yoy_pct) == (8, 10, -2, Decimal("-20.0"))
    assert d.missing == (("新港街道", "2025-10"),) and summary.verdict == service.INCOMPLETE


def test_unfinished_span_is_compared_with_the_same_months_last_year(env):
    s = env
    series(s, Q, "cases", "2025-01", [1] * 12)  # 2025: 12 in all
    series(s, Q, "cases", "2026-01", [1] * 11)  # 2026 up to November: 11
    c = service.compare(s, "cases", get_unit(s, Q).id, Period.parse("2026"))
    assert (c.value, c.last_year, c.yoy_abs) == (11, 11, 0)
    assert c.months == tuple(f"2026-{m:02d}" for m in range(1, 12))


def test_money_sums_are_exact_decimals(env):
    s = env
    put(s, "2026-10", {(Q, "losses"): "0.1", (L, "losses"): "0.2"})
    put(s, "2026-11", {(Q, "losses"): "0.1", (L, "losses"): "0.2"})
    v = service.value(s, "losses", None, Period.parse("2026-10"))
    assert v == Decimal("0.3") and isinstance(v, Decimal) and str(v) == "0.30"
    q = service.value(s, "losses", None, Period.parse("2026-Q4"))
    assert q == Decimal("0.6") and str(q) == "0.60"
    assert service.value(s, "losses", get_unit(s, Q).id, Period.parse("2026-Q4")) == Decimal("0.20")


def test_value_is_none_without_any_figure(env):
    assert service.value(env, "cases", None, Period.parse("2026-10")) is None
    assert service.monthly_series(env, "cases", None, 2026) == [None] * 12


def test_monthly_series_has_twelve_entries(env):
    s = env
    put(s, "2026-02", {(Q, "cases"): 3, (L, "cases"): 4})
    put(s, "2026-05", {(Q, "cases"): 1})
    assert service.monthly_series(s, "cases", None, 2026) == [None, 7, None, None, 1] + [None] * 7
    assert service.monthly_series(s, "cases", get_unit(s, L).id, 2026)[1] == 4


def _four(s, town: str, month: str, last: tuple, now: tuple) -> None:
    codes = ("cases", "losses", "arrests", "solved")
    put(s, f"{int(month[:4]) - 1}{month[4:]}", {(town, c): v for c, v in zip(codes, last, strict=True)})
    put(s, month, {(town, c): v for c, v in zip(codes, now, strict=True)})


def test_verdict_needs_all_four_to_move_the_right_way(env):
    s = env
    _four(s, Q, "2026-10", (20, "50.00", 10, 10), (15, "40.00", 12, 11))  # all four right
    _four(s, L, "2026-10", (20, "50.00", 10, 10), (15, "60.00", 12, 11))  # losses up
    summary = service.summary(s, Period.parse("2026-10"))
    by = {u.unit.name: u for u in summary.units}
    assert by[Q].two_down_two_up is True and by[Q].improved_count == 4
    assert by[L].two_down_two_up is False and by[L].improved_count == 3
    assert by[L].comparisons["losses"].state == "bad"
    # district: 30 ↓ from 40, 100 = 100 (not a fall), arrests and solved up
    assert summary.district["losses"].yoy_abs == 0 and summary.district["losses"].improved is False
    assert summary.two_down_two_up is False
    assert by["云岭镇"].two_down_two_up is False and by["云岭镇"].comparisons["cases"].state == "none"


def test_verdict_is_incomplete_while_a_figure_is_missing_unless_another_already_failed(env, client, auth):
    s = env
    _four(s, Q, "2026-10", (20, "50.00", 10, 10), (15, "40.00", 12, 11))  # all four right
    _four(s, L, "2026-10", (20, "50.00", 10, 10), (25, "40.00", 12, 11))  # cases up
    put(s, "2026-10", {("云岭镇", "cases"): 5})  # this year's cases only: nothing to compare with
    put(s, "2025-10", {("白沙镇", "cases"): 9})
    put(s, "2026-10", {("白沙镇", "cases"): 12})  # cases up; no other figure
    summary = service.summary(s, Period.parse("2026-10"))
    by = {u.unit.name: u for u in summary.units}
    assert (by[Q].verdict, by[L].verdict) == (service.MET, service.UNMET)
    assert by["云岭镇"].verdict == service.INCOMPLETE and by["云岭镇"].two_down_two_up is False
    assert by["白沙镇"].verdict == service.UNMET  # one indicator failed: missing ones cannot save it
    assert by["东湖街道"].verdict == service.INCOMPLETE  # no figures at all
    s.commit()
    auth.login("reviewer")
    html = client.get("/metrics/?period=2026-10").get_data(as_text=True)
    assert 'class="verdict incomplete"' in html and "数据不全" in html
    empty = service.summary(s, Period.parse("2026-08"))
    assert empty.verdict == service.INCOMPLETE and all(u.verdict == service.INCOMPLETE for u in empty.units)


def test_holding_at_zero_cases_counts_as_a_fall(env):
    s = env
    _four(s, Q, "2026-10", (0, "0", 1, 1), (0, "0", 2, 2))
    u = next(u for u in service.summary(s, Period.parse("2026-10")).units if u.unit.name == Q)
    assert u.comparisons["cases"].improved is True and u.comparisons["losses"].improved is True
    assert u.two_down_two_up is True


def test_ranking_shares_ranks_on_ties(env):
    s = env
    # 青石镇 and 柳溪镇: four improved, cases 20 → 10 (-50 %); 云岭镇: four improved, 20 → 15 (-25 %);
    # 白沙镇: three improved, cases 20 → 5; the others: no figures at all
    _four(s, Q, "2026-10", (20, "9", 1, 1), (10, "8", 2, 2))
    _four(s, L, "2026-10", (20, "9", 1, 1), (10, "8", 2, 2))
    _four(s, "云岭镇", "2026-10", (20, "9", 1, 1), (15, "8", 2, 2))
    _four(s, "白沙镇", "2026-10", (20, "9", 1, 1), (5, "10", 2, 2))
    ranks = {u.unit.name: u.rank for u in service.summary(s, Period.parse("2026-10")).units}
    assert ranks == {Q: 1, L: 1, "云岭镇": 3, "白沙镇": 4, "东湖街道": 5, "南山街道": 5}


def test_ranking_tie_break_does_not_let_a_tiny_base_win(env):
    s = env
    # both improved on all four; 青石镇 3 → 1 is -2 over the base 10 (-0.2), 柳溪镇 40 → 30 is -0.25
    _four(s, Q, "2026-10", (3, "9", 1, 1), (1, "8", 2, 2))
    _four(s, L, "2026-10", (40, "9", 1, 1), (30, "8", 2, 2))
    summary = service.summary(s, Period.parse("2026-10"))
    ranks = {u.unit.name: u.rank for u in summary.units}
    assert ranks[L] == 1 and ranks[Q] == 2
    assert [u.unit.name for u in summary.ranked("cases")][:2] == [L, Q]
    assert next(u for u in summary.units if u.unit.name == L).ranks["cases"] == 1


def test_summary_takes_a_fixed_number_of_queries(env, session):
    s = env

    def count(period: str) -> int:
        n = 0

        def on_exec(*_args):
            nonlocal n
            n += 1

        engine = s.get_bind()
        event.listen(engine, "before_cursor_execute", on_exec)
        try:
            service.summary(s, Period.parse(period))
        finally:
            event.remove(engine, "before_cursor_execute", on_exec)
        return n

    _four(s, Q, "2026-10", (20, "9", 1, 1), (10, "8", 2, 2))
    s.flush()
    few = count("2026-10")
    admin = get_user(s, "admin")
    for i in range(8):
        org_service.create_unit(s, admin, name=f"测试镇{i}", kind="township")
        put(s, "2026-10", {(f"测试镇{i}", "cases"): i})
    s.flush()
    assert count("2026-10") == few <= 4


def test_rates_are_averaged_and_judged_in_points(env):
    s = env
    ind = service.get_indicator(s, "app_rate")
    service.update_indicator(s, get_user(s, "admin"), ind.id, ind.version, {**ind.snapshot(), "is_active": True})
    # each town enters its own rate
    put(s, "2025-10", {(Q, "app_rate"): "40.0"}, actor=get_user(s, "town1"))
    put(s, "2026-10", {(Q, "app_rate"): "45.5"}, actor=get_user(s, "town1"))
    put(s, "2026-10", {(L, "app_rate"): "50.0"}, actor=get_user(s, "town2"))
    put(s, "2026-11", {(Q, "app_rate"): "46.5"}, actor=get_user(s, "town1"))
    p = Period.parse("2026-10")
    assert service.value(s, "app_rate", None, p) == Decimal("47.8")  # (45.5 + 50.0) / 2 = 47.75, one decimal
    d = service.compare(s, "app_rate", None, p)
    # like for like: 柳溪镇 has no 2025-10 rate, so the district compares 青石镇's 45.5 with its 40.0
    assert (d.value, d.last_year, d.yoy_abs, d.missing) == (
        Decimal("45.5"),
        Decimal("40.0"),
        Decimal("5.5"),
        (("柳溪镇", "2025-10"),),
    )
    q4 = Period.parse("2026-Q4")
    assert service.value(s, "app_rate", get_unit(s, Q).id, q4) == Decimal("46.0")  # mean of 45.5 and 46.5, not sum
    q = service.compare(s, "app_rate", get_unit(s, Q).id, q4)
    # like for like: November has no 2025-11 rate, so the quarter compares October with October
    assert (q.value, q.last_year, q.missing) == (Decimal("45.5"), Decimal("40.0"), ((Q, "2025-11"),))
    c = service.compare(s, "app_rate", get_unit(s, Q).id, p)
    assert (c.yoy_abs, c.yoy_pct, c.judged_by, c.improved) == (Decimal("5.5"), None, "abs", True)
    assert "app_rate" in service.summary(s, p).district


def test_district_trends_agree_with_the_district_figure_for_every_kind_of_indicator(env):
    # the district's monthly trend is summed by the database for whole-number indicators and in Python for
    # decimals; each month must equal the district figure the comparisons use
    s = env
    admin = get_user(s, "admin")
    for code in ("app_rate", "awareness"):
        ind = service.get_indicator(s, code)
        service.update_indicator(s, admin, ind.id, ind.version, {**ind.snapshot(), "is_active": True})
    cases = service.get_indicator(s, "cases")
    service.create_indicator(
        s, admin, {**cases.snapshot(), "code": "visits", "name": "走访批次", "unit_label": "批", "aggregate": "mean"}
    )
    s.flush()
    put(
        s,
        "2026-02",
        {
            (Q, "cases"): 3,
            (L, "cases"): 4,
            (Q, "losses"): "0.10",
            (L, "losses"): "0.25",
            (Q, "visits"): 1,
            (L, "visits"): 2,
        },
    )
    put(s, "2026-02", {(Q, "app_rate"): "45.5"}, actor=get_user(s, "town1"))
    put(s, "2026-02", {(L, "app_rate"): "50.0"}, actor=get_user(s, "town2"))
    put(s, "2026-02", {(None, "awareness"): "86.5"}, actor=get_user(s, "office"))
    put(s, "2025-07", {(Q, "cases"): 9, (Q, "visits"): 5})
    inds = service.active_indicators(s)
    trends = service.trends(s, inds, None, 2026)
    for ind in inds:
        this, last = trends[ind.code]
        for m in range(1, 13):
            for year, got in ((2026, this[m - 1]), (2025, last[m - 1])):
                want = service.value(s, ind.code, None, Period.month(year, m))
                assert (got, type(got)) == (want, type(want)), (ind.code, year, m)
    assert trends["cases"][0][1] == 7 and trends["losses"][0][1] == Decimal("0.35")
    assert trends["visits"][0][1] == Decimal("2") and trends["visits"][1][6] == Decimal("5")  # mean of 1 and 2
    assert trends["app_rate"][0][1] == Decimal("47.8") and trends["awareness"][0][1] == Decimal("86.5")
    # a town's own trend
    assert service.trends(s, inds, get_unit(s, L).id, 2026)["visits"][0][1] == 2


def test_district_level_indicator_is_entered_once_for_the_district(env):
    s = env
    ind = service.get_indicator(s, "awareness")
    service.update_indicator(s, get_user(s, "admin"), ind.id, ind.version, {**ind.snapshot(), "is_active": True})
    put(s, "2025-10", {(None, "awareness"): "80.0"}, actor=get_user(s, "office"))
    put(s, "2026-10", {(None, "awareness"): "86.5"}, actor=get_user(s, "office"))
    c = service.compare(s, "awareness", None, Period.parse("2026-10"))
    assert (c.value, c.last_year, c.yoy_abs, c.improved) == (Decimal("86.5"), Decimal("80.0"), Decimal("6.5"), True)
    summary = service.summary(s, Period.parse("2026-10"))
    assert "awareness" in summary.district and all("awareness" not in u.comparisons for u in summary.units)


def test_indicator_seed_is_idempotent(env):
    from tracker.seed import read_json

    n = len(service.all_indicators(env))
    assert service.load_indicators(env, SYSTEM, read_json("indicators.json")) == 0
    assert len(service.all_indicators(env)) == n == 10
    assert [i.code for i in service.active_indicators(env)] == ["cases", "losses", "arrests", "solved"]
    losses = service.get_indicator(env, "losses")
    assert (losses.unit_label, losses.direction, losses.decimals, losses.owner.name) == ("万元", "down", 2, "公安分局")
