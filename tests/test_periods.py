"""Period arithmetic."""

import pytest

from tracker.errors import ValidationError
from tracker.periods import Period, month_range, period_arg


def test_parse_each_form_and_code_round_trips():
    for text in ("2026-10", "2026-Q3", "2026", "2026-YTD-10"):
        assert Period.parse(text).code == text


def test_quarter_months_and_label():
    q = Period.parse("2026-Q3")
    assert q.month_codes() == ["2026-07", "2026-08", "2026-09"]
    assert q.label == "2026年第三季度"


def test_previous_month_crosses_year():
    assert Period.parse("2026-01").previous().code == "2025-12"
    assert Period.parse("2026-Q1").previous().code == "2025-Q4"


def test_next_is_the_span_after_and_crosses_year():
    assert Period.parse("2026-11").next().code == "2026-12"
    assert Period.parse("2026-12").next().code == "2027-01"
    assert Period.parse("2026-Q3").next().code == "2026-Q4"
    assert Period.parse("2026-Q4").next().code == "2027-Q1"
    assert Period.parse("2026").next().code == "2027"
    for code in ("2026-12", "2026-Q4", "2026"):
        assert Period.parse(code).next().previous().code == code


def test_same_period_last_year_and_ytd():
    ytd = Period.parse("2026-YTD-10")
    assert ytd.same_last_year().code == "2025-YTD-10"
    assert len(ytd.months()) == 10
    assert ytd.label == "2026年1—10月"


def test_end_of_february():
    assert Period.parse("2028-02").end.day == 29
    assert Period.parse("2026-02").end.day == 28


@pytest.mark.parametrize("bad", ["2026-13", "2026-Q5", "26-10", "", "2026/10"])
def test_bad_periods_are_refused_in_chinese(bad):
    with pytest.raises(ValidationError) as e:
        Period.parse(bad)
    assert "月" in str(e.value) or "期间" in str(e.value) or "季度" in str(e.value)


def test_month_range_spans_years():
    codes = [p.code for p in month_range(Period.parse("2025-11"), Period.parse("2026-02"))]
    assert codes == ["2025-11", "2025-12", "2026-01", "2026-02"]


def test_parse_with_kinds_names_only_the_kinds_accepted():
    assert Period.parse("2026-9", kinds=("month",)).code == "2026-09"
    with pytest.raises(ValidationError) as e:
        Period.parse("2026-Q3", kinds=("month",))
    assert str(e.value) == "期间应为月份(如 2026-10),收到“2026-Q3”"
    with pytest.raises(ValidationError) as e:
        Period.parse("2026-YTD-10", kinds=("month", "quarter", "year"))
    assert str(e.value) == "期间应为月份、季度或年份(如 2026-10、2026-Q3 或 2026),收到“2026-YTD-10”"
    with pytest.raises(ValidationError) as e:
        Period.parse("Q3", kinds=("quarter", "month"))
    assert str(e.value) == "无法识别的期间“Q3”,应为 2026-10 或 2026-Q3"


def test_period_arg_blank_is_the_default_and_a_bad_one_goes_to_on_invalid():
    q3 = Period.parse("2026-Q3")
    assert period_arg("  ", default=lambda: q3) == q3 and period_arg(None) is None
    assert period_arg("2026-10", kinds=("month",)) == Period.month(2026, 10)
    assert (
        period_arg("2026", on_invalid=lambda reason: reason, kinds=("month",)) == "期间应为月份(如 2026-10),收到“2026”"
    )
