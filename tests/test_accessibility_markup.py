"""The markup behind the accessibility rules, as served (the browser checks are in tests/e2e): a refused save ties
each message to its field and lists it in an error summary; the menu marks the open page; an officer is shown no
link to a page it may not open."""

from __future__ import annotations

import re

import pytest

from tracker.metrics import service as metrics

from .conftest import get_unit


@pytest.fixture
def world(seeded, session, frozen):
    frozen(2026, 11, 10, 9)
    return session


def test_a_refused_submission_names_the_empty_field_and_keeps_the_text(world, client, auth):
    town = get_unit(world, "青石镇")
    auth.login("town1")
    url = f"/progress/tasks/3/units/{town.id}/2026-11"
    resp = client.post(url, data={"progress": "张贴防骗海报120张", "completion": "", "action": "submit"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    # the empty field is marked and described by its own message
    field = re.search(r'<textarea[^>]*name="completion"[^>]*>', html).group(0)
    assert 'aria-invalid="true"' in field and 'aria-describedby="completion-error"' in field
    assert '<div class="field-error" id="completion-error">报送前必须填写</div>' in html
    # the summary, an alert, links to it; the filled field is not marked
    summary = re.search(r'<div class="error-summary" role="alert".*?</div>', html, re.S).group(0)
    assert "未能保存:请修改以下1处" in summary
    assert '<a href="#completion">完成情况:报送前必须填写</a>' in summary
    assert "aria-invalid" not in re.search(r'<textarea[^>]*name="progress"[^>]*>', html).group(0)
    assert "张贴防骗海报120张</textarea>" in html  # nothing typed is lost
    assert "已报送" not in html


def test_a_refused_grid_save_ties_each_message_to_its_cell(world, client, auth):
    town = get_unit(world, "青石镇")
    cases = metrics.get_indicator(world, "cases")
    auth.login("police")
    html = client.get("/metrics/entry?month=2026-10").get_data(as_text=True)
    data = dict(re.findall(r'name="([cov]_\d+_\d+)" value="([^"]*)"', html))
    name = f"c_{cases.id}_{town.id}"
    data[name] = "-3"
    resp = client.post("/metrics/entry?month=2026-10", data=data)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    cell = re.search(rf'<input[^>]*id="{name}"[^>]*>', html).group(0)
    assert f'aria-invalid="true" aria-describedby="{name}-error"' in cell and 'value="-3"' in cell
    message = re.search(rf'<div class="cell-error" id="{name}-error">([^<]*)</div>', html).group(1)
    assert "负数" in message
    assert f'<a href="#{name}">青石镇 发案数:{message}</a>' in html


def test_the_menu_marks_the_open_page_and_lists_only_what_the_role_may_open(world, client, auth):
    auth.login("town1")
    html = client.get("/meetings/decisions").get_data(as_text=True)
    assert html.count('aria-current="page"') == 1
    assert '<a href="/meetings/decisions" class="active" aria-current="page">督办事项</a>' in html
    nav = re.search(r'<nav class="sidenav".*?</nav>', html, re.S).group(0)
    assert re.findall(r">([^<>]+)</a>", nav) == [
        "工作台",
        "实施方案",
        "报告列表",
        "两降两升",
        "考评",
        "红黄牌",
        "宣传台账",
        "联席会议",
        "督办事项",
    ]
    assert '<a class="skip-link" href="#main">跳到主要内容</a>' in html and 'id="main"' in html


def test_an_officer_sees_no_link_to_another_units_page_or_the_scheme(world, client, auth):
    own, other = get_unit(world, "青石镇"), get_unit(world, "柳溪镇")
    auth.login("town1")
    plan = client.get("/plan").get_data(as_text=True)
    assert f'href="/units/{own.id}"' in plan and f'href="/units/{other.id}"' not in plan
    assert "柳溪镇" in plan  # named, without a link
    assert client.get(f"/units/{other.id}").status_code == 403
    assert "/assessment/scheme" not in client.get("/assessment/").get_data(as_text=True)
    auth.logout()
    auth.login("reviewer")
    assert f'href="/units/{other.id}"' in client.get("/plan").get_data(as_text=True)
    assert 'href="/assessment/scheme"' in client.get("/assessment/").get_data(as_text=True)
