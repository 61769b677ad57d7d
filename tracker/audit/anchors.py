"""Anchors: the audit chain's head written outside the database, one JSON line per anchor, appended only.

`audit verify` (when the chain checks out), every backup and every archived briefing append the head (sequence
number, MAC, events up to it) to instance/audit_anchors. Deleting the newest events leaves no broken link in the
database, but the anchor still names an event that is gone. A restore appends a `restore` line: anchors before it
described the history the restore replaced and are no longer compared.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.orm import Session

FILE_NAME = "audit_anchors"


@dataclass(frozen=True)
class Anchor:
    at: str
    source: str
    db: str
    seq: int
    mac: str
    events: int


def write(path: str | Path, db: str, source: str, head) -> None:
    """Append one anchor line (a single write to a file opened for appending, 0600)."""
    if head is None:
        return
    line = json.dumps(
        {
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "source": source,
            "db": db,
            "seq": head.seq,
            "mac": head.mac,
            "events": head.events,
        },
        ensure_ascii=False,
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.write(fd, (line + "\n").encode())
    finally:
        os.close(fd)


def read(path: str | Path | None, db: str) -> list[Anchor]:
    """This database's anchors since its last restore, oldest first; unreadable lines are skipped."""
    if not path or not Path(path).is_file():
        return []
    anchors: list[Anchor] = []
    for line in Path(path).read_text(errors="replace").splitlines():
        try:
            d = json.loads(line)
            if d.get("db") != db:
                continue
            a = Anchor(str(d["at"]), str(d["source"]), db, int(d["seq"]), str(d["mac"]), int(d["events"]))
        except (ValueError, KeyError, TypeError, AttributeError):
            continue
        if a.source == "restore":
            anchors = []
        anchors.append(a)
    return anchors


def for_session(session: Session) -> list[Anchor]:
    return read(session.info.get("audit_anchors"), session.info.get("audit_db", ""))


def record_now(session: Session, source: str, head) -> None:
    """Anchor `head`, the chain's head as committed now (read it outside a write transaction)."""
    path = session.info.get("audit_anchors")
    if path:
        write(path, session.info.get("audit_db", ""), source, head)


def record_on_commit(session: Session, source: str, head) -> None:
    """Anchor `head` once the session's transaction commits (never for a rolled-back one)."""
    if session.info.get("audit_anchors") and head is not None:
        session.info.setdefault("audit_pending_anchors", []).append((source, head))


@event.listens_for(Session, "after_commit")
def _write_pending(session: Session) -> None:
    pending = session.info.pop("audit_pending_anchors", None)
    for source, head in pending or ():
        write(session.info["audit_anchors"], session.info.get("audit_db", ""), source, head)


@event.listens_for(Session, "after_rollback")
def _drop_pending(session: Session) -> None:
    session.info.pop("audit_pending_anchors", None)
