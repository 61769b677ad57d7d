"""The scheme page edits every item in one form: parameters as a JSON object in a textarea, checked per formula;
the active items' weights must total 100 for towns and for departments, so weight moves between items in one
save, and a save that breaks the total is refused with the totals named and nothing saved."""

from __future__ import annotations

import html as htmllib
import json
import re

import pytest
from sqlalchemy import select

from tracker.assessment import scheme
from tracker.assessment.models import SchemeItem
from tracker.audit.models import AuditEvent

from .conftest import get_user


def _flat(text: str) -> str:
    return re.sub(r"\s+", "", re.sub(r"<[^>]+>", "", htmllib.unescape(text)))


def _items(session) -> dict[str, SchemeItem]:
    session.expire_all()
    return {it.code: it for it in scheme.items(session)}


def _form(page: str) -> dict[str, str]:
    """The item fields as the page fills them in (what a browser would post back unchanged)."""
    data = {}
    for name, value in re.findall(r'<input type="(?:hidden|text)" name="(item-\d+-[a-z_]+)" value="([^"]*)"', page):
        data[name] = htmllib.unescape(value)
    for name, value in re.findall(r'<textarea name="(item-\d+-params)"[^>]*>([^<]*)</textarea>', page):
        data[name] = htmllib.unescape(value)
    for name in re.findall(r'<input type="checkbox" name="(item-\d+-is_active)" value="y" checked>', page):
        data[name] = "y"
    return data


@pytest.fixture
def admin_page(seeded, session, client, auth):
    auth.login("admin")
    page = client.get("/assessment/scheme").get_data(as_text=True)
    return page, _form(page)


def test_params_are_shown_as_json_and_round_trip_unchanged(admin_page, session, client):
    page, form = admin_page
    items = _items(session)
    outcome = items["outcome"]
    # the params of every item are whole JSON objects in a textarea (no value="{" cut at the first quote)
    shown = json.loads(form[f"item-{outcome.id}-params"])
    assert shown == {"indicators": ["cases", "losses", "arrests", "solved"]}
    assert json.loads(form[f"item-{items['lead_reports'].id}-params"]) == {"role": "lead"}
    assert json.loads(form[f"item-{items['decisions'].id}-params"]) == {}
    before = {code: (it.version, it.params) for code, it in items.items()}
    events = session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1))

    resp = client.post("/assessment/scheme/items", data=form)
    assert resp.status_code == 302
    after = _items(session)
    assert {code: (it.version, it.params) for code, it in after.items()} == before  # nothing changed, nothing written
    assert session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1)) == events

    # a dict edited: two indicators instead of four; stored as a dict and shown again as it was typed
    form[f"item-{outcome.id}-params"] = '{"indicators": ["cases", "losses"]}'
    assert client.post("/assessment/scheme/items", data=form).status_code == 302
    outcome = _items(session)["outcome"]
    assert outcome.params == {"indicators": ["cases", "losses"]} and outcome.version == before["outcome"][0] + 1
    again = _form(client.get("/assessment/scheme").get_data(as_text=True))
    assert json.loads(again[f"item-{outcome.id}-params"]) == {"indicators": ["cases", "losses"]}
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "scheme.item").order_by(AuditEvent.id))
    assert event.before["params"] == {"indicators": ["cases", "losses", "arrests", "solved"]}
    assert event.after["params"] == {"indicators": ["cases", "losses"]}


@pytest.mark.parametrize(
    ("code", "typed", "message"),
    [
        ("outcome", '{"indicators": ["cases",', "参数不是有效的JSON"),
        ("outcome", '["cases"]', "参数须为JSON对象"),
        ("outcome", '{"indicators": ["cases", "robberies"]}', "指标代码robberies不存在"),
        ("outcome", '{"indicators": []}', "至少一个指标代码"),
        ("lead_reports", '{"role": "boss"}', "牵头(lead)或配合(member)"),
        ("decisions", '{"role": "lead"}', "参数role不适用于“督办事项按期销号占比”,可用参数:无"),
    ],
)
def test_bad_params_are_refused_with_what_was_typed_kept(admin_page, session, client, code, typed, message):
    _, form = admin_page
    item = _items(session)[code]
    params, version = item.params, item.version
    form[f"item-{item.id}-params"] = typed
    resp = client.post("/assessment/scheme/items", data=form)
    assert resp.status_code == 422
    page = resp.get_data(as_text=True)
    assert message in _flat(page) and "未保存任何修改" in _flat(page)
    assert _form(page)[f"item-{item.id}-params"] == typed  # shown back as typed
    item = _items(session)[code]
    assert (item.params, item.version) == (params, version)


