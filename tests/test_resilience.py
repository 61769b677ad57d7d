"""The database restarted in the middle of a run of requests: failures are clean, service resumes, nothing is
half-written. PostgreSQL only (it is the server that can restart)."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time

import pytest
from sqlalchemy import func, select

from tracker import create_app
from tracker.audit.service import verify
from tracker.db import make_engine
from tracker.progress.models import ProgressReport, ReportEvent

from .conftest import PASSWORD, get_unit

PG = os.environ.get("TRACKER_TEST_DB")
pytestmark = pytest.mark.skipif(
    not PG or shutil.which("pg_ctlcluster") is None or os.geteuid() != 0,
    reason="restarts the local PostgreSQL server: needs TRACKER_TEST_DB, pg_ctlcluster and root")


def _cluster() -> str:
    return sorted(os.listdir("/etc/postgresql"))[-1]


def _wait_ready(timeout: float = 60) -> None:
    end = time.time() + timeout
    while time.time() < end:
        if subprocess.run(["pg_isready", "-h", "127.0.0.1", "-p", "5432", "-q"]).returncode == 0:
            return
        time.sleep(0.3)
    raise AssertionError("PostgreSQL did not come back")


def test_requests_fail_cleanly_during_a_restart_and_recover(seeded, session, frozen):
    frozen(2026, 11, 10, 9)
    town_id = get_unit(session, "青石镇").id
    session.commit()
    app = create_app({"DATABASE_URL": PG, "SECRET_KEY": "r" * 40, "WTF_CSRF_ENABLED": False,
                      "RATELIMIT_ENABLED": False, "TESTING": False, "PROPAGATE_EXCEPTIONS": False})
    client = app.test_client()
    assert client.post("/login", data={"username": "town1", "password": PASSWORD}).status_code == 302
    url = f"/progress/tasks/3/units/{town_id}/2026-11"
    results: list[tuple[float, str, int, bool]] = []
    saved: list[str] = []
    stop = threading.Event()

    def run() -> None:
        i = 0
        while not stop.is_set():
            i += 1
            try:
                if i % 2:
                    resp = client.get("/progress/todo")
                else:
                    text = f"第{i}次保存"
                    html = client.get(url).get_data(as_text=True)
                    version = html.split('name="version" value="')[1].split('"')[0] if 'name="version" value="' \
                        in html else ""
                    resp = client.post(url, data={"version": version, "progress": text, "completion": "完成",
                                                  "action": "save"})
                    if resp.status_code == 302:
                        saved.append(text)
                body = resp.get_data(as_text=True)
                results.append((time.time(), "ok", resp.status_code, "Traceback" in body))
            except Exception as e:  # the test client surfaces nothing else; recorded, then judged
                results.append((time.time(), type(e).__name__, 0, False))
            time.sleep(0.05)

    worker = threading.Thread(target=run)
    worker.start()
    try:
        time.sleep(1.0)
        restarted = time.time()
        subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", _cluster(), "main", "restart"], check=True,
                       capture_output=True, timeout=120)
        _wait_ready()
        back = time.time()
        time.sleep(2.5)
    finally:
        stop.set()
        worker.join(timeout=30)
        _wait_ready()
    app.extensions["tracker.engine"].dispose()

    assert results, "no request ran"
    assert not [r for r in results if r[1] != "ok"], "an exception escaped the app"
    assert all(status in (200, 302, 409, 500, 503) for _, _, status, _ in results)
    assert not [r for r in results if r[3]], "an error page showed a traceback"
    after = [r for r in results if r[0] > back + 1.0]
    assert after and all(status in (200, 302) for _, _, status, _ in after), after
    assert any(r[0] < restarted and r[2] in (200, 302) for r in results)

    engine = make_engine(PG)
    with engine.connect() as conn:
        reports = conn.execute(select(ProgressReport.id, ProgressReport.progress)).all()
        no_events = conn.execute(select(func.count()).select_from(ProgressReport).where(
            ~ProgressReport.id.in_(select(ReportEvent.report_id)))).scalar()
    engine.dispose()
    assert no_events == 0, "a report without its history: half-written"
    if saved:
        assert reports and reports[0][1] == saved[-1]
    session.rollback()
    assert verify(session) == []
