"""`flask metrics import / export / summary`."""

from __future__ import annotations

import json

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from tracker.metrics.models import MetricValue

from .metrics_util import NOW, put, series, xlsx

Q, L = "青石镇", "柳溪镇"


@pytest.fixture
def env(seeded, session, frozen):
    frozen(*NOW)
    return session


@pytest.fixture
def runner(seeded):
    return seeded.test_cli_runner()


def _count(session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(MetricValue))


def test_import_dry_run_prints_problems_and_fails(env, runner, tmp_path):
    f = tmp_path / "bad.xlsx"
    f.write_bytes(
        xlsx(
            [
                [Q, "2026-10", -1, None, None, None],
                ["黑水镇", "2026-10", 1, None, None, None],
                [L, "2026-10", 3, None, None, None],
            ]
        )
    )
    result = runner.invoke(args=["metrics", "import", str(f), "--dry-run"])
    assert result.exit_code == 1
    assert "第2行 发案数(起):不能为负数" in result.output and "第3行 单位:未知单位“黑水镇”" in result.output
    assert _count(env) == 0


def test_import_writes_a_clean_file_and_dry_run_does_not(env, runner, tmp_path):
    f = tmp_path / "ok.xlsx"
    f.write_bytes(xlsx([[Q, "2026-10", 3, "1.25", 1, 1], [L, "2026-10", 4, "2.5", 2, 2]]))
    dry = runner.invoke(args=["metrics", "import", str(f), "--dry-run"])
    assert dry.exit_code == 0 and "8 figures to write" in dry.output and _count(env) == 0
    done = runner.invoke(args=["metrics", "import", str(f)])
    assert done.exit_code == 0, done.output
    assert "written: 8 new, 0 changed, 1 months" in done.output and _count(env) == 8


def test_import_with_overwrites_needs_accept_warnings(env, runner, tmp_path):
    put(env, "2026-10", {(Q, "cases"): 2})
    env.commit()
    f = tmp_path / "over.xlsx"
    f.write_bytes(xlsx([[Q, "2026-10", 3, None, None, None]]))
    refused = runner.invoke(args=["metrics", "import", str(f)])
    assert refused.exit_code == 1 and "将覆盖已有数据:2 → 3" in refused.output
    ok = runner.invoke(args=["metrics", "import", str(f), "--accept-warnings", "--user", "police"])
    assert ok.exit_code == 0, ok.output
    assert "0 new, 1 changed" in ok.output


def test_import_refuses_a_file_that_is_not_xlsx(env, runner, tmp_path):
    f = tmp_path / "x.xlsx"
    f.write_bytes(b"not a zip")
    result = runner.invoke(args=["metrics", "import", str(f), "--dry-run"])
    assert result.exit_code == 1 and "不是有效的 Excel" in result.output


def test_export_writes_the_months_asked_for(env, runner, tmp_path):
    put(env, "2026-01", {(Q, "cases"): 1})
    put(env, "2026-10", {(Q, "cases"): 2, (L, "losses"): "3.50"})
    put(env, "2026-11", {(Q, "cases"): 9})
    env.commit()
    out = tmp_path / "out.xlsx"
    result = runner.invoke(args=["metrics", "export", "--from", "2026-01", "--to", "2026-10", "-o", str(out)])
    assert result.exit_code == 0, result.output
    wb = load_workbook(out, read_only=True)  # a read-only workbook keeps its file open until closed
    try:
        rows = list(wb["数据"].iter_rows(values_only=True))
    finally:
        wb.close()
    assert rows[0][:3] == ("单位", "月份", "发案数(起)")
    assert [r[:4] for r in rows[1:]] == [(Q, "2026-01", 1, None), (Q, "2026-10", 2, None), (L, "2026-10", None, 3.5)]


