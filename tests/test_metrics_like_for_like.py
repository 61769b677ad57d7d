"""District and quarter comparisons are like for like: a town-month without figures is neither summed as zero
nor compared with last year's figure; it is named, and the district's verdict is 数据不全 while it is missing.

The example of the issue: 柳溪镇 has no figures for August 2026 but had some in August 2025."""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal

import pytest

from tracker.assessment import results
from tracker.meetings import service as meetings
from tracker.metrics import service
from tracker.periods import Period
from tracker.plans.service import active_plan

from .conftest import get_unit, get_user
from .metrics_util import NOW, put

Q = "青石镇"
L = "柳溪镇"
CODES = ("cases", "losses", "arrests", "solved")


def _flat(html: str) -> str:
    """Page text without tags and whitespace, so a table row reads as one string."""
    return re.sub(r"\s+", "", re.sub(r"<[^>]+>", "", html))


def _four(s, month: str, town: str, figures: tuple) -> None:
    put(s, month, {(town, c): v for c, v in zip(CODES, figures, strict=True)})


@pytest.fixture
def august(seeded, session, frozen):
    """August: 青石镇 all four both years (26 → 21 cases, 50.00 → 40.00 万元, 10 → 15 arrests, 8 → 12 solved);
    柳溪镇 only in August 2025 (1 case, 2.00 万元, 1 arrest, 1 solved)."""
    frozen(*NOW)
    _four(session, "2025-08", Q, (26, "50.00", 10, 8))
    _four(session, "2026-08", Q, (21, "40.00", 15, 12))
    _four(session, "2025-08", L, (1, "2.00", 1, 1))
    session.commit()
    return session


