"""佐证材料 in the service: what is accepted by content, hostile files, image cleaning, limits, dedup, removal."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageFile
from sqlalchemy import select

from tracker.audit.models import AuditEvent
from tracker.errors import PermissionDenied, ValidationError
from tracker.evidence import service as evidence
from tracker.evidence.blobs import digest, store_for
from tracker.evidence.models import Attachment

from . import evidence_files as files
from .conftest import get_user


@pytest.fixture
def officer(seeded, session):
    return get_user(session, "town1")


def _store(session, actor, data, name, owner_id=1, kind="report"):
    att = evidence.store(session, actor, kind, owner_id, files.upload(data, name))
    session.commit()
    return att


def _blob(app, sha) -> bytes:
    return store_for(app).path(sha).read_bytes()


def test_types_are_decided_by_content_not_by_name(app, session, officer):
    # a PDF named .jpg is a PDF; a PNG named .docx is a PNG; real Word and Excel files are what they are
    assert _store(session, officer, files.pdf(), "照片.jpg").kind == "pdf"
    p = _store(session, officer, files.png(), "说明.docx")
    assert (p.kind, p.width, p.height, p.download_name) == ("png", 30, 20, "说明.png")
    assert _store(session, officer, files.docx(), "记录.docx").kind == "docx"
    assert _store(session, officer, files.xlsx(), "台账.xlsx").kind == "xlsx"
    assert [a.kind for a in evidence.for_owner(session, "report", 1)] == ["pdf", "png", "docx", "xlsx"]


@pytest.mark.parametrize(
    ("data", "name", "words"),
    [
        (files.EXE, "现场照片.jpg", "可执行程序"),
        (files.xlsm_as_xlsx(), "统计.xlsx", "含有宏"),
        (b"just some text", "说明.pdf", "内容不是可接受的类型"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, "旧表.xls", "旧版Office"),
        (b"PK\x03\x04" + b"\x00" * 40, "压缩.docx", "已损坏"),
        (b"", "空.pdf", "空文件"),
        (files.many_entries_docx(), "记录.docx", "内部文件过多"),
        (files.understated_content_types(), "伪装.docx", "已损坏"),
    ],
)
def test_hostile_and_unknown_files_are_refused_and_nothing_is_kept(app, session, officer, data, name, words):
    with pytest.raises(ValidationError, match=words) as e:
        evidence.store(session, officer, "report", 1, files.upload(data, name))
    assert name in str(e.value)  # the message names the file
    session.rollback()
    assert session.scalar(select(Attachment)) is None
    assert store_for(app).shas() == []


def test_a_zip_bomb_in_the_content_types_is_not_inflated(app, session, officer):
    from .test_uploads import _measured

    bomb = files.understated_content_types()
    assert len(bomb) < 100 * 1024  # 50 MB of spaces packed into some 50 KB

    def call():
        with pytest.raises(ValidationError, match="已损坏"):
            evidence.store(session, officer, "report", 1, files.upload(bomb, "x.docx"))

    _none, grew = _measured(call)
    # the part would inflate to 50 MB; only the 1 KB its header declares is ever unpacked
    assert grew < 10 * 1024 * 1024, f"{grew / 2**20:.0f} MiB"


def test_a_pdf_with_javascript_is_stored_as_a_pdf(app, session, officer):
    att = _store(session, officer, files.PDF_WITH_JS, "通知.pdf")
    assert att.kind == "pdf" and att.content_type == "application/pdf"
    assert _blob(app, att.sha256) == files.PDF_WITH_JS  # kept as uploaded: it is never rendered, only downloaded


def test_an_image_bomb_is_refused_from_its_header_without_decoding(app, session, officer, monkeypatch):
    decoded = []
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda self: decoded.append(self.size))
    bomb = files.png_bomb(30_000, 30_000)
    assert len(bomb) < 200  # a few bytes that claim 900 million pixels
    with pytest.raises(ValidationError, match="“bomb.png”的尺寸超过上限"):
        evidence.store(session, officer, "report", 1, files.upload(bomb, "bomb.png"))
    # 10,000 × 10,000 = 100 million pixels: under Pillow's own refusal, over the 64 million the product takes
    with pytest.raises(ValidationError, match="10000×10000像素,超过上限"):
        evidence.store(session, officer, "report", 1, files.upload(files.png_bomb(10_000, 10_000), "big.png"))
    assert decoded == []  # both refused before Pillow decoded a single row
    session.rollback()
    assert store_for(app).shas() == []


def test_exif_and_gps_are_stripped_and_orientation_applied(app, session, officer):
    raw = files.photo(60, 40, orientation=6)
    assert Image.open(io.BytesIO(raw)).getexif().get_ifd(0x8825)  # the upload carries a GPS position
    att = _store(session, officer, raw, "现场.jpg")
    stored = Image.open(io.BytesIO(_blob(app, att.sha256)))
    # orientation 6 turns the 60×40 pixels a quarter: upright the photo is 40 wide and 60 high
    assert stored.size == (40, 60) and (att.width, att.height) == (40, 60)
    exif = stored.getexif()
    assert len(exif) == 0 and exif.get_ifd(0x8825) == {}  # no EXIF at all: no GPS, no make, no orientation
    assert b"PhoneMaker" not in _blob(app, att.sha256) and b"Exif" not in _blob(app, att.sha256)
    thumb = Image.open(io.BytesIO(_blob(app, att.thumb_sha256)))
    assert thumb.format == "JPEG" and thumb.size == (40, 60)  # smaller than 320 already: kept at its size
    assert att.size == len(_blob(app, att.sha256)) and att.sha256 == digest(_blob(app, att.sha256))


def test_a_large_photo_gets_a_320_pixel_thumbnail(app, session, officer):
    att = _store(session, officer, files.photo(1600, 1200, orientation=None), "大图.jpg")
    # 1600×1200 scaled to fit 320×320: 320×240
    assert Image.open(io.BytesIO(_blob(app, att.thumb_sha256))).size == (320, 240)


def test_a_48_megapixel_photo_is_stored_at_3000_pixels_in_bounded_memory(app, session, officer):
    from .test_uploads import _measured

    raw = files.photo(8000, 6000, orientation=6)  # a phone's full-resolution mode, stored turned

    def call():
        return _store(session, officer, raw, "全像素.jpg")

    att, grew = _measured(call)
    # 8000×6000 fits 3000×2250 (÷ 2.667); upright (orientation 6) that is 2250 wide and 3000 high
    assert (att.width, att.height) == (2250, 3000)
    assert Image.open(io.BytesIO(_blob(app, att.sha256))).size == (2250, 3000)
    # decoded at half scale (4000×3000 RGB, 34 MiB) instead of 137 MiB in full; 735 MiB before the bound
    assert grew < 200 * 1024 * 1024, f"{grew / 2**20:.0f} MiB"


def test_a_heic_photo_is_stored_as_jpeg(app, session, officer):
    att = _store(session, officer, files.heic(48, 32), "IMG_0001.HEIC")
    assert (att.kind, att.width, att.height, att.download_name) == ("jpeg", 48, 32, "IMG_0001.jpg")
    assert Image.open(io.BytesIO(_blob(app, att.sha256))).format == "JPEG"


def test_oversize_file_is_refused(app, session, officer):
    big = files.pdf() + b"0" * (20 * 1024 * 1024)  # one byte per 0 past the 20 MB limit
    with pytest.raises(ValidationError, match="超过单个文件20MB的上限"):
        evidence.store(session, officer, "report", 1, files.upload(big, "大文件.pdf"))


def test_at_most_twenty_files_per_object(app, session, officer):
    for i in range(20):
        _store(session, officer, files.pdf(str(i)), f"材料{i}.pdf")
    with pytest.raises(ValidationError, match="每项最多上传20个佐证材料,“材料20.pdf”未上传"):
        evidence.store(session, officer, "report", 1, files.upload(files.pdf("20"), "材料20.pdf"))
    session.rollback()
    _store(session, officer, files.pdf("20"), "材料20.pdf", owner_id=2)  # another object has its own 20


def test_total_bytes_per_object(app, session, officer, monkeypatch):
    monkeypatch.setattr(evidence, "MAX_OWNER_BYTES", 100)
    _store(session, officer, files.pdf("a" * 60), "一.pdf")  # 79 bytes
    with pytest.raises(ValidationError, match="合计不能超过"):
        evidence.store(session, officer, "report", 1, files.upload(files.pdf("b" * 10), "二.pdf"))  # 79 + 29 > 100


def test_the_same_file_twice_is_stored_once(app, session, officer):
    raw = files.photo()
    a = _store(session, officer, raw, "a.jpg", owner_id=1)
    b = _store(session, officer, raw, "b.jpg", owner_id=2)
    assert a.sha256 == b.sha256 and a.id != b.id
    # two rows, one photo file and one thumbnail on disk
    assert store_for(app).shas() == sorted({a.sha256, a.thumb_sha256})
    with pytest.raises(ValidationError, match="内容相同"):
        evidence.store(session, officer, "report", 1, files.upload(raw, "again.jpg"))


def test_names_are_cleaned(app, session, officer):
    att = _store(session, officer, files.pdf(), "..\\..\\etc/通知\x07.pdf")
    assert att.name == "通知.pdf"


def test_every_write_is_audited_and_only_the_uploader_removes(app, session, officer):
    att = _store(session, officer, files.pdf(), "通知.pdf")
    other = get_user(session, "town2")
    with pytest.raises(PermissionDenied):
        evidence.remove(session, other, att)
    evidence.remove(session, officer, att)
    session.commit()
    assert evidence.for_owner(session, "report", 1) == []
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.object_type == "Attachment").order_by(AuditEvent.id)
    ).all()
    assert [e.action for e in events] == ["evidence.add", "evidence.remove"]
    assert events[1].before["sha256"] == digest(files.pdf()) and events[1].actor_name == "town1"
    assert [e.summary for e in events] == [
        "进展报告#1 上传佐证材料“通知.pdf”(PDF,19字节)",
        "进展报告#1 删除佐证材料“通知.pdf”",
    ]
    assert store_for(app).has(digest(files.pdf()))  # the file stays, named by the audit event


def test_the_database_refuses_what_the_service_would(app, session, officer):
    from sqlalchemy.exc import IntegrityError

    session.add(
        Attachment(owner_kind="upload", owner_id=1, sha256="0" * 64, name="x", size=1, kind="pdf", uploaded_by_id=1)
    )
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()
    session.add(  # an image without its size and thumbnail
        Attachment(owner_kind="report", owner_id=1, sha256="0" * 64, name="x", size=1, kind="jpeg", uploaded_by_id=1)
    )
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()


def test_the_store_folder_comes_from_the_configuration(app, session, officer, tmp_path):
    app.config["EVIDENCE_DIR"] = str(tmp_path / "shared-evidence")  # TRACKER_EVIDENCE_DIR
    att = _store(session, officer, files.pdf(), "通知.pdf")
    assert (tmp_path / "shared-evidence" / att.sha256[:2] / att.sha256).read_bytes() == files.pdf()
