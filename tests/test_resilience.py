"""The database restarted in the middle of a run of requests to a live server: failures are clean, service
resumes, nothing is half-written. PostgreSQL only (it is the server that can restart under the test)."""

from __future__ import annotations

import http.cookiejar
import os
import re
import shutil
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from tracker import create_app
from tracker.audit.service import verify
from tracker.db import make_engine
from tracker.progress.models import ProgressReport, ReportEvent

from .conftest import PASSWORD, get_unit

PG = os.environ.get("TRACKER_TEST_DB")
pytestmark = [
    pytest.mark.skipif(
        not PG or shutil.which("pg_ctlcluster") is None or os.geteuid() != 0,
        reason="restarts the local PostgreSQL server: runs on PostgreSQL (TRACKER_TEST_DB) as root with pg_ctlcluster; "
        "SQLite has no server to restart",
    ),
    pytest.mark.serial,  # the restart would break the other worker's tests: `make test` runs it alone
]
VERSION = re.compile(r'name="version" value="(\d*)"')
OK = (200, 302)


def _cluster() -> str:
    return sorted(os.listdir("/etc/postgresql"))[-1]


def _ready() -> bool:
    return subprocess.run(["pg_isready", "-h", "127.0.0.1", "-p", "5432", "-q"]).returncode == 0


def _wait_ready(timeout: float = 60) -> bool:
    end = time.time() + timeout
    while time.time() < end:
        if _ready():
            return True
        time.sleep(0.2)
    return False


def _ensure_running() -> None:
    """Never leave the server stopped: start it if a restart went wrong, then wait for it."""
    if not _wait_ready(30):
        subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", _cluster(), "main", "start"],
            capture_output=True,
            timeout=120,
        )
        assert _wait_ready(60), "PostgreSQL did not come back"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """A cookie-keeping HTTP client that reports (status, body, location); a connection-level failure is
    status 0 with the exception's name as the body."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect()
        )

    def request(self, path: str, form: dict | None = None) -> tuple[int, str, str]:
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        try:
            with self.opener.open(self.base + path, data=data, timeout=15) as resp:
                return resp.status, resp.read().decode(), resp.headers.get("Location", "")
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode(errors="replace"), e.headers.get("Location", "")
        except (urllib.error.URLError, ConnectionError, TimeoutError) as e:
            return 0, type(e).__name__, ""


@pytest.fixture
def live(seeded, db_url):
    app = create_app(
        {
            "DATABASE_URL": db_url,
            "SECRET_KEY": "resilience-secret-0123456789abcdef",
            "DEBUG": False,
            "TESTING": False,
            "PROPAGATE_EXCEPTIONS": False,
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
        }
    )
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    app.extensions["tracker.engine"].dispose()


def test_requests_fail_cleanly_during_a_restart_and_recover(live, session, frozen):
    frozen(2026, 11, 10, 9)
    town_id = get_unit(session, "青石镇").id
    session.commit()
    url = f"/progress/tasks/3/units/{town_id}/2026-11"
    browser = Browser(live)
    assert browser.request("/login", {"username": "town1", "password": PASSWORD})[0] == 302
    results: list[tuple[float, str, int, str]] = []  # (time, what, status, body)
    saves: list[tuple[str, int]] = []  # (text, status of the save's response; 0: no response)
    stop = threading.Event()

    def todo() -> None:
        while not stop.is_set():
            status, body, _ = browser.request("/progress/todo")
            results.append((time.time(), "todo", status, body))
            time.sleep(0.03)

    def save() -> None:
        i = 0
        while not stop.is_set():
            i += 1
            status, page, _ = browser.request(url)
            results.append((time.time(), "report", status, page))
            if status == 200:
                text = f"第{i}次保存:走访群众{i}户"
                m = VERSION.search(page)
                status, body, location = browser.request(
                    url, {"version": m.group(1) if m else "", "progress": text, "completion": "完成", "action": "save"}
                )
                saves.append((text, status if status != 302 or location.endswith(url) else -1))
                results.append((time.time(), "save", status, body))
            time.sleep(0.03)

    workers = [threading.Thread(target=todo), threading.Thread(target=save)]
    for w in workers:
        w.start()
    try:
        time.sleep(1.0)
        restarted = time.time()
        subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", _cluster(), "main", "restart"],
            check=True,
            capture_output=True,
            timeout=120,
        )
        assert _wait_ready(), "PostgreSQL did not come back"
        back = time.time()
        time.sleep(2.5)
    finally:
        stop.set()
        for w in workers:
            w.join(timeout=30)
        _ensure_running()

    assert results, "no request ran"
    timeline = [(round(t - restarted, 2), what, status) for t, what, status, _ in results if status not in OK]
    print(f"{len(results)} requests, {len(saves)} saves; back after {back - restarted:.1f} s; failures: {timeline}")
    assert all(status in (0, *OK, 409, 500, 503) for _, _, status, _ in results), sorted(
        {status for _, _, status, _ in results}
    )
    assert not [r for r in results if "Traceback" in r[3] or "psycopg" in r[3] or "sqlalchemy" in r[3]], (
        "an error page showed internals"
    )
    failed = [r for r in results if r[2] not in OK]
    assert failed, f"no request met the outage ({len(results)} requests)"
    assert {r[2] for r in failed} <= {0, 500, 503}, timeline
    assert all("数据库暂时无法访问" in body for _, _, status, body in failed if status == 503), timeline
    assert any(r[0] < restarted and r[2] in OK for r in results)
    after = [r for r in results if r[0] > back + 1.0]
    assert after and all(r[2] in OK for r in after), [(r[1], r[2]) for r in after if r[2] not in OK]

    engine = make_engine(PG)
    with engine.connect() as conn:
        reports = conn.execute(select(ProgressReport.id, ProgressReport.progress)).all()
        events = conn.execute(
            select(ReportEvent.report_id, ReportEvent.action, ReportEvent.content).order_by(ReportEvent.id)
        ).all()
    engine.dispose()
    assert {r.id for r in reports} <= {e.report_id for e in events}, "a report without its history: half-written"
    saved_texts = [e.content.get("progress") for e in events if e.action == "save"]
    confirmed = [text for text, status in saves if status == 302]
    assert confirmed and set(confirmed) <= set(saved_texts), "a save answered as done is missing"
    assert len(saved_texts) == len(set(saved_texts)), "a save was recorded twice"
    # the stored text is the last confirmed save, or a later one whose answer was lost in the outage
    unanswered_later = [text for text, _ in saves[[t for t, _ in saves].index(confirmed[-1]) + 1 :]]
    assert len(reports) == 1 and reports[0].progress in (confirmed[-1], *unanswered_later)
    assert reports[0].progress == saved_texts[-1]
    session.rollback()
    assert verify(session) == []