def _summary_json(app, period: str) -> dict:
    result = app.test_cli_runner().invoke(args=["metrics", "summary", "--period", period, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_a_missing_town_month_is_left_out_of_both_years_and_named(august, app):
    data = _summary_json(app, "2026-08")
    d = data["district"]
    gap = [{"unit": L, "month": "2026-08"}]
    # summed as zero it was 21 against 26 + 1 = 27 (-22.2 %, 达成); like for like 21 against 26:
    # -5, -5 / 26 = -19.2 %
    assert (d["cases"]["value"], d["cases"]["last_year"], d["cases"]["yoy_abs"]) == (21, 26, -5)
    assert d["cases"]["yoy_pct"] == "-19.2" and d["cases"]["improved"] is True
    # losses 40.00 against 50.00 (not 52.00): -10.00, -20.0 %
    assert (d["losses"]["value"], d["losses"]["last_year"], d["losses"]["yoy_pct"]) == ("40.00", "50.00", "-20.0")
    # arrests 15 against 10 (not 11): +5, +50.0 %; solved 12 against 8 (not 9): +4, by the difference as 8 is
    # below the small base of 10
    assert (d["arrests"]["last_year"], d["arrests"]["yoy_pct"]) == (10, "50.0")
    assert (d["solved"]["last_year"], d["solved"]["yoy_abs"], d["solved"]["judged_by"]) == (8, 4, "abs")
    assert all(d[c]["missing"] == gap for c in CODES)
    # all four moved the right way, but 柳溪镇's August is missing: 数据不全, not 达成
    assert data["verdict"] == "incomplete" and data["two_down_two_up"] is False
    assert data["missing"] == gap
    units = {u["unit"]: u for u in data["units"]}
    assert units[Q]["verdict"] == "met" and units[Q]["cases"]["missing"] == []
    # 柳溪镇's own row: no figure this year, but last year's 1 case is shown, not null
    mine = units[L]
    assert (mine["cases"]["value"], mine["cases"]["last_year"], mine["cases"]["improved"]) == (None, 1, None)
    assert mine["losses"]["last_year"] == "2.00" and mine["cases"]["missing"] == gap
    assert mine["verdict"] == "incomplete"


def test_the_overview_shows_21_against_26_and_names_the_gap(august, client, auth):
    auth.login("reviewer")
    html = client.get("/metrics/?period=2026-08").get_data(as_text=True)
    district = html.split("全区月度走势")[0]
    assert 'class="verdict incomplete"' in district
    assert 'kpi-value">21<span class="unit">起</span>' in district
    assert '去年同期 26<span class="unit">起</span>' in district
    assert "-19.2%" in district and "-22.2%" not in district and "27<" not in district
    assert "数据不全:柳溪镇2026年8月没有数据" in _flat(district)
    # the table's 全区 row says the same
    foot = _flat(html.split("<tfoot>")[1].split("</tfoot>")[0])
    assert foot.startswith("全区数据不全") and "21起-19.2%" in foot


def test_the_district_trend_compares_august_like_for_like(august, client, auth):
    auth.login("reviewer")
    html = client.get("/metrics/?period=2026-08").get_data(as_text=True)
    trend = html.split("全区月度走势")[1].split("各镇(街道)情况")[0]
    # the August points: 21 this year against 26 last year (柳溪镇's 1 left out of both)
    assert "2026年8月:21起" in trend and "2025年8月:26起" in trend and "2025年8月:27起" not in trend
    assert "2025年8月:50.00万元" in trend
    assert "柳溪镇2026年8月没有数据" in _flat(trend)


def test_the_town_page_shows_last_years_august_though_this_year_has_none(august, client, auth):
    auth.login("town2")
    uid = get_unit(august, L).id
    html = client.get(f"/metrics/units/{uid}?period=2026-08").get_data(as_text=True)
    kpis = html.split("月度走势")[0]
    assert '去年同期 1<span class="unit">起</span>' in kpis and '去年同期 2.00<span class="unit">万元</span>' in kpis
    assert "数据不全:柳溪镇2026年8月没有数据" in _flat(kpis)
    # the month-by-month table: August 2026 has no figure, August 2025 had 1 case
    row = _flat(html.split("2026年8月</a>")[1].split("</tr>")[0])
    assert row.startswith("—1—")


def test_month_on_month_leaves_out_towns_without_figures_the_month_before(august, app, client, auth):
    s = august
    put(s, "2025-09", {(Q, "cases"): 20, (L, "cases"): 5})
    put(s, "2026-09", {(Q, "cases"): 18, (L, "cases"): 4})
    s.commit()
    c = service.summary(s, Period.parse("2026-09")).district["cases"]
    # 同比: both towns both years, 22 against 25: -3, -12.0 %, nothing missing
    assert (c.value, c.last_year, c.yoy_abs, c.yoy_pct, c.missing) == (22, 25, -3, Decimal("-12.0"), ())
    # 环比: 柳溪镇 has no August, so only 青石镇 is compared: 18 against 21, -3, -3 / 21 = -14.3 %
    # (counted as zero it was 22 against 21, +1)
    assert (c.previous, c.mom_abs, c.mom_pct, c.mom_missing) == (21, -3, Decimal("-14.3"), ((L, "2026-08"),))
    data = _summary_json(app, "2026-09")
    assert data["district"]["cases"]["mom_abs"] == -3
    assert data["district"]["cases"]["mom_missing"] == [{"unit": L, "month": "2026-08"}]
    assert data["district"]["cases"]["missing"] == [] and data["missing"] == []
    auth.login("reviewer")
    flat = _flat(client.get("/metrics/?period=2026-09").get_data(as_text=True).split("全区月度走势")[0])
    assert "环比-14.3%" in flat and "环比只比较两期都有数据的镇(街道)和月份,未计入:柳溪镇2026年8月没有数据" in flat


@pytest.fixture
def quarter(seeded, session, frozen):
    """2026-Q3 cases: 青石镇 2 + 2 + 1 = 5 against 1 + 0 + 1 = 2; 柳溪镇 only August 2025 (1 case)."""
    frozen(2026, 10, 20, 9)
    for month, figure in (("2025-07", 1), ("2025-08", 0), ("2025-09", 1), ("2026-07", 2), ("2026-08", 2)):
        put(session, month, {(Q, "cases"): figure})
    put(session, "2026-09", {(Q, "cases"): 1})
    put(session, "2025-08", {(L, "cases"): 1})
    session.commit()
    return session


def test_a_quarter_compares_5_with_2_not_with_3(quarter, app, client, auth):
    c = service.summary(quarter, Period.parse("2026-Q3")).district["cases"]
    # 5 against 2 (柳溪镇's August 2025 left out): +3 cases, judged by the difference below the small base of 10
    assert (c.value, c.last_year, c.yoy_abs, c.yoy_pct, c.judged_by) == (5, 2, 3, None, "abs")
    assert c.missing == ((L, "2026-08"),)
    data = _summary_json(app, "2026-Q3")
    assert data["district"]["cases"]["last_year"] == 2 and data["verdict"] == "incomplete"
    assert data["missing"] == [{"unit": L, "month": "2026-08"}]
    auth.login("reviewer")
    flat = _flat(client.get("/metrics/?period=2026-Q3").get_data(as_text=True).split("全区月度走势")[0])
    assert "5起去年同期2起同比+3起" in flat and "数据不全:柳溪镇2026年8月没有数据" in flat


def test_the_briefing_and_the_published_quarter_keep_the_gap(quarter, app, client, auth):
    s = quarter
    auth.login("reviewer")
    flat = _flat(client.get("/reports/briefing?period=2026-Q3").get_data(as_text=True))
    section = flat.split("一、两降两升")[1].split("二、")[0]
    # the district table: 发案数 5, a year before 2, ↑ +3
    assert "发案数(起)52↑+3" in section and "数据不全:柳溪镇2026年8月没有数据" in section
    assert "环比" not in section  # the second quarter has no figures at all: no 环比, nothing named
    # 柳溪镇's scorecard: no figure this quarter, last year's 1 case shown
    uid = get_unit(s, L).id
    card = _flat(client.get(f"/reports/scorecard?unit={uid}&period=2026-Q3").get_data(as_text=True))
    assert "发案数(起)—1—" in card
    result = app.test_cli_runner().invoke(args=["assess", "publish", "--period", "2026-Q3"])
    assert result.exit_code == 0, result.output
    # 柳溪镇 enters August afterwards: the published quarter still shows what it froze
    put(s, "2026-08", {(L, "cases"): 4})
    s.commit()
    r = results.quarter_results(s, active_plan(s), Period.parse("2026-Q3"))
    kept = r.summary.district["cases"]
    assert (kept.value, kept.last_year, kept.missing) == (5, 2, ((L, "2026-08"),))
    assert r.summary.missing == [(L, "2026-08")] and r.summary.verdict == service.INCOMPLETE
    # today like for like: 5 + 4 = 9 against 2 + 1 = 3, named only in the note
    assert service.summary(s, Period.parse("2026-Q3")).district["cases"].last_year == 3
    flat = _flat(client.get("/reports/briefing?period=2026-Q3").get_data(as_text=True))
    section = flat.split("一、两降两升")[1].split("二、")[0]
    assert "发案数(起)52↑+3" in section and "数据不全:柳溪镇2026年8月没有数据" in section
    assert "全区发案数冻结5/现为9" in flat
    # the joint meeting's agenda reads the same frozen figures and names the same gap
    meeting = meetings.schedule_meeting(
        s,
        get_user(s, "reviewer"),
        title="第三季度联席会议",
        meeting_date=date(2026, 10, 28),
        convener="区委政法委",
        unit_ids=[get_unit(s, Q).id],
        period="2026-Q3",
    )
    s.commit()
    agenda = _flat(client.get(f"/meetings/{meeting.id}").get_data(as_text=True))
    assert "发案数5起2↑+3" in agenda and "数据不全:柳溪镇2026年8月没有数据" in agenda
