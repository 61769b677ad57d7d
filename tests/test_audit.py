"""The audit trail records every write and detects tampering."""

import pytest
from sqlalchemy import select, text, update

from tracker.audit.models import AuditEvent
from tracker.audit.service import record, verify
from tracker.progress import service as progress

from .conftest import get_unit, get_user


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
    cols = [
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
    va = {c: getattr(a, c) for c in cols}
    vb = {c: getattr(b, c) for c in cols}
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