def test_a_weight_change_leaving_the_total_off_100_is_refused_and_nothing_saved(admin_page, session, client):
    _, form = admin_page
    items = _items(session)
    outcome, member = items["outcome"], items["member_reports"]
    versions = {code: it.version for code, it in items.items()}
    # towns: 40 + 20 + 15 + 15 + 10 = 100; outcome to 45 alone makes 105
    form[f"item-{outcome.id}-weight_township"] = "45"
    form[f"item-{outcome.id}-params"] = '{"indicators": ["cases"]}'  # a valid change in the same save
    resp = client.post("/assessment/scheme/items", data=form)
    assert resp.status_code == 422
    page = resp.get_data(as_text=True)
    assert "启用的考评项目分值合计须为100:按本次修改,镇(街道)分值合计将为105.00(现为100.00)" in _flat(page)
    assert _form(page)[f"item-{outcome.id}-weight_township"] == "45"
    after = _items(session)
    assert {code: it.version for code, it in after.items()} == versions
    assert after["outcome"].weight_township == 40 and after["outcome"].params["indicators"] == [
        "cases",
        "losses",
        "arrests",
        "solved",
    ]

    # switching an item off takes its weight out of the total: departments 50 + 20 + 15 + 15 − 15 = 85
    form[f"item-{outcome.id}-weight_township"] = "40"
    form.pop(f"item-{items['rectification'].id}-is_active")
    page = client.post("/assessment/scheme/items", data=form).get_data(as_text=True)
    assert "镇(街道)分值合计将为90.00(现为100.00);部门分值合计将为85.00(现为100.00)" in _flat(page)

    # the weight moved in one save: outcome 40 → 45, member tasks 15 → 10, still 100
    form[f"item-{items['rectification'].id}-is_active"] = "y"
    form[f"item-{outcome.id}-weight_township"] = "45"
    form[f"item-{member.id}-weight_township"] = "10"
    assert client.post("/assessment/scheme/items", data=form).status_code == 302
    after = _items(session)
    assert (after["outcome"].weight_township, after["member_reports"].weight_township) == (45, 10)
    assert scheme.weight_totals(after.values()) == {"township": 100, "department": 100}
    assert "启用项目合计(已保存)100.00100.00" in _flat(client.get("/assessment/scheme").get_data(as_text=True))
    changed = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "scheme.item").order_by(AuditEvent.id)
    ).all()
    assert sorted(e.object_id for e in changed) == sorted([outcome.id, member.id])


def test_a_stale_form_is_refused_and_shows_what_was_typed(admin_page, session, client):
    _, form = admin_page
    item = _items(session)["outcome"]
    # somebody else saves the item first
    scheme.update_item(
        session,
        get_user(session, "admin"),
        item.id,
        item.version,
        name="两降两升工作成效",
        weight_township=item.weight_township,
        weight_department=item.weight_department,
        is_active=True,
    )
    session.commit()
    form[f"item-{item.id}-name"] = "两降两升成效(修订)"
    resp = client.post("/assessment/scheme/items", data=form)
    assert resp.status_code == 409
    page = resp.get_data(as_text=True)
    assert "已被他人修改" in _flat(page) and _form(page)[f"item-{item.id}-name"] == "两降两升成效(修订)"
    assert _items(session)["outcome"].name == "两降两升工作成效"
    # the form now carries the current version: saving again, after checking, overwrites knowingly
    assert client.post("/assessment/scheme/items", data=_form(page)).status_code == 302
    assert _items(session)["outcome"].name == "两降两升成效(修订)"


def test_only_the_administrator_edits_and_reviewers_read(admin_page, session, client, auth):
    _, form = admin_page
    auth.logout()
    auth.login("reviewer")
    page = client.get("/assessment/scheme").get_data(as_text=True)
    assert "<textarea" not in page and '<code>{"role": "lead"}</code>' in page
    assert client.post("/assessment/scheme/items", data=form).status_code == 403
