"""Migrations build the schema the models describe, on SQLite and on PostgreSQL."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from tracker.db import make_engine
from tracker.models import Base


def test_upgrade_head_then_autogenerate_finds_no_difference(template_db):
    # template_db is an empty database taken to head by `alembic upgrade head` (see conftest)
    url = template_db if "://" in template_db else f"sqlite:///{template_db}"
    engine = make_engine(url)
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, Base.metadata)
        tables = set(inspect(conn).get_table_names())
    engine.dispose()
    assert diff == []
    assert {t.name for t in Base.metadata.sorted_tables} <= tables
    assert "alembic_version" in tables