def _data(env):
    # 青石镇: all four better than last year; 柳溪镇: cases up from a small base
    for month in ("2025-09", "2025-10"):
        put(
            env,
            month,
            {
                (Q, "cases"): 20,
                (Q, "losses"): "40.00",
                (Q, "arrests"): 5,
                (Q, "solved"): 6,
                (L, "cases"): 4,
                (L, "losses"): "8.00",
                (L, "arrests"): 1,
                (L, "solved"): 1,
            },
        )
    for month in ("2026-09", "2026-10"):
        put(
            env,
            month,
            {
                (Q, "cases"): 15,
                (Q, "losses"): "30.50",
                (Q, "arrests"): 6,
                (Q, "solved"): 8,
                (L, "cases"): 6,
                (L, "losses"): "8.00",
                (L, "arrests"): 1,
                (L, "solved"): 2,
            },
        )
    series(env, Q, "cases", "2026-08", [10])
    env.commit()


@pytest.mark.parametrize("period", ["2026-10", "2026-Q3", "2026", "2026-YTD-10"])
def test_summary_json_shape_for_every_kind_of_period(env, runner, period):
    _data(env)
    result = runner.invoke(args=["metrics", "summary", "--period", period, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["period"] == period
    assert set(data["district"]) == {"cases", "losses", "arrests", "solved"}
    for c in data["district"].values():
        assert {"value", "last_year", "yoy_abs", "yoy_pct", "mom_abs"} <= set(c)
    assert [u["unit"] for u in data["units"]][:2] == [Q, L]
    assert all({"unit", "cases", "two_down_two_up", "rank"} <= set(u) for u in data["units"])


def test_summary_json_month_figures(env, runner):
    _data(env)
    data = json.loads(runner.invoke(args=["metrics", "summary", "--period", "2026-10", "--json"]).output)
    d = data["district"]
    # cases 21 against 24: -3, -12.5 %; month before 21 → 0
    assert d["cases"] == {
        "value": 21,
        "last_year": 24,
        "yoy_abs": -3,
        "yoy_pct": "-12.5",
        "mom_abs": 0,
        "judged_by": "pct",
        "improved": True,
        "missing": [],
        "mom_missing": [],
    }
    assert data["missing"] == []
    assert d["losses"]["value"] == "38.50" and d["losses"]["yoy_abs"] == "-9.50" and d["losses"]["yoy_pct"] == "-19.8"
    q, lx = data["units"][0], data["units"][1]
    assert q["two_down_two_up"] is True and q["rank"] == 1
    assert lx["cases"] == {
        "value": 6,
        "last_year": 4,
        "yoy_abs": 2,
        "yoy_pct": None,
        "mom_abs": 0,
        "judged_by": "abs",
        "improved": False,
        "missing": [],
        "mom_missing": [],
    }
    assert lx["two_down_two_up"] is False and lx["rank"] == 2
    assert data["two_down_two_up"] is True
    others = data["units"][2:]
    assert all(u["cases"]["value"] is None and u["rank"] == 3 for u in others)


def test_summary_json_quarter_and_ytd(env, runner):
    _data(env)
    q3 = json.loads(runner.invoke(args=["metrics", "summary", "--period", "2026-Q3", "--json"]).output)
    # 2026-Q3 has figures in August (青石镇 10) and September (15); last year only September (20): like for like
    # September against September, 15 against 20, and August's 10 is left out, its 2025-08 named as missing
    q = q3["units"][0]["cases"]
    assert (q["value"], q["last_year"], q["yoy_abs"]) == (15, 20, -5)
    assert q["missing"] == [{"unit": Q, "month": "2025-08"}]
    # the district: nobody entered 2025-08, so the district as a whole is named
    assert q3["district"]["cases"]["missing"] == [{"unit": "全区", "month": "2025-08"}]
    assert q3["missing"] == [{"unit": "全区", "month": "2025-08"}] and q3["verdict"] == "incomplete"
    ytd = json.loads(runner.invoke(args=["metrics", "summary", "--period", "2026-YTD-10", "--json"]).output)
    # August to October: 10 + (15 + 6) + (15 + 6) = 52 entered, but August has no 2025 counterpart: 42 like for like
    assert ytd["district"]["cases"]["value"] == 42 and ytd["district"]["cases"]["mom_abs"] is None


def test_summary_text_and_bad_period(env, runner):
    _data(env)
    text = runner.invoke(args=["metrics", "summary", "--period", "2026-10"])
    assert text.exit_code == 0 and "全区两降两升:达成" in text.output
    bad = runner.invoke(args=["metrics", "summary", "--period", "2026-13"])
    assert bad.exit_code != 0 and "月份应为1至12" in bad.output
