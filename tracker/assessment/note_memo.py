"""The note 发布后数据有更新 of a published quarter, kept by each app between requests until a write may change it.

Writing the note means scoring the quarter live (`scoring.compute_with_summary`): on the meeting page, the briefing
preview and the assessment page that was most of their time. The note can only change when something the quarter's
scores or figures read is written, every such write records an audit event, and events are appended one
transaction at a time (`audit.service.hold_append_lock`), so the newest event tells whether anything was written.
Per database (engine), published quarter, plan and day, the app keeps the note and the newest event (id and hash)
it was checked against:

- the newest event is still that one: nothing was written, the kept note is the note (one statement);
- newer events exist, the kept one is still in the chain, and none of the newer ones may touch the quarter (the
  test `since.written_since` makes from the publication, made from the kept event): the note stands, now checked
  up to the newest event;
- otherwise (a write that may touch the quarter, a chain that no longer holds the kept event, a new day, another
  worker's first request) the note is written again from today's facts.

The newest event is read before the facts, so a note is never kept as checked against an event newer than the facts
it was written from: a write that lands in between has a newer event and is looked at on the next request.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from .. import clock
from ..audit.models import AuditEvent
from ..periods import Period
from .models import Publication
from .since import relevant_after, written_since

KEPT_PER_DATABASE = 32  # notes kept per database: quarters × plans × days; more are dropped, oldest first


@dataclass(frozen=True)
class _Kept:
    event_id: int
    event_hash: str
    note: tuple


_memos: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # engine -> {key: _Kept}
_lock = threading.Lock()


def note_of_changes(
    session: Session, pub: Publication, period: Period, plan_id: int, write: Callable[[], list]
) -> list:
    """The published quarter's note of changes: kept while no write may have changed it, otherwise `write()` (the
    note from today's facts, called only when something was written since the publication that may touch the
    quarter)."""
    head = session.execute(_newest_event()).first()
    if head is None:  # no chain at all: nothing can be said to be unchanged
        return write()
    memo = _memo_of(session)
    key = (period.code, pub.id, plan_id, clock.today())
    kept = memo.get(key)
    if kept is not None and _still_holds(session, kept, head, period):
        if kept.event_id != head.id:
            _keep(memo, key, _Kept(head.id, head.hash, kept.note))
        return list(kept.note)
    note = write() if written_since(session, pub, period) else []
    _keep(memo, key, _Kept(head.id, head.hash, tuple(note)))
    return note


def _still_holds(session: Session, kept: _Kept, head, period: Period) -> bool:
    """Whether nothing written since the kept event may touch the quarter (the kept event still in the chain)."""
    if (kept.event_id, kept.event_hash) == (head.id, head.hash):
        return True
    if head.id < kept.event_id or session.scalar(_event_hash(), {"id": kept.event_id}) != kept.event_hash:
        return False
    return not relevant_after(session, kept.event_id, period)


def _memo_of(session: Session) -> dict:
    engine = session.get_bind()
    with _lock:
        return _memos.setdefault(engine, {})


def _keep(memo: dict, key: tuple, kept: _Kept) -> None:
    with _lock:
        memo.pop(key, None)
        memo[key] = kept
        while len(memo) > KEPT_PER_DATABASE:
            memo.pop(next(iter(memo)))


@cache
def _newest_event():
    return select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)


@cache
def _event_hash():
    return select(AuditEvent.hash).where(AuditEvent.id == bindparam("id"))
