"""Backup and restore carry the 佐证材料 files and check them against their SHA-256."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from tracker import db as tdb
from tracker.evidence import service as evidence
from tracker.evidence.blobs import store_for
from tracker.progress import service as progress

from . import evidence_files as files
from .conftest import get_user

PG = os.environ.get("TRACKER_TEST_DB")


@pytest.fixture
def with_files(seeded, app, session, frozen):
    if PG and not shutil.which("pg_dump"):
        pytest.skip("pg_dump not installed")
    frozen(2026, 11, 10, 9)
    officer = get_user(session, "town1")
    report = progress.save_draft(
        session, officer, task_id=3, unit_id=officer.unit_id, period="2026-11", fields={"progress": "入户走访"}
    )
    photo = evidence.store(session, officer, "report", report.id, files.upload(files.photo(), "现场.jpg"))
    pdf = evidence.store(session, officer, "report", report.id, files.upload(files.pdf(), "通知.pdf"))
    session.commit()
    return {"photo": (photo.id, photo.sha256, photo.thumb_sha256), "pdf": (pdf.id, pdf.sha256)}


def test_backup_copies_the_files_and_restore_brings_them_back(app, with_files, tmp_path):
    runner = app.test_cli_runner()
    target = tmp_path / "b.bin"
    result = runner.invoke(args=["backup", str(target)])
    assert result.exit_code == 0, result.output
    # a photo, its thumbnail and a PDF: 3 files
    assert "3 evidence file(s) copied" in result.output
    assert sorted(p.name for p in (tmp_path / "b.bin.evidence").iterdir()) == sorted(
        [*with_files["photo"][1:], with_files["pdf"][1]]
    )
    # the disk is lost: the store is emptied; the restore puts every file back, checked
    blobs = store_for(app)
    shutil.rmtree(blobs.root)
    result = runner.invoke(args=["restore", str(target), "--yes"])
    assert result.exit_code == 0, result.output
    assert "3 evidence file(s) restored" in result.output
    assert all(blobs.check(sha) is None for sha in [*with_files["photo"][1:], with_files["pdf"][1]])
    client = app.test_client()
    client.post("/login", data={"username": "town1", "password": "demo-2026"})
    resp = client.get(f"/evidence/{with_files['pdf'][0]}")
    assert resp.status_code == 200 and resp.data == files.pdf()
    resp.close()


def test_restore_refuses_a_tampered_or_missing_file(app, with_files, tmp_path):
    runner = app.test_cli_runner()
    target = tmp_path / "b.bin"
    assert runner.invoke(args=["backup", str(target)]).exit_code == 0
    _pdf_id, pdf_sha = with_files["pdf"]
    (tmp_path / "b.bin.evidence" / pdf_sha).write_bytes(b"%PDF-1.4 replaced\n")  # altered in the backup
    (tmp_path / "b.bin.evidence" / with_files["photo"][2]).unlink()  # the thumbnail lost from the backup
    shutil.rmtree(store_for(app).root)
    result = runner.invoke(args=["restore", str(target), "--yes"])
    assert result.exit_code == 1
    assert f"备份中的文件 {pdf_sha} 内容与其SHA-256不符,未恢复" in result.output
    assert "“通知.pdf”的文件缺失" in result.output  # the altered file was not taken
    assert "“现场.jpg”的缩略图缺失" in result.output
    assert "2 evidence file problem(s)" not in result.output and "3 evidence file problem(s)" in result.output
    with app.app_context():
        tdb.session.rollback()


def test_evidence_check_finds_a_changed_file(app, with_files):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["evidence", "check", "--json"])
    # 2 attachments; a photo, its thumbnail and a PDF stored: 3 files, all named
    assert result.exit_code == 0 and json.loads(result.output) == {
        "ok": True,
        "attachments": 2,
        "files": 3,
        "problems": [],
        "unused": 0,
    }
    pdf_id, pdf_sha = with_files["pdf"]
    store_for(app).path(pdf_sha).write_bytes(b"%PDF-1.4 changed on disk\n")
    result = runner.invoke(args=["evidence", "check"])
    assert result.exit_code == 1
    assert f"佐证材料 #{pdf_id}“通知.pdf”:文件内容与其SHA-256不符({pdf_sha})" in result.output
