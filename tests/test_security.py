"""CSRF, sessions, lockout, redirects, throttling and headers."""

from __future__ import annotations

import re

import pytest
from flask import url_for

from tracker import create_app
from tracker import db as tdb
from tracker.auth import service as auth_service
from tracker.progress import service as progress

from .conftest import PASSWORD, get_unit, get_user


def _token(html: str) -> str:
    return (
        re.search(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"', html).group(1)
        or ""
    )


def _csrf_login(client, username):
    html = client.get("/login").get_data(as_text=True)
    m = re.search(r'id="csrf_token" name="csrf_token" type="hidden" value="([^"]+)"', html)
    return client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": m.group(1)})


@pytest.fixture
def csrf_app(seeded):
    seeded.config["WTF_CSRF_ENABLED"] = True
    return seeded


def test_every_post_without_a_csrf_token_is_refused(csrf_app):
    client = csrf_app.test_client()
    assert _csrf_login(client, "reviewer").status_code == 302
    posts = []
    for rule in csrf_app.url_map.iter_rules():
        if "POST" not in rule.methods:
            continue
        args = {a: 1 for a in rule.arguments}
        if "period" in rule.arguments:
            args["period"] = "2026-11"
        with csrf_app.test_request_context():
            posts.append(url_for(rule.endpoint, **args))
    assert len(posts) >= 10
    for url in posts:
        resp = client.post(url, data={"username": "x", "password": "y", "version": 1, "decision": "accept"})
        assert resp.status_code == 400, f"{url} accepted a POST without CSRF token ({resp.status_code})"
    # still logged in: the refused logout did nothing
    assert client.get("/progress/grid").status_code == 200


def test_login_with_csrf_token_works_and_logout_needs_one(csrf_app):
    client = csrf_app.test_client()
    assert _csrf_login(client, "town1").status_code == 302
    assert client.get("/logout").status_code == 405  # logout is POST only


def test_cookie_captured_before_logout_is_refused_after(seeded, client, auth):
    auth.login("reviewer")
    cookie = client.get_cookie("session")
    assert client.get("/progress/grid").status_code == 200
    auth.logout()
    replay = seeded.test_client()
    replay.set_cookie("session", cookie.value, domain=cookie.domain or "localhost")
    resp = replay.get("/progress/grid")
    assert resp.status_code == 302 and "/login" in resp.location


def test_password_change_ends_other_sessions(seeded, session):
    a, b = seeded.test_client(), seeded.test_client()
    for c in (a, b):
        c.post("/login", data={"username": "town1", "password": PASSWORD})
    resp = a.post("/password", data={"old_password": PASSWORD, "new_password": "newpass2026", "confirm": "newpass2026"})
    assert resp.status_code == 302
    assert a.get("/progress/todo").status_code == 200
    assert b.get("/progress/todo").status_code == 302


def test_disabled_user_is_locked_out_at_next_request(seeded, session):
    officer = seeded.test_client()
    officer.post("/login", data={"username": "town1", "password": PASSWORD})
    assert officer.get("/progress/todo").status_code == 200
    admin = seeded.test_client()
    admin.post("/login", data={"username": "admin", "password": PASSWORD})
    user = get_user(session, "town1")
    resp = admin.post(
        f"/admin/users/{user.id}",
        data={"version": user.version, "display_name": "停用者", "role": "officer", "unit_id": user.unit_id},
    )
    assert resp.status_code == 302
    assert officer.get("/progress/todo").status_code == 302
    assert seeded.test_client().post("/login", data={"username": "town1", "password": PASSWORD}).status_code == 200


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)", "http:/evil.example"],
)
def test_login_next_does_not_redirect_off_site(seeded, client, target):
    resp = client.post("/login", data={"username": "reviewer", "password": PASSWORD, "next": target})
    assert resp.status_code == 302
    assert resp.location in ("/", "http://localhost/")


def test_login_next_follows_a_local_path(seeded, client):
    resp = client.post("/login", data={"username": "reviewer", "password": PASSWORD, "next": "/plan"})
    assert resp.location.endswith("/plan")


def test_wrong_password_gives_one_message(seeded, client):
    html = client.post("/login", data={"username": "reviewer", "password": "wrong"}).get_data(as_text=True)
    assert "用户名或密码错误" in html
    html = client.post("/login", data={"username": "nobody", "password": "wrong"}).get_data(as_text=True)
    assert "用户名或密码错误" in html


