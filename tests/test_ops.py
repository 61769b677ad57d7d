"""Backup and restore under writes, and the deployment check."""

from __future__ import annotations

import json
import os
import threading

import pytest
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from tracker import create_app
from tracker.audit.service import record, verify
from tracker.auth.models import User
from tracker.db import make_engine
from tracker.ops import backup, check_deploy, restore, row_counts

PG = os.environ.get("TRACKER_TEST_DB")


def _writer(url: str, stop: threading.Event, written: list) -> None:
    engine = make_engine(url)
    make = sessionmaker(bind=engine)
    while not stop.is_set():
        with make() as s:
            record(s, None, "test.write", summary=f"写入{len(written)}")
            s.commit()
            written.append(1)
    engine.dispose()


def test_backup_under_writes_restores_consistently(seeded, db_url, tmp_path):
    if PG:
        import shutil

        if not shutil.which("pg_dump"):
            pytest.skip("pg_dump not installed")
    stop, written = threading.Event(), []
    t = threading.Thread(target=_writer, args=(db_url, stop, written))
    t.start()
    try:
        while len(written) < 20:
            pass
        target = tmp_path / "backup.bin"
        backup(db_url, target)
    finally:
        stop.set()
        t.join()
    assert target.stat().st_size > 0
    # restore into the same database after more writes: the restored state is the snapshot, intact
    engine = make_engine(db_url)
    make = sessionmaker(bind=engine)
    with make() as s:
        after = row_counts(s)
    engine.dispose()
    restore(db_url, target)
    engine = make_engine(db_url)
    with sessionmaker(bind=engine)() as s:
        restored = row_counts(s)
        assert verify(s) == []
    engine.dispose()
    assert restored["audit_events"] <= after["audit_events"]
    assert restored["units"] == after["units"] and restored["users"] == after["users"]
    assert restored["audit_events"] >= 20


def test_restore_refuses_a_file_that_is_not_a_backup(db_url, tmp_path):
    if PG:
        pytest.skip("the SQLite header check")
    bogus = tmp_path / "x.db"
    bogus.write_bytes(b"MZ not a database")
    with pytest.raises(ValueError, match="不是"):
        restore(db_url, bogus)


def test_check_deploy_on_a_bad_config(tmp_path):
    bad = {"DEBUG": True, "SECRET_KEY": "dev", "RATELIMIT_STORAGE_URI": "memory://", "SESSION_COOKIE_SECURE": False}
    keys = {p.key for p in check_deploy(bad, workers=4, instance_path=str(tmp_path))}
    assert keys == {"debug", "secret", "ratelimit", "cookies", "audit_key"}


def test_check_deploy_on_a_good_config(tmp_path, monkeypatch):
    monkeypatch.setenv("TRACKER_SECRET_KEY", "x")
    good = {
        "DEBUG": False,
        "SECRET_KEY": "3f9a1c0b7e2d4a6f8b1c3e5d7f9a0b2c4d6e8f0a",
        "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0",
        "SESSION_COOKIE_SECURE": True,
        "AUDIT_KEY": "8c2e4a6b0d1f3e5a7c9b2d4f6a8e0c1b3d5f7a9c",
    }
    assert check_deploy(good, workers=4, instance_path=str(tmp_path)) == []
    # one worker may keep limits in memory
    single = dict(good, RATELIMIT_STORAGE_URI="memory://")
    assert check_deploy(single, workers=1, instance_path=str(tmp_path)) == []


def test_check_deploy_cli_exit_codes(db_url, tmp_path, monkeypatch):
    monkeypatch.setenv("TRACKER_INSTANCE_PATH", str(tmp_path))
    app = create_app({"DATABASE_URL": db_url, "SECRET_KEY": "short"})
    result = app.test_cli_runner().invoke(args=["check-deploy", "--workers", "2"])
    assert result.exit_code == 1 and "密钥" in result.output
    good = create_app(
        {
            "DATABASE_URL": db_url,
            "SECRET_KEY": "3f9a1c0b7e2d4a6f8b1c3e5d7f9a0b2c4d6e8f0a",
            "SESSION_COOKIE_SECURE": True,
            "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/15",
        }
    )
    result = good.test_cli_runner().invoke(args=["check-deploy", "--workers", "2"])
    assert result.exit_code == 0, result.output
    for a in (app, good):
        a.extensions["tracker.engine"].dispose()


