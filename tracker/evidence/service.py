"""Attaching files to objects, listing and removing them. Who may do so is decided by the caller from the parent
object (the desk's routes, the areas' views); this service checks the file, its limits and the uploader's rule."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import clock, policy
from ..audit.service import record
from ..errors import NotFound, ValidationError, on_unique_violation
from .blobs import BlobStore, store_for
from .models import IMAGE_KINDS, OWNER_LABELS, Attachment, FileKind, OwnerKind
from .sniff import HEIC, sniff

MAX_FILE_BYTES = 20 * 1024 * 1024  # one file
MAX_PER_OWNER = 20  # files on one object
MAX_OWNER_BYTES = 100 * 1024 * 1024  # all files of one object together
MAX_NAME = 200
ACCEPT = "image/*,.pdf,.docx,.xlsx"  # the upload input's accept list (the content decides, not this)

on_unique_violation(
    "uq_attachments_owner_kind_owner_id_sha256", lambda row: ValidationError("同一文件已作为佐证材料上传过")
)


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:.0f}MB"


def clean_name(raw: str | None) -> str:
    """The uploaded file's own name: no folders, no control characters, at most MAX_NAME characters."""
    name = re.split(r"[\\/]", raw or "")[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip().strip(".")
    if len(name) > MAX_NAME:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: MAX_NAME - len(ext) - 1] + dot + ext) if dot and len(ext) <= 10 else name[:MAX_NAME]
    return name or "未命名文件"


def chosen(files: Iterable) -> list:
    """The file inputs that carry a file (an input left empty sends a part without a name)."""
    return [f for f in files if f is not None and getattr(f, "filename", "")]


def for_owner(session: Session, owner_kind: str, owner_id: int | None) -> list[Attachment]:
    if owner_id is None:
        return []
    return list(
        session.scalars(
            select(Attachment)
            .where(Attachment.owner_kind == owner_kind, Attachment.owner_id == owner_id)
            .order_by(Attachment.id)
        )
    )


def counts(session: Session, owner_kind: str, owner_ids: Iterable[int]) -> dict[int, int]:
    """owner id -> number of attachments, for the ids given (absent: none)."""
    ids = list(set(owner_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(Attachment.owner_id, func.count())
        .where(Attachment.owner_kind == owner_kind, Attachment.owner_id.in_(ids))
        .group_by(Attachment.owner_id)
    )
    return {owner_id: n for owner_id, n in rows}


def get(session: Session, attachment_id: int) -> Attachment:
    att = session.get(Attachment, attachment_id)
    if att is None:
        raise NotFound("佐证材料不存在")
    return att


def store(session: Session, actor, owner_kind: str, owner_id: int, file, blobs: BlobStore | None = None) -> Attachment:
    """Check one uploaded file (a werkzeug FileStorage or anything with `filename` and `read`), keep it and record
    it on the owner. Raises ValidationError with a Chinese message naming the file when it is refused."""
    if owner_kind not in {k.value for k in OwnerKind} or not owner_id:
        raise ValidationError("佐证材料所属对象无效")
    blobs = blobs or store_for(current_app)
    name = clean_name(getattr(file, "filename", None))
    data = file.read(MAX_FILE_BYTES + 1)
    if not data:
        raise ValidationError(f"“{name}”是空文件")
    if len(data) > MAX_FILE_BYTES:
        raise ValidationError(f"“{name}”超过单个文件{_mb(MAX_FILE_BYTES)}的上限")
    existing = for_owner(session, owner_kind, owner_id)
    if len(existing) >= MAX_PER_OWNER:
        raise ValidationError(f"每项最多上传{MAX_PER_OWNER}个佐证材料,“{name}”未上传;请先删除不需要的材料")
    kind = sniff(name, data)
    width = height = thumb_sha = None
    if kind in (*IMAGE_KINDS, HEIC):
        from . import images  # Pillow and its HEIC opener load with the first image, not at start-up

        image = images.clean(name, data, kind)
        data, kind, width, height = image.data, image.kind, image.width, image.height
        thumb_sha = blobs.put(image.thumbnail)
    if sum(a.size for a in existing) + len(data) > MAX_OWNER_BYTES:
        raise ValidationError(f"每项佐证材料合计不能超过{_mb(MAX_OWNER_BYTES)},“{name}”未上传")
    sha = blobs.put(data)
    if any(a.sha256 == sha for a in existing):
        raise ValidationError(f"“{name}”与已上传的佐证材料内容相同,无需重复上传")
    att = Attachment(
        owner_kind=owner_kind,
        owner_id=owner_id,
        sha256=sha,
        name=name,
        size=len(data),
        kind=str(FileKind(kind)),
        width=width,
        height=height,
        thumb_sha256=thumb_sha,
        uploaded_by_id=actor.id,
        created_at=clock.now(),
    )
    session.add(att)
    session.flush()
    owner = f"{OWNER_LABELS[OwnerKind(owner_kind)]}#{owner_id}"
    record(
        session, actor, "evidence.add", att, summary=f"{owner} 上传佐证材料“{name}”({att.kind_label},{att.size}字节)"
    )
    return att


def store_all(session: Session, actor, owner_kind: str, owner_id: int, files: Iterable) -> list[Attachment]:
    """Store every chosen file; the first refusal refuses them all (the caller's transaction rolls back)."""
    return [store(session, actor, owner_kind, owner_id, f) for f in chosen(files)]


def remove(session: Session, actor, attachment: Attachment) -> None:
    """Delete the attachment's row (the uploader only; whether the parent still allows it is the caller's check).
    The file stays in the store, named by the audit event."""
    policy.require(actor, "evidence.remove", attachment)
    before = attachment.snapshot()
    record(
        session,
        actor,
        "evidence.remove",
        object_type="Attachment",
        object_id=attachment.id,
        before=before,
        after=None,
        summary=(
            f"{OWNER_LABELS[OwnerKind(attachment.owner_kind)]}#{attachment.owner_id} 删除佐证材料“{attachment.name}”"
        ),
    )
    session.delete(attachment)
    session.flush()


MAX_REQUEST_BYTES = 60 * 1024 * 1024  # one form's body with its files (several photos at once)
