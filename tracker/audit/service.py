"""Recording audit events and verifying the hash chain."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from .. import clock
from .models import AuditEvent

GENESIS = "0" * 64


def _plain(value):
    """Make a value JSON-native so the stored form and the hashed form are the same."""
    return json.loads(json.dumps(value, ensure_ascii=False, default=str)) if value is not None else None


def _digest(e: AuditEvent) -> str:
    payload = {
        "at": e.at.isoformat(timespec="microseconds"),
        "actor_id": e.actor_id,
        "actor_name": e.actor_name,
        "action": e.action,
        "object_type": e.object_type,
        "object_id": e.object_id,
        "summary": e.summary,
        "before": e.before,
        "after": e.after,
        "prev_hash": e.prev_hash,
    }
    raw = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(raw.encode()).hexdigest()


def record(
    session: Session,
    actor,
    action: str,
    obj=None,
    before: dict | None = None,
    after: dict | None = None,
    summary: str = "",
    object_type: str | None = None,
    object_id: int | None = None,
) -> AuditEvent:
    """Append an event in the caller's transaction, chained to the previous one."""
    if obj is not None:
        session.flush()  # the object needs its id
        object_type = object_type or type(obj).__name__
        object_id = object_id if object_id is not None else getattr(obj, "id", None)
        if after is None and hasattr(obj, "snapshot"):
            after = obj.snapshot()
    if session.get_bind().dialect.name == "postgresql":
        # Serialise appends so two transactions never chain to the same predecessor.
        session.execute(text("SELECT pg_advisory_xact_lock(7301)"))
    prev = session.scalar(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)) or GENESIS
    event = AuditEvent(
        at=clock.now().astimezone(UTC),
        actor_id=getattr(actor, "id", None),
        actor_name=getattr(actor, "username", None) or "system",
        action=action,
        object_type=object_type or "",
        object_id=object_id,
        summary=summary[:500],
        before=_plain(before),
        after=_plain(after),
        prev_hash=prev,
    )
    event.hash = _digest(event)
    session.add(event)
    session.flush()
    return event


@dataclass(frozen=True)
class ChainProblem:
    event_id: int
    problem: str


def verify(session: Session) -> list[ChainProblem]:
    """Walk the chain in id order; report every event whose link or content does not check out."""
    problems: list[ChainProblem] = []
    prev = GENESIS
    for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id)):
        if e.prev_hash != prev:
            problems.append(ChainProblem(e.id, "前序哈希不连续(记录被删除、插入或调换顺序)"))
        if _digest(e) != e.hash:
            problems.append(ChainProblem(e.id, "内容与哈希不符(记录被修改)"))
        prev = e.hash
    return problems
