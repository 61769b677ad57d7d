"""The PostgreSQL test database between tests (`tests/postgres_rows.py`): whatever a test changed, committed or rolled
back, the next test starts from exactly the seeded rows and the same next ids, and an untouched table is left as is."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from tracker.db import make_engine
from tracker.models import Base

from .conftest import PG_ROWS, PG_URL

pytestmark = pytest.mark.skipif(not PG_URL, reason="the PostgreSQL test database's reset")


def _everything(conn) -> dict:
    rows = {t.name: sorted(map(tuple, conn.execute(select(t)))) for t in Base.metadata.sorted_tables}
    ids = {
        t.name: conn.scalar(text(f"SELECT last_value FROM {t.name}_id_seq"))
        for t in Base.metadata.sorted_tables
        if t.name in ("units", "tasks", "audit_events")
    }
    return {"rows": rows, "ids": ids}


def test_changes_of_every_kind_are_put_back_and_untouched_tables_are_left(seeded, db_url, seeded_template):
    engine = make_engine(db_url)
    with engine.connect() as conn:
        before = _everything(conn)
        untouched_version = conn.scalar(text("SELECT max(xmin::text::bigint) FROM plans"))
    with engine.begin() as conn:
        conn.execute(text("UPDATE tasks SET title = title || '改' WHERE id = (SELECT min(id) FROM tasks)"))
        conn.execute(text("DELETE FROM audit_events"))
    with engine.connect() as conn:  # an insert rolled back still takes an id
        conn.execute(text("INSERT INTO units (name, kind, created_at) VALUES ('回滚单位', 'department', now())"))
        conn.rollback()
    engine.dispose()

    PG_ROWS.put(seeded_template)

    engine = make_engine(db_url)
    with engine.connect() as conn:
        after = _everything(conn)
        assert conn.scalar(text("SELECT max(xmin::text::bigint) FROM plans")) == untouched_version
    engine.dispose()
    assert after == before
    assert before["rows"]["tasks"] and before["rows"]["audit_events"]