def test_login_attempts_are_rate_limited(db_url, seeded):
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": db_url,
            "SECRET_KEY": "k" * 32,
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_LOGIN": "3 per minute",
            "RATELIMIT_STORAGE_URI": "memory://",
        }
    )
    client = app.test_client()
    codes = [client.post("/login", data={"username": "reviewer", "password": "bad"}).status_code for _ in range(4)]
    assert codes[:3] == [200, 200, 200] and codes[3] == 429
    assert "过于频繁" in client.post("/login", data={"username": "reviewer", "password": "y"}).get_data(as_text=True)
    app.extensions["tracker.engine"].dispose()


def test_security_headers_and_no_store(seeded, client, auth):
    resp = client.get("/login")
    csp = resp.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp and "script-src 'self'" in csp
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"]
    auth.login("reviewer")
    assert client.get("/plan").headers["Cache-Control"] == "no-store"


def test_session_cookie_flags(seeded, client):
    resp = client.post("/login", data={"username": "reviewer", "password": PASSWORD})
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_secret_key_is_generated_once_into_instance(tmp_path, monkeypatch, db_url):
    monkeypatch.setenv("TRACKER_INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("TRACKER_SECRET_KEY", raising=False)
    a = create_app({"DATABASE_URL": db_url})
    b = create_app({"DATABASE_URL": db_url})
    assert a.config["SECRET_KEY"] == b.config["SECRET_KEY"] and len(a.config["SECRET_KEY"]) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
    for app in (a, b):
        app.extensions["tracker.engine"].dispose()


def test_concurrent_edit_conflict_keeps_the_second_editors_text(seeded, session, frozen):
    frozen(2026, 11, 10, 9)
    town = get_unit(session, "青石镇")
    officer = get_user(session, "town1")
    r = progress.save_draft(
        session, officer, task_id=3, unit_id=town.id, period="2026-11", fields={"progress": "初稿", "completion": ""}
    )
    session.commit()
    version = r.version
    url = f"/progress/tasks/3/units/{town.id}/2026-11"
    first, second = seeded.test_client(), seeded.test_client()
    for c in (first, second):
        c.post("/login", data={"username": "town1", "password": PASSWORD})
        assert f'name="version" value="{version}"' in c.get(url).get_data(as_text=True)
    ok = first.post(url, data={"version": version, "progress": "甲的修改", "action": "save"})
    assert ok.status_code == 302
    clash = second.post(url, data={"version": version, "progress": "乙填写的很长一段内容", "action": "save"})
    assert clash.status_code == 409
    html = clash.get_data(as_text=True)
    assert "已被他人修改" in html and "乙填写的很长一段内容" in html
    session.expire_all()
    assert progress.find_report(session, 3, town.id, "2026-11").progress == "甲的修改"


def test_unknown_user_and_disabled_cookie_token_do_not_load(seeded, session):
    assert auth_service.load_from_cookie(session, "abc") is None
    user = get_user(session, "town1")
    assert auth_service.load_from_cookie(session, f"{user.id}:wrong") is None
    assert auth_service.load_from_cookie(session, user.get_id()).id == user.id
    assert tdb.session is not None


def test_hsts_only_over_https(seeded, client):
    assert "Strict-Transport-Security" not in client.get("/login").headers
    assert "max-age" in client.get("/login", base_url="https://localhost").headers["Strict-Transport-Security"]


def test_error_page_leaks_no_traceback_with_debug_off(db_url):
    app = create_app({"DATABASE_URL": db_url, "SECRET_KEY": "k" * 40, "DEBUG": False, "TESTING": False})

    def boom():
        raise ZeroDivisionError("secret internals")

    app.add_url_rule("/boom", "boom", boom)
    resp = app.test_client().get("/boom")
    body = resp.get_data(as_text=True)
    assert resp.status_code == 500 and "系统内部错误" in body
    assert "Traceback" not in body and "secret internals" not in body and "ZeroDivisionError" not in body
    app.extensions["tracker.engine"].dispose()


def test_login_throttle_is_per_account_and_per_address(db_url, seeded):
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": db_url,
            "SECRET_KEY": "k" * 32,
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_LOGIN": "3 per minute",
            "RATELIMIT_LOGIN_IP": "5 per minute",
            "RATELIMIT_STORAGE_URI": "memory://",
        }
    )
    client = app.test_client()
    codes = [client.post("/login", data={"username": "reviewer", "password": "bad"}).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    # another account from the same office address still gets in, until the address limit
    assert client.post("/login", data={"username": "town1", "password": PASSWORD}).status_code == 302
    client.post("/logout")
    assert client.post("/login", data={"username": "town2", "password": "bad"}).status_code == 429
    app.extensions["tracker.engine"].dispose()
