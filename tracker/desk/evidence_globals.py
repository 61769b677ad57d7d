"""The attachment macros' template globals (the desk's template globals, `template_globals`), apart from the
attachment pages (`desk/evidence.py`): a template, a printed report's included, gets them without importing the pages
and the forms' libraries they bring (Flask-WTF, WTForms). Only a page that shows attachments calls them, and the
pages are assembled by then."""

from __future__ import annotations

from flask_login import current_user

from .. import db
from ..evidence import service as evidence
from ..evidence.models import Attachment
from ..policy import can


def filesize(n: int) -> str:
    """1536 -> 1.5KB; 2097152 -> 2.0MB."""
    if n < 1024:
        return f"{n}B"
    if n < 1024 * 1024:
        return f"{n / 1024:.1f}KB"
    return f"{n / 1024 / 1024:.1f}MB"


def template_helpers() -> dict:
    """What the attachment macros ask: the attachments of an object and whether the reader may delete one."""

    def attachments(owner_kind: str, owner_id: int | None) -> list[Attachment]:
        return evidence.for_owner(db.session, owner_kind, owner_id)

    def may_change_evidence(owner_kind: str, parent) -> bool:
        from .evidence import PARENTS  # the pages' own rules, imported with the pages

        kind = PARENTS.get(owner_kind)
        return bool(kind and parent is not None and kind.add(current_user, parent))

    def may_delete_evidence(owner_kind: str, parent, att: Attachment) -> bool:
        return may_change_evidence(owner_kind, parent) and can(current_user, "evidence.remove", att)

    return {
        "attachments": attachments,
        "may_delete_evidence": may_delete_evidence,
        "filesize": filesize,
        "may_change_evidence": may_change_evidence,
        "EVIDENCE_ACCEPT": evidence.ACCEPT,
        "EVIDENCE_LIMITS": {
            "file_mb": evidence.MAX_FILE_BYTES // 1024 // 1024,
            "count": evidence.MAX_PER_OWNER,
            "total_mb": evidence.MAX_OWNER_BYTES // 1024 // 1024,
        },
    }
