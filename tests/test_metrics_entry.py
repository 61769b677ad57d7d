"""Entering figures in the month grid: who may, conflicts, corrections with a reason, exact decimals."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from tracker.audit.models import AuditEvent
from tracker.errors import PermissionDenied, ValidationError
from tracker.metrics import service
from tracker.metrics.models import MetricValue
from tracker.periods import Period

from .conftest import PASSWORD, get_unit, get_user
from .metrics_util import NOW, put

Q = "青石镇"


@pytest.fixture
def env(seeded, session, frozen):
    frozen(*NOW)
    return session


def _stored(session, town: str | None, code: str, month: str):
    session.expire_all()
    ind = service.get_indicator(session, code)
    uid = get_unit(session, town).id if town else None
    row = session.scalar(
        select(MetricValue).where(
            MetricValue.indicator_id == ind.id,
            MetricValue.unit_id.is_(uid) if uid is None else MetricValue.unit_id == uid,
            MetricValue.month == month,
        )
    )
    return row


def _name(session, code: str, town: str) -> str:
    return f"{service.get_indicator(session, code).id}_{get_unit(session, town).id}"


def _form(html: str) -> dict:
    """Every input of the grid form as the browser would send it."""
    return dict(re.findall(r'name="([cov]_\d+_\d+)" value="([^"]*)"', html))


def test_police_officer_fills_the_month_grid(env, client, auth):
    auth.login("police")
    html = client.get("/metrics/entry?month=2026-10").get_data(as_text=True)
    assert "两降两升 › 数据填报 › 2026年10月" in html and "发案数(起)" in html and "损失金额(万元)" in html
    data = _form(html)
    data[f"c_{_name(env, 'cases', Q)}"] = "12"
    data[f"c_{_name(env, 'losses', Q)}"] = "35.5"
    resp = client.post("/metrics/entry?month=2026-10", data=data)
    assert resp.status_code == 302
    assert _stored(env, Q, "cases", "2026-10").count == 12
    assert _stored(env, Q, "losses", "2026-10").amount == Decimal("35.50")
    events = env.scalars(select(AuditEvent).where(AuditEvent.action == "metrics.save").order_by(AuditEvent.id)).all()
    assert len(events) == 1 and events[0].after == {f"{Q}/发案数": 12, f"{Q}/损失金额": "35.50"}
    assert events[0].before == {f"{Q}/发案数": None, f"{Q}/损失金额": None}


def test_town_officer_sees_own_figures_read_only_and_cannot_write(env, client, auth):
    put(env, "2026-10", {(Q, "cases"): 9})
    env.commit()
    auth.login("town1")
    assert client.get("/metrics/entry").status_code == 403
    assert client.post("/metrics/entry?month=2026-10", data={f"c_{_name(env, 'cases', Q)}": "1"}).status_code == 403
    page = client.get(f"/metrics/units/{get_unit(env, Q).id}?period=2026-10")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "两降两升 › 青石镇 › 2026年10月" in html
    assert 'inputmode="decimal"' not in html
    assert _stored(env, Q, "cases", "2026-10").count == 9
    with pytest.raises(PermissionDenied):
        put(env, "2026-10", {(Q, "cases"): 1}, actor=get_user(env, "town1"))


def test_another_units_officer_cannot_open_the_grid(env, client, auth):
    auth.login("finance")
    assert client.get("/metrics/entry").status_code == 403
    assert client.get("/metrics/import").status_code == 403
    assert client.post("/metrics/import").status_code == 403


def test_invalid_cells_are_refused_with_messages_and_nothing_is_saved(env, client, auth):
    auth.login("police")
    data = _form(client.get("/metrics/entry?month=2026-10").get_data(as_text=True))
    data[f"c_{_name(env, 'cases', Q)}"] = "-3"
    data[f"c_{_name(env, 'losses', Q)}"] = "1.234"
    data[f"c_{_name(env, 'arrests', Q)}"] = "七"
    data[f"c_{_name(env, 'solved', Q)}"] = "4"
    resp = client.post("/metrics/entry?month=2026-10", data=data)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "不能为负数" in html and "最多保留2位小数" in html and "“七”不是数字" in html
    assert 'value="-3"' in html and 'value="1.234"' in html  # what was typed is shown back
    assert _stored(env, Q, "solved", "2026-10") is None


def test_future_month_cannot_be_entered(env):
    with pytest.raises(ValidationError, match="未来月份"):
        put(env, "2026-12", {(Q, "cases"): 1})


def test_simultaneous_edits_of_one_cell_conflict_and_keep_the_typed_value(env, seeded):
    put(env, "2026-10", {(Q, "cases"): 5})
    env.commit()
    first, second = seeded.test_client(), seeded.test_client()
    forms = []
    for c in (first, second):
        c.post("/login", data={"username": "police", "password": PASSWORD})
        forms.append(_form(c.get("/metrics/entry?month=2026-10").get_data(as_text=True)))
    key = f"c_{_name(env, 'cases', Q)}"
    assert first.post("/metrics/entry?month=2026-10", data={**forms[0], key: "6"}).status_code == 302
    clash = second.post("/metrics/entry?month=2026-10", data={**forms[1], key: "7"})
    html = clash.get_data(as_text=True)
    assert clash.status_code == 409
    assert "已被他人修改" in html and "他人已改为 6" in html and 'value="7"' in html
    assert _stored(env, Q, "cases", "2026-10").count == 6
    # saving again now overwrites knowingly
    again = second.post("/metrics/entry?month=2026-10", data=_form(html))
    assert again.status_code == 302 and _stored(env, Q, "cases", "2026-10").count == 7


def test_edits_of_different_cells_do_not_conflict(env, seeded):
    put(env, "2026-10", {(Q, "cases"): 5, ("柳溪镇", "cases"): 8})
    env.commit()
    first, second = seeded.test_client(), seeded.test_client()
    forms = []
    for c in (first, second):
        c.post("/login", data={"username": "police", "password": PASSWORD})
        forms.append(_form(c.get("/metrics/entry?month=2026-10").get_data(as_text=True)))
    assert (
        first.post("/metrics/entry?month=2026-10", data={**forms[0], f"c_{_name(env, 'cases', Q)}": "6"}).status_code
        == 302
    )
    assert (
        second.post(
            "/metrics/entry?month=2026-10", data={**forms[1], f"c_{_name(env, 'cases', '柳溪镇')}": "9"}
        ).status_code
        == 302
    )
    assert _stored(env, Q, "cases", "2026-10").count == 6  # the second save did not put back the 5 it showed
    assert _stored(env, "柳溪镇", "cases", "2026-10").count == 9


def test_reviewer_corrects_with_a_reason_that_is_stored_and_audited(env, client, auth):
    put(env, "2026-10", {(Q, "cases"): 5})
    env.commit()
    auth.login("reviewer")
    html = client.get("/metrics/entry?month=2026-10").get_data(as_text=True)
    assert "更正原因" in html
    data = {**_form(html), f"c_{_name(env, 'cases', Q)}": "4"}
    refused = client.post("/metrics/entry?month=2026-10", data=data)
    assert refused.status_code == 422 and "须填写更正原因" in refused.get_data(as_text=True)
    assert 'value="4"' in refused.get_data(as_text=True)
    assert _stored(env, Q, "cases", "2026-10").count == 5
    ok = client.post("/metrics/entry?month=2026-10", data={**data, "reason": "公安分局复核:一起案件重复统计"})
    assert ok.status_code == 302
    row = _stored(env, Q, "cases", "2026-10")
    assert (row.count, row.source, row.note) == (4, "correction", "公安分局复核:一起案件重复统计")
    ev = env.scalars(select(AuditEvent).where(AuditEvent.action == "metrics.correct")).one()
    assert ev.before == {f"{Q}/发案数": 5} and ev.after[f"{Q}/发案数"] == 4
    assert ev.after["更正原因"] == "公安分局复核:一起案件重复统计" and "一起案件重复统计" in ev.summary


def test_emptying_a_cell_removes_the_figure(env):
    put(env, "2026-10", {(Q, "cases"): 5})
    result = put(env, "2026-10", {(Q, "cases"): None})
    assert result.deleted == 1 and _stored(env, Q, "cases", "2026-10") is None


def test_one_audit_event_per_grid_save(env):
    before = len(env.scalars(select(AuditEvent.id)).all())
    put(env, "2026-10", {(t.name, c): 1 for t in service.towns(env) for c in ("cases", "arrests", "solved")})
    assert len(env.scalars(select(AuditEvent.id)).all()) == before + 1
    assert put(env, "2026-10", {(Q, "cases"): 1}).changed == 0  # same value: no write, no event
    assert len(env.scalars(select(AuditEvent.id)).all()) == before + 1


def test_database_refuses_negative_and_double_values(env):
    ind = service.get_indicator(env, "cases")
    losses = service.get_indicator(env, "losses")
    town = get_unit(env, Q)
    bad = [
        MetricValue(indicator_id=ind.id, unit_id=town.id, month="2026-10", count=-1),
        MetricValue(indicator_id=losses.id, unit_id=town.id, month="2026-10", amount=Decimal("-0.01")),
        MetricValue(indicator_id=ind.id, unit_id=town.id, month="2026-10"),
        MetricValue(indicator_id=ind.id, unit_id=town.id, month="2026-10", count=1, amount=Decimal(1)),
        MetricValue(indicator_id=ind.id, unit_id=town.id, month="2026-13", count=1),
    ]
    for row in bad:
        sp = env.begin_nested()
        env.add(row)
        with pytest.raises(IntegrityError):
            env.flush()
        sp.rollback()


def test_district_row_is_unique_per_month(env):
    ind = service.get_indicator(env, "cases")
    env.add(MetricValue(indicator_id=ind.id, unit_id=None, month="2026-10", count=1))
    env.flush()
    sp = env.begin_nested()
    env.add(MetricValue(indicator_id=ind.id, unit_id=None, month="2026-10", count=2))
    with pytest.raises(IntegrityError):
        env.flush()
    sp.rollback()


def test_decimals_round_trip_exactly(env):
    """More significant digits than a binary float holds, on SQLite and PostgreSQL alike."""
    losses = service.get_indicator(env, "losses")
    town = get_unit(env, Q)
    big = Decimal("9999999999999.9999")
    env.add(MetricValue(indicator_id=losses.id, unit_id=town.id, month="2026-09", amount=big))
    put(env, "2026-10", {(Q, "losses"): "0.10", ("柳溪镇", "losses"): "0.20"})
    env.commit()
    env.expire_all()
    got = env.scalar(select(MetricValue.amount).where(MetricValue.month == "2026-09"))
    assert got == big and isinstance(got, Decimal)
    assert float(big) != big  # a float could not have kept it
    assert service.value(env, "losses", None, Period.parse("2026-10")) == Decimal("0.30")
    twelve = {(t.name, "losses"): "0.10" for t in service.towns(env)}
    put(env, "2026-11", twelve)
    assert service.value(env, "losses", None, Period.parse("2026-Q4")) == Decimal("0.90")


def test_spreadsheet_floats_become_the_typed_decimals(env):
    losses = service.get_indicator(env, "losses")
    assert service.parse_value(losses, 0.1 + 0.2) == Decimal("0.30")  # 0.30000000000000004 in Excel
    assert service.parse_value(losses, 12.35) == Decimal("12.35")
    with pytest.raises(ValidationError):
        service.parse_value(losses, 12.345)
    cases = service.get_indicator(env, "cases")
    assert service.parse_value(cases, 12.0) == 12 and isinstance(service.parse_value(cases, "1,234"), int)
    assert service.parse_value(cases, " 12起 ") == 12 and service.parse_value(cases, "１２") == 12