def test_check_deploy_flags_a_missing_weak_or_shared_audit_key(tmp_path, monkeypatch):
    monkeypatch.setenv("TRACKER_SECRET_KEY", "x")
    secret = "3f9a1c0b7e2d4a6f8b1c3e5d7f9a0b2c4d6e8f0a"
    base = {"SECRET_KEY": secret, "RATELIMIT_STORAGE_URI": "redis://h:6379/0", "SESSION_COOKIE_SECURE": True}
    for key in (None, "short", "a" * 40, secret):
        problems = check_deploy(dict(base, AUDIT_KEY=key), workers=2, instance_path=str(tmp_path))
        assert [p.key for p in problems] == ["audit_key"], key
    # a generated key file readable by others
    monkeypatch.delenv("TRACKER_AUDIT_KEY")
    key = "8c2e4a6b0d1f3e5a7c9b2d4f6a8e0c1b3d5f7a9c"
    (tmp_path / "audit_key").write_text(key)
    (tmp_path / "audit_key").chmod(0o644)
    assert [p.key for p in check_deploy(dict(base, AUDIT_KEY=key), 2, str(tmp_path))] == ["audit_key"]
    (tmp_path / "audit_key").chmod(0o600)
    assert check_deploy(dict(base, AUDIT_KEY=key), 2, str(tmp_path)) == []


def test_backup_records_the_audit_head_and_restore_checks_it(seeded, db_url, app, own_instance, tmp_path):
    if PG:
        import shutil

        if not shutil.which("pg_dump"):
            pytest.skip("pg_dump not installed")
    runner = app.test_cli_runner()
    with app.app_context():
        from tracker import db as tdb
        from tracker.audit.service import head

        before = head(tdb.session)
        tdb.session.rollback()
    target = tmp_path / "b.bin"
    result = runner.invoke(args=["backup", str(target)])
    assert result.exit_code == 0, result.output
    sidecar = json.loads((tmp_path / "b.bin.audit-head.json").read_text())
    assert (sidecar["seq"], sidecar["mac"], sidecar["events"]) == (before.seq, before.mac, before.events)
    anchor = json.loads((own_instance / "audit_anchors").read_text().splitlines()[-1])
    assert anchor["source"] == "backup" and anchor["seq"] == before.seq
    # more writes, then the newest events deleted: verify compares with the backup's anchor
    with app.app_context():
        for i in range(3):
            record(tdb.session, None, "test.write", summary=f"备份后{i}")
        tdb.session.commit()
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0  # anchors the 3 new events
    with app.app_context():
        from sqlalchemy import text

        tdb.session.execute(text("DELETE FROM audit_events WHERE id > :i"), {"i": before.seq})
        tdb.session.commit()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and "最近 3 条审计记录缺失" in result.output
    # restoring the backup is legitimate: its head matches the sidecar, and the anchors start again from it
    result = runner.invoke(args=["restore", str(target), "--yes"])
    assert result.exit_code == 0 and "matches the backup's recorded head" in result.output, result.output
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0


def test_restore_refuses_a_backup_whose_recorded_head_is_missing(seeded, db_url, app, tmp_path):
    if PG:
        pytest.skip("the SQLite backup file is edited directly")
    import sqlite3

    runner = app.test_cli_runner()
    target = tmp_path / "b.db"
    assert runner.invoke(args=["backup", str(target)]).exit_code == 0
    con = sqlite3.connect(target)
    with con:
        con.execute("DELETE FROM audit_events WHERE id = (SELECT max(id) FROM audit_events)")
    con.close()
    result = runner.invoke(args=["restore", str(target), "--yes"])
    assert result.exit_code == 1 and "最近 1 条审计记录缺失" in result.output


def test_demo_data_adds_a_larger_district_once(seeded, session, frozen):
    """`demo-data --scale 2 --years 1` on the demo district (6 towns): 12 towns wanted, so 6 are added with an officer
    each. The test district has no figures yet (its demo accounts exist, so the demo's own reports and figures are not
    loaded again): every town gets its four core figures for the 12 months up to November 2026, 12 × 4 × 12 = 576.
    A second run adds nothing."""
    frozen(2026, 11, 20, 9)
    runner = seeded.test_cli_runner()
    first = runner.invoke(args=["demo-data", "--scale", "2", "--years", "1"])
    assert first.exit_code == 0, first.output
    counts = dict(part.split(": ") for part in first.output.strip().split(", "))
    assert counts["towns_added"] == "6" and counts["figures"] == "576"
    assert int(counts["reports"]) > 0
    officers = session.scalars(select(User.username).where(User.username.like("scale%"))).all()
    assert len(officers) == 6
    again = runner.invoke(args=["demo-data", "--scale", "2", "--years", "1"])
    assert again.output.startswith("towns_added: 0, reports: 0, figures: 0")
