"""The audit trail records every write and detects tampering."""

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select, text, update

from tracker import create_app
from tracker.audit.models import AuditEvent
from tracker.audit.service import GENESIS, keyed_digest, plain_digest, record, verify
from tracker.progress import service as progress

from .conftest import TEST_AUDIT_KEY, get_unit, get_user

COLUMNS = [
    "at",
    "actor_id",
    "actor_name",
    "action",
    "object_type",
    "object_id",
    "summary",
    "before",
    "after",
    "prev_hash",
    "hash",
]


@pytest.fixture
def chain(seeded, session, frozen):
    frozen(2026, 11, 10, 9)
    officer = get_user(session, "town1")
    r = progress.save_draft(
        session,
        officer,
        task_id=1,
        unit_id=get_unit(session, "青石镇").id,
        period="2026-11",
        fields={"progress": "甲", "completion": "乙"},
    )
    progress.submit_report(session, officer, r.id, r.version)
    session.commit()
    assert verify(session) == []
    return session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()


def test_writes_have_who_what_and_before_after(chain, session):
    submit = [e for e in chain if e.action == "report.submit"][0]
    assert submit.actor_name == "town1"
    assert submit.before["status"] == "draft" and submit.after["status"] == "submitted"


def test_values_are_stored_as_json_reads_them_back_whatever_their_form(chain, session):
    """A flat dict of plain values is kept as given (not serialised and parsed back); anything else is made plain
    the same way as before; both verify, and the caller's dict is not the one kept."""
    figures = {"青石镇/发案数": 12, "青石镇/损失金额": "35.50", "全区/劝阻数": None, "flag": True}
    nested = {"when": date(2026, 11, 10), "amount": Decimal("1.50"), "list": [1, "a"], "inner": {"n": 2}}
    flat = record(session, None, "test.flat", object_type="T", object_id=1, before=figures, after=nested)
    figures["青石镇/发案数"] = 13
    session.commit()
    session.expire_all()
    stored = session.get(AuditEvent, flat.id)
    assert stored.before == {"青石镇/发案数": 12, "青石镇/损失金额": "35.50", "全区/劝阻数": None, "flag": True}
    assert stored.after == {"when": "2026-11-10", "amount": "1.50", "list": [1, "a"], "inner": {"n": 2}}
    assert verify(session) == []


def test_edited_event_is_detected(chain, session):
    session.execute(update(AuditEvent).where(AuditEvent.id == chain[3].id).values(summary="改过"))
    session.commit()
    assert [p.event_id for p in verify(session)] == [chain[3].id]


def test_deleted_event_is_detected(chain, session):
    session.execute(text("DELETE FROM audit_events WHERE id = :i"), {"i": chain[3].id})
    session.commit()
    assert [p.event_id for p in verify(session)] == [chain[4].id]


def test_reordered_events_are_detected(chain, session):
    a, b = chain[2], chain[3]
    va = {c: getattr(a, c) for c in COLUMNS}
    vb = {c: getattr(b, c) for c in COLUMNS}
    session.execute(update(AuditEvent).where(AuditEvent.id == a.id).values(hash="x" * 64))
    session.execute(update(AuditEvent).where(AuditEvent.id == b.id).values(**va))
    session.execute(update(AuditEvent).where(AuditEvent.id == a.id).values(**vb))
    session.commit()
    assert verify(session)


def test_inserted_event_is_detected(chain, session):
    last = chain[-1]
    record(session, None, "forged", summary="伪造")
    session.commit()
    assert verify(session) == []  # appending through the service is legitimate
    session.execute(update(AuditEvent).where(AuditEvent.id > last.id).values(prev_hash=chain[2].hash))
    session.commit()
    assert verify(session)


def test_audit_page_and_cli_verify(chain, client, auth, app):
    auth.login("reviewer")
    html = client.get("/audit?verify=1").get_data(as_text=True)
    assert "审计链完整" in html and "report.submit" in html
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0 and "intact" in result.output


# --- an insider with the database but not the key ---------------------------------------------------------------


def _cli_verify(app) -> tuple[int, dict]:
    result = app.test_cli_runner().invoke(args=["audit", "verify", "--json"])
    return result.exit_code, json.loads(result.output)


def _rechain_plain(session, from_id: int) -> None:
    """What the old code allowed: recompute every later link with the unkeyed SHA-256 digest."""
    events = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    prev = GENESIS
    for e in events:
        if e.id >= from_id:
            e.prev_hash = prev
            e.hash = plain_digest(e)
        prev = e.hash
    session.commit()


