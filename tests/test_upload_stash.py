"""Nothing stashed: an Excel preview keeps its file only when it can be confirmed, each user keeps at most three,
all together stay under the byte cap, and stale ones are deleted on every upload and by `uploads cleanup`."""

from __future__ import annotations

import io
import os
import re
import time

import pytest
from sqlalchemy import func, select

from tracker.metrics.models import MetricValue

from .metrics_util import NOW, xlsx

Q = "青石镇"
CLEAN = xlsx([[Q, "2026-10", 6, None, None, None]])
WITH_ERRORS = xlsx([["不存在的镇", "2026-10", 6, None, None, None]])


@pytest.fixture
def uploads_dir(seeded, tmp_path, frozen):
    frozen(*NOW)
    seeded.instance_path = str(tmp_path)  # the stash lives in instance/uploads
    return tmp_path / "uploads"


def _stored(directory) -> tuple[int, int]:
    files = list(directory.glob("*")) if directory.exists() else []
    return len(files), sum(f.stat().st_size for f in files)


def _upload(client, data: bytes, name: str = "figures.xlsx"):
    return client.post("/metrics/import", data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def _ticket(html: str) -> dict:
    return dict(re.findall(r'name="(ticket|digest)" type="hidden" value="([^"]+)"', html))


def test_forty_rejected_uploads_leave_nothing(uploads_dir, client, auth):
    auth.login("police")
    for _ in range(20):  # previews with errors: shown, never confirmable
        resp = _upload(client, WITH_ERRORS)
        assert resp.status_code == 200 and "文件有错误,不能导入" in resp.get_data(as_text=True)
    for i in range(20):  # not a workbook at all
        resp = _upload(client, b"PK\x03\x04" + b"\0" * 200_000, f"x{i}.xlsx")
        assert resp.status_code == 422
    # 20 + 20 rejected previews, 0 files kept: 0 bytes
    assert _stored(uploads_dir) == (0, 0)


def test_each_user_keeps_three_pending_previews_the_oldest_replaced(uploads_dir, seeded, session, client, auth):
    auth.login("police")
    tickets = []
    for _ in range(5):
        html = _upload(client, CLEAN).get_data(as_text=True)
        assert "确认导入" in html
        tickets.append(_ticket(html))
        time.sleep(0.01)  # distinct modification times, so "oldest" is well defined
    # 5 uploads, quota 3: the first 2 replaced, 3 files of len(CLEAN) bytes each
    assert _stored(uploads_dir) == (3, 3 * len(CLEAN))
    gone = client.post("/metrics/import/confirm", data={**tickets[0], "accept_warnings": "y"}, follow_redirects=True)
    assert "已被更新的上传替换" in gone.get_data(as_text=True)
    done = client.post("/metrics/import/confirm", data={**tickets[4], "accept_warnings": "y"})
    assert done.status_code == 302  # a confirmable preview still confirms
    assert session.scalar(select(func.count()).select_from(MetricValue)) == 1
    assert _stored(uploads_dir) == (2, 2 * len(CLEAN))  # the confirmed one is deleted at once
    other = seeded.test_client()
    other.post("/login", data={"username": "reviewer", "password": "demo-2026"})
    correction = xlsx([[Q, "2026-10", 7, None, None, None]])  # 6 is stored now: a file changing it is confirmable
    assert "确认导入" in _upload(other, correction).get_data(as_text=True)
    assert _stored(uploads_dir)[0] == 3  # 2 of police + 1 of reviewer: another user's quota is their own


def test_the_byte_cap_refuses_a_preview_that_would_exceed_it(uploads_dir, seeded, client, auth):
    seeded.config["UPLOAD_MAX_PENDING_BYTES"] = 2 * len(CLEAN) + 10  # room for two files, not three
    auth.login("police")
    for _ in range(2):
        assert "确认导入" in _upload(client, CLEAN).get_data(as_text=True)
    resp = _upload(client, CLEAN)
    assert resp.status_code == 422 and "待确认的导入文件已达上限" in resp.get_data(as_text=True)
    assert _stored(uploads_dir) == (2, 2 * len(CLEAN))


def test_stale_previews_are_removed_on_upload_and_by_the_cleanup_command(uploads_dir, seeded, client, auth):
    auth.login("police")
    for _ in range(2):
        _upload(client, CLEAN)
    old = time.time() - 2 * 3600 - 60  # one minute past the preview's two hours
    for f in uploads_dir.glob("*.xlsx"):
        os.utime(f, (old, old))
    result = seeded.test_cli_runner().invoke(args=["uploads", "cleanup"])
    assert result.exit_code == 0
    assert result.output.strip() == f"removed 2 file(s), {2 * len(CLEAN)} bytes; 0 pending, 0 bytes"
    assert _stored(uploads_dir) == (0, 0)
    _upload(client, CLEAN)
    (stale,) = list(uploads_dir.glob("*.xlsx"))
    os.utime(stale, (old, old))
    _upload(client, WITH_ERRORS)  # any upload, even a rejected one, sweeps the stale file
    assert _stored(uploads_dir) == (0, 0)
