"""Hostile input the whole app answers cleanly: NUL bytes give 400 with a Chinese page, ids beyond the integer range
give 404, and HTTPS behind a trusted proxy makes the session cookie Secure."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tracker import create_app
from tracker.progress.models import ProgressReport

from .conftest import PASSWORD, get_unit

NUL_PAGE = "空字符"


@pytest.mark.parametrize(
    "method, url, data",
    [
        ("post", "/login", {"username": "reviewer\x00", "password": "x"}),
        ("post", "/login", {"username": "reviewer", "password": "demo\x00-2026"}),
        ("get", "/login?next=/plan%00", None),
        ("get", "/progress/reports?q=%00", None),
        ("get", "/cards/?period=2026-Q3%00", None),
    ],
)
def test_a_nul_byte_anywhere_gets_a_400_page_in_chinese(seeded, client, method, url, data):
    resp = getattr(client, method)(url, data=data)
    assert resp.status_code == 400
    assert NUL_PAGE in resp.get_data(as_text=True)


def test_a_nul_byte_in_report_text_is_refused_and_nothing_is_saved(seeded, client, auth, session):
    auth.login("town1")
    town = get_unit(session, "青石镇")
    resp = client.post(
        f"/progress/tasks/1/units/{town.id}/2026-11",
        data={"progress": "已完成\x00宣传", "completion": "", "action": "save"},
    )
    assert resp.status_code == 400 and NUL_PAGE in resp.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(ProgressReport)) == 0
    # the same text without the NUL byte is saved (the control)
    ok = client.post(
        f"/progress/tasks/1/units/{town.id}/2026-11",
        data={"progress": "已完成宣传", "completion": "", "action": "save"},
    )
    assert ok.status_code == 302


@pytest.mark.parametrize(
    "url",
    [
        "/cards/2147483648",  # 2**31: one past PostgreSQL's INTEGER
        "/cards/9223372036854775808",  # 2**63: past SQLite's 64-bit integer
        "/meetings/2147483648",
        "/meetings/decisions/99999999999999999999",
        "/plan/tasks/2147483648",
        "/metrics/units/2147483648",
        "/admin/users/2147483648",
    ],
)
def test_ids_beyond_the_integer_range_are_not_found(seeded, client, auth, url):
    auth.login("admin" if url.startswith("/admin") else "reviewer")
    resp = client.get(url)
    assert resp.status_code == 404
    assert "页面不存在" in resp.get_data(as_text=True)


def test_the_largest_integer_id_is_still_looked_up(seeded, client, auth):
    auth.login("reviewer")
    assert client.get("/cards/2147483647").status_code == 404  # 2**31 - 1: in range, no such card


def test_huge_numbers_in_the_query_string_are_ignored_not_a_500(seeded, client, auth):
    auth.login("reviewer")
    assert client.get("/progress/reports?unit=2147483648").status_code == 200
    assert client.get("/audit?page=99999999999999999999").status_code == 200


def _cookie_app(db_url, **config):
    return create_app(
        {
            "TESTING": True,
            "DATABASE_URL": db_url,
            "SECRET_KEY": "k" * 32,
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            **config,
        }
    )


def _login_cookie(app, headers=None, base_url="http://localhost") -> str:
    resp = app.test_client().post(
        "/login", data={"username": "reviewer", "password": PASSWORD}, headers=headers or {}, base_url=base_url
    )
    assert resp.status_code == 302
    return resp.headers["Set-Cookie"]


def test_session_cookie_is_secure_over_https_behind_a_trusted_proxy(db_url, seeded):
    app = _cookie_app(db_url, PROXY_COUNT=1)
    cookie = _login_cookie(app, headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"})
    assert "Secure" in cookie and "HttpOnly" in cookie
    # the same proxy, plain http: no Secure (the browser would drop the cookie)
    assert "Secure" not in _login_cookie(app, headers={"X-Forwarded-Proto": "http"})
    # a direct http request
    assert "Secure" not in _login_cookie(app)
    app.extensions["tracker.engine"].dispose()


def test_forwarded_proto_is_not_trusted_without_a_proxy_count(db_url, seeded):
    app = _cookie_app(db_url)
    assert "Secure" not in _login_cookie(app, headers={"X-Forwarded-Proto": "https"})
    # HTTPS straight to the app still gets Secure
    assert "Secure" in _login_cookie(app, base_url="https://localhost")
    app.extensions["tracker.engine"].dispose()


def test_proxy_count_from_the_environment(db_url, monkeypatch):
    monkeypatch.setenv("TRACKER_PROXY_COUNT", "1")
    app = create_app({"DATABASE_URL": db_url, "SECRET_KEY": "k" * 32})
    assert app.config["PROXY_COUNT"] == 1
    app.extensions["tracker.engine"].dispose()


def test_check_deploy_accepts_a_trusted_proxy_instead_of_a_forced_secure_cookie(tmp_path, monkeypatch):
    from tracker.ops import check_deploy

    monkeypatch.setenv("TRACKER_SECRET_KEY", "x")
    base = {"SECRET_KEY": "3f9a1c0b7e2d4a6f8b1c3e5d7f9a0b2c4d6e8f0a", "RATELIMIT_STORAGE_URI": "redis://h:6379/0"}
    base["AUDIT_KEY"] = "8c2e4a6b0d1f3e5a7c9b2d4f6a8e0c1b3d5f7a9c"
    assert [p.key for p in check_deploy(base, workers=2, instance_path=str(tmp_path))] == ["cookies"]
    assert check_deploy(dict(base, PROXY_COUNT=1), workers=2, instance_path=str(tmp_path)) == []