def _rechain_with(session, from_id: int, key: bytes) -> None:
    events = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    prev = GENESIS
    for e in events:
        if e.id >= from_id:
            e.prev_hash = prev
            e.hash = keyed_digest(e, key)
        prev = e.hash
    session.commit()


@pytest.fixture
def anchored(chain, app, session):
    """The chain after a clean `audit verify`, which anchors its head outside the database."""
    code, out = _cli_verify(app)
    assert code == 0 and out["ok"] is True and out["problems"] == []
    assert out["head"]["seq"] == chain[-1].id and out["events"] == len(chain)
    return chain


def _edit(session, chain):
    session.execute(update(AuditEvent).where(AuditEvent.id == chain[3].id).values(summary="改过"))
    session.commit()


def _delete_middle(session, chain):
    session.execute(text("DELETE FROM audit_events WHERE id = :i"), {"i": chain[3].id})
    session.commit()


def _delete_newest(session, chain):
    session.execute(text("DELETE FROM audit_events WHERE id >= :i"), {"i": chain[-2].id})
    session.commit()


def _reorder(session, chain):
    a, b = chain[2], chain[3]
    va = {c: getattr(a, c) for c in COLUMNS}
    vb = {c: getattr(b, c) for c in COLUMNS}
    session.execute(update(AuditEvent).where(AuditEvent.id == a.id).values(hash="x" * 64))
    session.execute(update(AuditEvent).where(AuditEvent.id == b.id).values(**va))
    session.execute(update(AuditEvent).where(AuditEvent.id == a.id).values(**vb))
    session.commit()


def _insert(session, chain):
    forged = AuditEvent(
        at=chain[-1].at,
        actor_name="reviewer",
        action="report.accept",
        object_type="ProgressReport",
        object_id=1,
        summary="伪造的审核",
        prev_hash=chain[-1].hash,
    )
    forged.hash = plain_digest(forged)
    session.add(forged)
    session.commit()


def _edit_and_recompute(session, chain):
    _edit(session, chain)
    _rechain_plain(session, chain[3].id)


def _delete_and_recompute(session, chain):
    _delete_middle(session, chain)
    _rechain_plain(session, chain[4].id)


MANIPULATIONS = {
    "edit": _edit,
    "delete middle": _delete_middle,
    "delete newest": _delete_newest,
    "reorder": _reorder,
    "insert": _insert,
    "edit and recompute (old digest)": _edit_and_recompute,
    "delete and recompute (old digest)": _delete_and_recompute,
}


@pytest.mark.parametrize("name", list(MANIPULATIONS))
def test_every_manipulation_is_detected_by_audit_verify(anchored, app, session, name):
    MANIPULATIONS[name](session, anchored)
    code, out = _cli_verify(app)
    assert code == 1 and out["ok"] is False and out["problems"], out


def test_deleting_the_newest_events_is_reported_as_missing(anchored, app, session):
    _delete_newest(session, anchored)  # the last 2 events
    code, out = _cli_verify(app)
    assert code == 1
    assert out["events"] == len(anchored) - 2
    assert [p["problem"][:12] for p in out["problems"]] == ["最近 2 条审计记录缺失"]
    # a failed verify anchors nothing: the next run still sees the loss
    assert _cli_verify(app)[0] == 1


def test_deleted_newest_events_stay_missing_after_new_writes(anchored, app, session):
    _delete_newest(session, anchored)
    session.expunge_all()
    record(session, None, "test.write", summary="删除之后的新记录")
    record(session, None, "test.write", summary="又一条")
    session.commit()
    code, out = _cli_verify(app)
    assert code == 1 and len(out["problems"]) == 1
    # SQLite reuses the deleted ids (a different MAC there), PostgreSQL does not (the anchored id is gone)
    assert f"#{anchored[-1].id}" in out["problems"][0]["problem"]


def test_recomputing_with_a_guessed_key_is_detected(anchored, app, session):
    _edit(session, anchored)
    _rechain_with(session, anchored[3].id, b"guessed-key")
    code, out = _cli_verify(app)
    assert code == 1 and out["problems"][0]["event_id"] == anchored[3].id


def test_rewriting_the_whole_chain_as_plain_is_caught_by_the_anchor(anchored, app, session):
    _edit(session, anchored)
    session.execute(text("DELETE FROM audit_events WHERE action = 'audit.chain_keyed'"))
    session.commit()
    _rechain_plain(session, 0)  # no marker left: the database alone now looks like an old plain chain
    code, out = _cli_verify(app)
    assert code == 1 and "锚点不符" in out["problems"][0]["problem"]


