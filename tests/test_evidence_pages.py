"""佐证材料 on the pages: a report saved with photos, downloads under the report's permission, safe responses,
deleting while the report is a draft."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from tracker.audit.models import AuditEvent
from tracker.evidence import service as evidence
from tracker.evidence.models import Attachment
from tracker.progress import service as progress

from . import evidence_files as files
from .conftest import get_unit, get_user

TEXT = {"progress": "进校园宣讲2场,覆盖师生600人", "completion": "完成", "problems": "", "next_steps": ""}


@pytest.fixture
def town(seeded, session, frozen):
    frozen(2026, 11, 10, 9)
    return get_unit(session, "青石镇")


def _url(town) -> str:
    return f"/progress/tasks/3/units/{town.id}/2026-11"


def _save(client, town, uploads, action="save", **extra):
    data = {**TEXT, "action": action, **extra, "evidence": [(io.BytesIO(d), n) for d, n in uploads]}
    return client.post(_url(town), data=data, content_type="multipart/form-data")


def _get(client, url):
    """GET a file and close the response (a streamed file is closed by the server after sending)."""
    resp = client.get(url)
    resp.get_data()
    resp.close()
    return resp


def _report(session, town):
    session.expire_all()
    return progress.find_report(session, 3, town.id, "2026-11")


def test_officer_saves_a_report_with_a_photo_and_a_pdf(client, auth, session, town):
    auth.login("town1")
    resp = _save(client, town, [(files.photo(), "宣讲现场.jpg"), (files.PDF_WITH_JS, "通知.pdf")])
    assert resp.status_code == 302
    report = _report(session, town)
    atts = evidence.for_owner(session, "report", report.id)
    assert [(a.name, a.kind) for a in atts] == [("宣讲现场.jpg", "jpeg"), ("通知.pdf", "pdf")]
    page = client.get(_url(town)).get_data(as_text=True)
    assert f'src="/evidence/{atts[0].id}/thumb"' in page and 'alt="照片:宣讲现场.jpg"' in page
    assert f'href="/evidence/{atts[1].id}"' in page and "佐证材料(2)" in page
    assert 'accept="image/*,.pdf,.docx,.xlsx"' in page and 'capture="environment"' in page


def test_downloads_are_safe(client, auth, session, town):
    auth.login("town1")
    _save(client, town, [(files.photo(), "宣讲现场.jpg"), (files.PDF_WITH_JS, "通知.pdf")])
    photo, pdf = evidence.for_owner(session, "report", _report(session, town).id)

    resp = _get(client, f"/evidence/{pdf.id}")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    assert resp.headers["Content-Disposition"].startswith("attachment;")  # never rendered inline
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in resp.headers["Content-Security-Policy"]
    assert resp.data == files.PDF_WITH_JS

    resp = _get(client, f"/evidence/{photo.id}")
    assert resp.mimetype == "image/jpeg" and resp.headers["Content-Disposition"].startswith("inline;")
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    served = Image.open(io.BytesIO(resp.data))
    assert served.getexif().get_ifd(0x8825) == {} and served.size == (40, 60)  # no GPS; turned upright

    thumb = _get(client, f"/evidence/{photo.id}/thumb")
    assert thumb.mimetype == "image/jpeg" and Image.open(io.BytesIO(thumb.data)).format == "JPEG"
    assert _get(client, f"/evidence/{pdf.id}/thumb").status_code == 404  # a PDF has no thumbnail


def test_another_towns_officer_cannot_download(client, auth, session, town):
    auth.login("town1")
    _save(client, town, [(files.photo(), "宣讲现场.jpg")])
    (photo,) = evidence.for_owner(session, "report", _report(session, town).id)
    auth.logout()
    auth.login("town2")
    assert _get(client, f"/evidence/{photo.id}").status_code == 403
    assert _get(client, f"/evidence/{photo.id}/thumb").status_code == 403
    assert client.get("/evidence/999999").status_code == 404
    assert client.post(f"/evidence/{photo.id}/delete").status_code == 403
    auth.logout()
    auth.login("reviewer")  # the reviewer reads every unit's reports
    assert _get(client, f"/evidence/{photo.id}").status_code == 200


def test_a_hostile_file_refuses_the_save_and_keeps_the_text(client, auth, session, town):
    auth.login("town1")
    resp = _save(client, town, [(files.EXE, "现场照片.jpg")])
    assert resp.status_code == 422
    page = resp.get_data(as_text=True)
    assert "“现场照片.jpg”是可执行程序" in page and TEXT["progress"] in page  # the typed text is shown back
    assert _report(session, town) is None and session.scalar(select(Attachment)) is None


def test_delete_while_draft_only_by_the_uploader(client, auth, session, town):
    auth.login("town1")
    _save(client, town, [(files.photo(), "a.jpg"), (files.pdf(), "b.pdf")])
    report = _report(session, town)
    photo, pdf = evidence.for_owner(session, "report", report.id)
    auth.logout()
    auth.login("reviewer")
    assert client.post(f"/evidence/{photo.id}/delete").status_code == 403  # not the uploader, not the unit
    auth.logout()
    auth.login("town1")
    assert client.post(f"/evidence/{photo.id}/delete").status_code == 302
    assert [a.id for a in evidence.for_owner(session, "report", report.id)] == [pdf.id]
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "evidence.remove"))
    assert event.before["name"] == "a.jpg" and event.actor_name == "town1"
    # submitted: nothing can be deleted or added any more
    _save(client, town, [], action="submit", version=str(_report(session, town).version))
    assert _report(session, town).status == "submitted"
    assert client.post(f"/evidence/{pdf.id}/delete").status_code == 403
    resp = client.post(
        f"/evidence/report/{report.id}",
        data={"evidence": [(io.BytesIO(files.pdf("x")), "x.pdf")]},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 403
    assert len(evidence.for_owner(session, "report", report.id)) == 1


def test_the_reviewer_sees_the_attachments_beside_the_submitted_report(client, auth, session, town):
    auth.login("town1")
    _save(client, town, [(files.photo(), "宣讲现场.jpg")], action="submit")
    auth.logout()
    auth.login("reviewer")
    page = client.get(_url(town)).get_data(as_text=True)
    assert 'class="report-with-evidence"' in page and "宣讲现场.jpg" in page and "审核通过" in page
    assert "删除" not in page  # the reviewer deletes nothing
    assert get_user(session, "reviewer") is not None


def test_the_upload_route_adds_to_a_draft(client, auth, session, town):
    auth.login("town1")
    _save(client, town, [])
    report = _report(session, town)
    resp = client.post(
        f"/evidence/report/{report.id}",
        data={"evidence": [(io.BytesIO(files.docx()), "记录.docx"), (io.BytesIO(b""), "")]},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 302
    assert [a.kind for a in evidence.for_owner(session, "report", report.id)] == ["docx"]
    assert client.post("/evidence/upload/1").status_code == 404  # no such owner kind


def test_a_phone_photo_over_the_5_mb_form_limit_is_taken_and_over_20_mb_refused(client, auth, session, town):
    auth.login("town1")
    # 6 MB: over the 5 MB every other form takes, under the 20 MB of one attachment
    six = files.pdf() + b"0" * (6 * 1024 * 1024)
    assert _save_big(client, town, six, "扫描件.pdf").status_code == 302
    (att,) = evidence.for_owner(session, "report", _report(session, town).id)
    assert att.size == len(six)
    # 21 MB: the request is taken (under the 60 MB of a form with files), the file refused by name, nothing lost
    big = files.pdf() + b"0" * (21 * 1024 * 1024)
    resp = _save_big(client, town, big, "全年台账.pdf", version=str(_report(session, town).version))
    assert resp.status_code == 422 and "“全年台账.pdf”超过单个文件20MB的上限" in resp.get_data(as_text=True)
    assert len(evidence.for_owner(session, "report", _report(session, town).id)) == 1
    # other forms keep their 5 MB
    boundary, body = encode_multipart({"username": "x" * (6 * 1024 * 1024)})
    resp = client.post("/login", data=body, content_type=f"multipart/form-data; boundary={boundary}")
    assert resp.status_code == 413


def _save_big(client, town, data: bytes, name: str, **extra):
    # encoded in memory: the test client's own encoding spills large bodies to a temporary file it never closes
    fields = {**TEXT, "action": "save", **extra, "evidence": FileStorage(io.BytesIO(data), filename=name)}
    boundary, body = encode_multipart(fields)
    return client.post(_url(town), data=body, content_type=f"multipart/form-data; boundary={boundary}")
