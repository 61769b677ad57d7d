"""Recording audit events and verifying the chain.

Each event stores HMAC-SHA256(key, its content + its predecessor's MAC). The key lives outside the database
(instance/audit_key or TRACKER_AUDIT_KEY), so someone who can only write to the database cannot recompute the chain
after editing or deleting an event. The newest events, which nothing later links to, are protected by anchors: the
head of the chain written outside the database (see anchors.py) whenever the chain is verified, backed up or a
briefing is archived.

A database from before keyed chaining keeps its plain SHA-256 chain; the first write after the upgrade appends an
`audit.chain_keyed` event ("chain keyed from #N") whose MAC covers the old chain's last hash, so the old part can no
longer be rewritten either (it was only ever as good as the plain chain before that moment).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import UTC

from sqlalchemy import JSON, Text, cast, func, literal, select, text
from sqlalchemy.orm import Session

from .. import clock
from . import anchors as anchor_file
from .models import AuditEvent

GENESIS = "0" * 64
MARKER = "audit.chain_keyed"

_default_key: str | None = None


def set_default_key(key: str) -> None:
    """The key for sessions that do not carry one in session.info (scripts, worker processes)."""
    global _default_key
    _default_key = key


def _key(session: Session) -> bytes:
    key = session.info.get("audit_key") or _default_key or os.environ.get("TRACKER_AUDIT_KEY")
    if not key:
        raise RuntimeError("no audit key: set TRACKER_AUDIT_KEY or create the app (instance/audit_key)")
    return str(key).encode()


_SCALARS = frozenset((str, int, bool, type(None)))


class PlainValues(dict):
    """A flat dict that its maker builds only of text keys and text, whole-number, true/false or null values (a
    month's figures: thousands of them), and leaves as it is once recorded: recorded as it is, neither checked nor
    copied."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class Encoded:
    """PlainValues encoded ahead of their event (`encoded`), by a thread other than the one that records it, say:
    their text in the event's MAC (keys sorted, compact) and as the JSON column stores them (json.dumps, as the
    column's type would). Recording them does no JSON work of them; the event is the same, to the byte."""

    values: dict
    canonical: str
    stored: str


def encoded(values: PlainValues) -> Encoded:
    return Encoded(values, json.dumps(values, **_CANONICAL), json.dumps(values))


_CANONICAL = {"sort_keys": True, "ensure_ascii": False, "separators": (",", ":")}


def _plain(value):
    """Make a value JSON-native so the stored form and the hashed form are the same. A flat dict of text keys and
    text, whole-number, true/false or null values already is: it is copied, not serialised and parsed back."""
    if value is None:
        return None
    if type(value) is PlainValues or type(value) is Encoded:
        return value
    if type(value) is dict and all(type(k) is str for k in value) and all(type(v) in _SCALARS for v in value.values()):
        return dict(value)
    return json.loads(json.dumps(value, ensure_ascii=False, default=str))


def _payload(e: AuditEvent) -> bytes:
    fields = _fields(e)
    if type(e.before) is Encoded or type(e.after) is Encoded:
        return _spliced(fields)
    return json.dumps(fields, **_CANONICAL).encode()


def _fields(e: AuditEvent) -> dict:
    """What an event's MAC covers."""
    return {
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


def _spliced(fields: dict) -> bytes:
    """_payload's text, with the text of Encoded values put in as it is: the same bytes (the fields in the order
    sort_keys gives them, each value as json.dumps writes it inside the payload)."""
    parts = (
        f"{json.dumps(k)}:{v.canonical if type(v) is Encoded else json.dumps(v, **_CANONICAL)}"
        for k, v in sorted(fields.items())
    )
    return ("{" + ",".join(parts) + "}").encode()


def plain_digest(e: AuditEvent) -> str:
    """The unkeyed SHA-256 of events written before keyed chaining."""
    return hashlib.sha256(_payload(e)).hexdigest()


def keyed_digest(e: AuditEvent, key: bytes) -> str:
    return hmac.new(key, _payload(e), hashlib.sha256).hexdigest()


def _append(session: Session, key: bytes, prev: str, **values) -> AuditEvent:
    event = AuditEvent(at=clock.now().astimezone(UTC), prev_hash=prev, **values)
    event.hash = keyed_digest(event, key)
    for name in ("before", "after"):
        value = getattr(event, name)
        if type(value) is Encoded:
            setattr(event, name, _stored(session, value))
    session.add(event)
    session.flush()
    return event


def _stored(session: Session, value: Encoded):
    """What the column is given for Encoded values: on PostgreSQL their stored text, cast to the column's JSON type
    by the server (the same text the column's type would send); elsewhere the values, encoded as any."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(literal(value.stored, Text()), JSON)
    return value.values


def _seal(session: Session, key: bytes, last) -> AuditEvent:
    """Start the keyed chain: the marker's MAC covers the plain chain's last hash ("chain keyed from #N")."""
    count = session.scalar(select(func.count()).select_from(AuditEvent)) or 0
    last_id, last_hash = (last.id, last.hash) if last else (None, GENESIS)
    return _append(
        session,
        key,
        last_hash,
        actor_id=None,
        actor_name="system",
        action=MARKER,
        object_type="AuditEvent",
        object_id=last_id,
        summary=(
            f"审计链自本条起以密钥(HMAC-SHA256)封存;此前 {count} 条为未加密钥的 SHA-256 链"
            + (f",其末条 #{last_id} 由本条锁定" if last_id else "")
        )[:500],
        before=None,
        after={"legacy_events": count, "legacy_head_id": last_id, "legacy_head": last_hash},
    )


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
    """Append an event in the caller's transaction, chained to the previous one by a keyed MAC."""
    key = _key(session)
    if obj is not None:
        session.flush()  # the object needs its id
        object_type = object_type or type(obj).__name__
        object_id = object_id if object_id is not None else getattr(obj, "id", None)
        if after is None and hasattr(obj, "snapshot"):
            after = obj.snapshot()
    tail = _own_tail(session)
    if tail is not None:
        # this transaction appended the newest event and still holds the lock: chain to it without asking again
        prev = tail.hash
    else:
        hold_append_lock(session)
        last = session.execute(select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)).first()
        prev = last.hash if last else GENESIS
        if session.scalar(select(AuditEvent.id).where(AuditEvent.action == MARKER).limit(1)) is None:
            prev = _seal(session, key, last).hash
    event = _append(
        session,
        key,
        prev,
        actor_id=getattr(actor, "id", None),
        actor_name=getattr(actor, "username", None) or "system",
        action=action,
        object_type=object_type or "",
        object_id=object_id,
        summary=summary[:500],
        before=_plain(before),
        after=_plain(after),
    )
    session.info[_TAIL] = (session.get_transaction(), event)
    return event


_TAIL = "audit_tail"


def hold_append_lock(session: Session) -> None:
    """Take the chain's append lock for the rest of the transaction: no other transaction appends an event
    meanwhile (PostgreSQL: an advisory lock, taken again by the same transaction at no cost; SQLite: a writing
    transaction already holds the database's write lock from its BEGIN IMMEDIATE). Serialises appends so two
    transactions never chain to the same predecessor; taken before reading, it also means that every event before
    the transaction's own belongs to a write the reads see (publishing relies on it)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(7301)"))


def _own_tail(session: Session) -> AuditEvent | None:
    """The event this session's current transaction appended last, while it is the chain's newest: the transaction
    holds the append lock (PostgreSQL's advisory lock, SQLite's write lock) from its first append to its end, so
    no other event can follow it meanwhile. None in a new transaction, or when a rolled-back savepoint took the
    event away (SQLAlchemy then expunges it): the chain's head is read again."""
    kept = session.info.get(_TAIL)
    if kept is None:
        return None
    transaction, event = kept
    if transaction is not session.get_transaction() or event not in session or event.id is None:
        session.info.pop(_TAIL, None)
        return None
    return event


@dataclass(frozen=True)
class ChainProblem:
    event_id: int
    problem: str


@dataclass(frozen=True)
class Head:
    """The newest event: its id (the sequence number), its MAC, and how many events there are up to it."""

    seq: int
    mac: str
    events: int

    def as_dict(self) -> dict:
        return {"seq": self.seq, "mac": self.mac, "events": self.events}


@dataclass
class ChainReport:
    events: int = 0
    head: Head | None = None
    keyed_from: int | None = None
    anchors_checked: int = 0
    problems: list[ChainProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict:
        return {
            "ok": self.ok,
            "events": self.events,
            "head": self.head.as_dict() if self.head else None,
            "keyed_from": self.keyed_from,
            "anchors_checked": self.anchors_checked,
            "problems": [{"event_id": p.event_id, "problem": p.problem} for p in self.problems],
        }


def head(session: Session) -> Head | None:
    """The chain's head as this session sees it (flushed events included)."""
    last = session.execute(select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)).first()
    if last is None:
        return None
    count = session.scalar(select(func.count()).select_from(AuditEvent)) or 0
    return Head(last.id, last.hash, count)


def check(session: Session, anchors=None) -> ChainReport:
    """Walk the chain in id order and compare it with the anchors kept outside the database.

    Before the first `audit.chain_keyed` event links are plain SHA-256; from it on every MAC must verify with the
    key. `anchors` defaults to those recorded for this database (session.info); each must still be found: the
    anchored event with the same MAC and as many events up to it."""
    key = _key(session)
    report = ChainReport()
    prev = GENESIS
    ids: list[int] = []
    macs: dict[int, str] = {}
    for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id)):
        if e.action == MARKER and report.keyed_from is None:
            report.keyed_from = e.id
        elif e.action == MARKER:
            report.problems.append(ChainProblem(e.id, "审计链被再次封存(此前的密钥链记录可能已被删除或改写)"))
        if e.prev_hash != prev:
            report.problems.append(ChainProblem(e.id, "前序哈希不连续(记录被删除、插入或调换顺序)"))
        expected = keyed_digest(e, key) if report.keyed_from is not None else plain_digest(e)
        if not hmac.compare_digest(expected, e.hash):
            report.problems.append(ChainProblem(e.id, "内容与校验码不符(记录被修改,或未用本系统密钥重算)"))
        prev = e.hash
        ids.append(e.id)
        macs[e.id] = e.hash
    report.events = len(ids)
    if ids:
        report.head = Head(ids[-1], macs[ids[-1]], len(ids))
    if anchors is None:
        anchors = anchor_file.for_session(session)
    report.anchors_checked = len(anchors)
    # the newest anchor that no longer matches tells what is missing or rewritten
    for a in reversed(anchors):
        problem = _anchor_problem(a, ids, macs)
        if problem:
            report.problems.append(ChainProblem(a.seq, problem))
            break
    return report


def _anchor_problem(a, ids: list[int], macs: dict[int, str]) -> str | None:
    present = bisect_right(ids, a.seq)  # events with id <= the anchored one
    missing = a.events - present
    where = f"({a.source} 于 {a.at} 锚定 #{a.seq},共 {a.events} 条)"
    if a.seq not in macs:
        if not ids or a.seq > ids[-1]:
            return f"最近 {max(missing, 1)} 条审计记录缺失{where}"
        return f"锚定的审计记录 #{a.seq} 缺失,其前共缺 {max(missing, 1)} 条{where}"
    if not hmac.compare_digest(macs[a.seq], a.mac):
        return f"审计记录 #{a.seq} 的校验码与锚点不符(链被改写后重算){where}"
    if missing > 0:
        return f"锚点之前有 {missing} 条审计记录缺失{where}"
    if missing < 0:
        return f"锚点之前多出 {-missing} 条审计记录(被插入){where}"
    return None


def verify(session: Session) -> list[ChainProblem]:
    """Every event whose link, content or anchor does not check out."""
    return check(session).problems