def test_an_intact_verify_prints_the_head_and_appends_an_anchor(anchored, app, own_instance):
    lines = (own_instance / "audit_anchors").read_text().splitlines()
    assert len(lines) == 1
    anchor = json.loads(lines[0])
    assert anchor["source"] == "verify" and anchor["seq"] == anchored[-1].id and anchor["events"] == len(anchored)
    assert anchor["mac"] == anchored[-1].hash
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0 and f"head #{anchored[-1].id}" in result.output
    assert f"keyed from #{anchored[0].id}" in result.output
    assert len((own_instance / "audit_anchors").read_text().splitlines()) == 2


def test_the_chain_is_keyed_with_the_instance_key_not_a_plain_hash(anchored, session):
    e = anchored[1]
    assert e.hash == keyed_digest(e, TEST_AUDIT_KEY.encode()) and e.hash != plain_digest(e)
    assert anchored[0].action == "audit.chain_keyed"


def test_the_audit_page_reports_missing_newest_events(anchored, app, session, client, auth):
    _delete_newest(session, anchored)
    auth.login("reviewer")
    html = client.get("/audit?verify=1").get_data(as_text=True)
    assert "审计链校验失败" in html and "最近 2 条审计记录缺失" in html


def test_an_old_plain_chain_is_sealed_at_the_first_write_and_stays_protected(seeded, app, session):
    # a database from before keyed chaining: three events linked by plain SHA-256, no marker
    session.execute(text("DELETE FROM audit_events"))
    session.commit()
    prev = GENESIS
    for i in range(3):
        e = AuditEvent(
            at=datetime(2026, 1, 1 + i, tzinfo=UTC),
            actor_name="system",
            action="old.write",
            object_type="",
            summary=f"旧记录{i}",
            prev_hash=prev,
        )
        e.hash = plain_digest(e)
        session.add(e)
        session.flush()
        prev = e.hash
    session.commit()
    code, out = _cli_verify(app)
    assert code == 0 and out["keyed_from"] is None and out["events"] == 3
    new = record(session, None, "test.write", summary="升级后的第一次写入")
    session.commit()
    marker = session.scalar(select(AuditEvent).where(AuditEvent.action == "audit.chain_keyed"))
    assert marker.id == new.id - 1 and marker.after["legacy_events"] == 3 and marker.prev_hash == prev
    assert "此前 3 条为未加密钥的 SHA-256 链" in marker.summary
    code, out = _cli_verify(app)
    assert code == 0 and out["keyed_from"] == marker.id and out["events"] == 5  # 3 old + marker + new
    # rewriting an old event and recomputing the old plain chain no longer passes: the marker's MAC pins its end
    old = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()[:3]
    old[1].summary = "改写的旧记录"
    old[1].hash = plain_digest(old[1])
    old[2].prev_hash = old[1].hash
    old[2].hash = plain_digest(old[2])
    session.commit()
    code, out = _cli_verify(app)
    # the marker no longer links to the old chain's end, and the head the first verify anchored was rewritten
    assert code == 1 and [p["event_id"] for p in out["problems"]] == [marker.id, old[2].id], out
    assert "锚点不符" in out["problems"][1]["problem"]


def test_audit_key_is_generated_once_into_the_instance(db_url, tmp_path, monkeypatch):
    monkeypatch.delenv("TRACKER_AUDIT_KEY")
    monkeypatch.setenv("TRACKER_INSTANCE_PATH", str(tmp_path / "inst"))
    a = create_app({"DATABASE_URL": db_url, "SECRET_KEY": "k" * 32})
    b = create_app({"DATABASE_URL": db_url, "SECRET_KEY": "k" * 32})
    key = (tmp_path / "inst" / "audit_key").read_text()
    assert a.config["AUDIT_KEY"] == b.config["AUDIT_KEY"] == key and len(key) == 64  # 32 random bytes in hex
    assert (tmp_path / "inst" / "audit_key").stat().st_mode & 0o077 == 0
    assert key != (tmp_path / "inst" / "secret_key").read_text() if (tmp_path / "inst" / "secret_key").exists() else 1
    for x in (a, b):
        x.extensions["tracker.engine"].dispose()


