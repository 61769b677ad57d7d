"""Indicator administration: add, rename, switch on and off, and the limits that protect existing figures."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from tracker.errors import StaleEdit, ValidationError
from tracker.metrics import service

from .conftest import get_unit, get_user
from .metrics_util import NOW, put

BASE = {
    "name": "电诈劝阻成功数",
    "unit_label": "人次",
    "direction": "up",
    "decimals": 0,
    "scope": "township",
    "aggregate": "sum",
    "small_base": 10,
    "sort_order": 20,
    "is_active": True,
}


@pytest.fixture
def env(seeded, session, frozen):
    frozen(*NOW)
    return session


def _owner(session) -> int:
    return get_unit(session, "公安分局").id


def test_admin_adds_an_indicator_that_appears_in_grid_and_template(env, client, auth):
    auth.login("admin")
    resp = client.post(
        "/metrics/indicators/new",
        data={
            "code": "stopped",
            "name": "电诈劝阻成功数",
            "unit_label": "人次",
            "direction": "up",
            "decimals": "0",
            "scope": "township",
            "aggregate": "sum",
            "owner_unit_id": str(_owner(env)),
            "small_base": "10",
            "sort_order": "5",
            "is_active": "y",
        },
    )
    assert resp.status_code == 302
    ind = service.get_indicator(env, "stopped")
    assert ind.label == "电诈劝阻成功数(人次)" and ind.owner.name == "公安分局"
    auth.logout()
    auth.login("police")
    assert "电诈劝阻成功数(人次)" in client.get("/metrics/entry?month=2026-10").get_data(as_text=True)
    header = next(
        load_workbook(io.BytesIO(client.get("/metrics/template?month=2026-10").data))["数据"].iter_rows(
            values_only=True
        )
    )
    assert header[-1] == "电诈劝阻成功数(人次)"


def test_indicator_form_errors_are_chinese(env, client, auth):
    auth.login("admin")
    new = client.get("/metrics/indicators/new").get_data(as_text=True)
    assert f'<option selected value="{_owner(env)}">公安分局</option>' in new  # the default owner
    resp = client.post(
        "/metrics/indicators/new",
        data={
            "code": "Bad Code",
            "name": "x(1)",
            "unit_label": "",
            "direction": "up",
            "decimals": "9",
            "scope": "township",
            "aggregate": "sum",
            "owner_unit_id": "0",
            "small_base": "10",
        },
    )
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "请填写计量单位" in html and "小数位数须为0至4" in html
    with pytest.raises(ValidationError, match="指标代码须为"):
        service.create_indicator(env, get_user(env, "admin"), {**BASE, "code": "Bad Code"})
    with pytest.raises(ValidationError, match="已被使用"):
        service.create_indicator(env, get_user(env, "admin"), {**BASE, "code": "cases"})
    with pytest.raises(ValidationError, match="已有名为“发案数”的指标"):
        service.create_indicator(env, get_user(env, "admin"), {**BASE, "code": "cases2", "name": "发案数"})
    with pytest.raises(ValidationError, match="须指定填报单位"):
        service.create_indicator(env, get_user(env, "admin"), {**BASE, "code": "d1", "scope": "district"})


def test_rename_and_switch_off_and_on(env, client, auth):
    admin = get_user(env, "admin")
    ind = service.create_indicator(env, admin, {**BASE, "code": "stopped", "owner_unit_id": _owner(env)})
    env.commit()
    auth.login("admin")
    page = client.get(f"/metrics/indicators/{ind.id}").get_data(as_text=True)
    assert "电诈劝阻成功数" in page
    data = {
        "version": str(ind.version),
        "name": "劝阻成功数",
        "unit_label": "人",
        "direction": "up",
        "decimals": "0",
        "scope": "township",
        "aggregate": "sum",
        "owner_unit_id": str(_owner(env)),
        "small_base": "5",
        "sort_order": "20",
    }  # is_active unticked: switched off
    assert client.post(f"/metrics/indicators/{ind.id}", data=data).status_code == 302
    env.expire_all()
    ind = service.get_indicator(env, "stopped")
    assert (ind.name, ind.unit_label, ind.is_active, ind.small_base) == ("劝阻成功数", "人", False, 5)
    assert "stopped" not in [i.code for i in service.active_indicators(env)]
    stale = client.post(f"/metrics/indicators/{ind.id}", data={**data, "is_active": "y"})  # old version
    assert stale.status_code == 409 and "已被他人修改" in stale.get_data(as_text=True)
    again = client.post(f"/metrics/indicators/{ind.id}", data={**data, "is_active": "y", "version": str(ind.version)})
    assert again.status_code == 302


def test_core_indicators_stay_on_and_keep_direction(env):
    admin = get_user(env, "admin")
    cases = service.get_indicator(env, "cases")
    with pytest.raises(ValidationError, match="不能停用"):
        service.update_indicator(env, admin, cases.id, cases.version, {**cases.snapshot(), "is_active": False})
    with pytest.raises(ValidationError, match="方向不能更改"):
        service.update_indicator(env, admin, cases.id, cases.version, {**cases.snapshot(), "direction": "up"})
    renamed = service.update_indicator(env, admin, cases.id, cases.version, {**cases.snapshot(), "name": "电诈发案数"})
    assert renamed.name == "电诈发案数"
    with pytest.raises(StaleEdit):
        service.update_indicator(env, admin, cases.id, 1, {**cases.snapshot()})


def test_settings_that_would_corrupt_figures_are_refused_once_there_are_figures(env):
    admin = get_user(env, "admin")
    put(env, "2026-10", {("青石镇", "losses"): "1.25"})
    losses = service.get_indicator(env, "losses")
    snap = losses.snapshot()
    with pytest.raises(ValidationError, match="不能更改填报层级"):
        service.update_indicator(env, admin, losses.id, losses.version, {**snap, "scope": "district"})
    with pytest.raises(ValidationError, match="整数与小数之间切换"):
        service.update_indicator(env, admin, losses.id, losses.version, {**snap, "decimals": 0})
    with pytest.raises(ValidationError, match="不能减少小数位数"):
        service.update_indicator(env, admin, losses.id, losses.version, {**snap, "decimals": 1})
    assert service.update_indicator(env, admin, losses.id, losses.version, {**snap, "decimals": 3}).decimals == 3


def test_owner_decides_who_enters(env):
    """Moving an indicator to another owner moves the grid with it."""
    admin = get_user(env, "admin")
    office = get_unit(env, "办公室")
    ind = service.create_indicator(
        env, admin, {**BASE, "code": "posters", "name": "宣传海报数", "unit_label": "张", "owner_unit_id": office.id}
    )
    grid = service.build_entry_grid(env, get_user(env, "office"), "2026-10")
    assert [i.code for i in grid.indicators] == ["posters"]
    police_grid = service.build_entry_grid(env, get_user(env, "police"), "2026-10")
    assert ind.id not in [i.id for i in police_grid.indicators]
    # each town enters its own row
    service.update_indicator(env, admin, ind.id, ind.version, {**ind.snapshot(), "owner_unit_id": None})
    town_grid = service.build_entry_grid(env, get_user(env, "town1"), "2026-10")
    writable = [k for k, c in town_grid.cells.items() if c.source]
    assert writable == [(ind.id, get_unit(env, "青石镇").id)]