def test_an_archived_briefing_carries_the_audit_head_in_its_row_its_pdf_and_the_anchor_file(
    seeded, app, session, frozen, own_instance
):
    import io
    from datetime import date

    from pypdf import PdfReader

    from tracker.desk.meeting import hold_meeting
    from tracker.meetings import service as meetings
    from tracker.reports.models import BriefingArchive

    frozen(2026, 10, 12, 9)
    reviewer = get_user(session, "reviewer")
    with app.test_request_context():
        m = meetings.schedule_meeting(
            session,
            reviewer,
            title="第三季度联席会议",
            meeting_date=date(2026, 10, 12),
            convener="区委政法委",
            unit_ids=[get_unit(session, "青石镇").id],
            period="2026-Q3",
        )
        m = hold_meeting(session, reviewer, m.id, m.version)
        # the head the briefing names: the newest event before its own archive event (the meeting marked held)
        held = session.scalar(
            select(AuditEvent).where(AuditEvent.action != "briefing.archive").order_by(AuditEvent.id.desc())
        )
        assert not (own_instance / "audit_anchors").exists()  # nothing anchored before the commit
        session.commit()
    arc = session.scalar(select(BriefingArchive).where(BriefingArchive.meeting_id == m.id))
    assert (arc.audit_seq, arc.audit_mac) == (held.id, held.hash)
    keywords = PdfReader(io.BytesIO(arc.pdf)).metadata.get("/Keywords")
    assert keywords == f"audit-head #{held.id} {held.hash}"
    anchor = json.loads((own_instance / "audit_anchors").read_text().splitlines()[-1])
    assert (anchor["source"], anchor["seq"], anchor["mac"]) == ("briefing", held.id, held.hash)
    archive_event = session.scalar(select(AuditEvent).where(AuditEvent.action == "briefing.archive"))
    assert archive_event.after["audit_seq"] == held.id
    code, out = _cli_verify(app)
    assert code == 0 and out["anchors_checked"] == 1


def test_plain_values_are_recorded_as_the_same_dict_would_be(seeded, session):
    """A PlainValues (a month's figures of the import) skips the check and the copy; stored and chained as the dict."""
    from tracker.audit.service import PlainValues

    values = {"青石镇/发案数": 3, "青石镇/损失金额": "1.50", "柳溪镇/破案数": None}
    plain = record(session, None, "metrics.import", before=None, after=PlainValues(values), summary="x")
    as_dict = record(session, None, "metrics.import", before=None, after=dict(values), summary="x")
    assert plain.after == as_dict.after == values
    session.commit()
    session.expire_all()
    stored = session.scalars(select(AuditEvent).where(AuditEvent.id.in_([plain.id, as_dict.id]))).all()
    assert [e.after for e in stored] == [values, values]
    assert verify(session) == []


@pytest.mark.parametrize("before", [None, {"全区/劝阻数": None, "青石镇/发案数": 2}])
def test_values_encoded_ahead_are_recorded_and_chained_as_the_same_dict_would_be(seeded, session, frozen, before):
    """Encoded values (a month's figures, encoded by the thread reading the file) give the same event, to the byte:
    the same MAC, the same stored text, and the chain verifies."""
    from tracker.audit.service import Encoded, PlainValues, encoded

    frozen(2026, 11, 10, 9)
    after = {"青石镇/发案数": 3, "青石镇/损失金额": "1.50", "柳溪镇/破案数": None, "更正原因": '引号"与\\斜杠 '}
    ahead = {"before": encoded(PlainValues(before)) if before else None, "after": encoded(PlainValues(after))}
    assert isinstance(ahead["after"], Encoded)
    events = [
        record(session, None, "metrics.import", object_type="MetricMonth", object_id=202610, summary="s", **values)
        for values in (ahead, {"before": before and dict(before), "after": dict(after)})
    ]
    session.flush()
    stored = session.execute(
        text(
            "SELECT CAST(before AS TEXT) AS before, CAST(after AS TEXT) AS after FROM audit_events"
            " WHERE id IN (:a, :b) ORDER BY id"
        ).bindparams(a=events[0].id, b=events[1].id)
    ).all()
    assert stored[0] == stored[1]  # the same text in the columns, as the database keeps it
    session.commit()
    session.expire_all()
    first, second = (session.get(AuditEvent, e.id) for e in events)
    assert (first.before, first.after) == (second.before, second.after) == (before, after)
    assert keyed_digest(first, TEST_AUDIT_KEY.encode()) == first.hash
    assert verify(session) == []
