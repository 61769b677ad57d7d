"""Fixtures: a migrated database per test (SQLite by default, PostgreSQL with TRACKER_TEST_DB), the app,
a client with a login helper, the seeded district, and a fixed clock."""

from __future__ import annotations

import os
import shutil
from datetime import datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, make_url, text

from tracker import clock, create_app
from tracker import db as tdb
from tracker.auth import service as auth_service
from tracker.db import make_engine
from tracker.models import Base

from . import compiled_once
from .postgres_rows import PostgresRows

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# gw0, gw1 … when the suite runs in several processes (`pytest -n 2`, as `make test` does); "" in one process
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")


def _own_database(base: str | None) -> str | None:
    """Each worker process has its own PostgreSQL database beside the given one (test_gw0, test_gw1 …), created
    on first use; one process uses the given database itself."""
    if not base or not WORKER:
        return base
    url = make_url(base)
    name = f"{url.database}_{WORKER}"
    engine = create_engine(base, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        if conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}) is None:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def _own_redis(base: str) -> str:
    """Each worker process has its own Redis database: the given one for gw0 (or one process), one below for gw1 …"""
    if not WORKER:
        return base
    prefix, _, db = base.rpartition("/")
    if not db.isdigit():  # redis://host:port without a database: 0
        prefix, db = base.rstrip("/"), "0"
    return f"{prefix}/{(int(db) - int(WORKER.removeprefix('gw'))) % 16}"


PG_URL = _own_database(os.environ.get("TRACKER_TEST_DB"))
REDIS_URL = _own_redis(os.environ.get("TRACKER_TEST_REDIS_URL", "redis://127.0.0.1:6379/15"))
PASSWORD = "demo-2026"

auth_service.HASH_METHOD = "pbkdf2:sha256:1000"
# URL rules' builders and compiled templates are made once per process, not again by every test's app
compiled_once.install()


# The longest tests (a browser each, several processes, PDFs rasterised page by page) run first, so that with
# `pytest -n 2 --dist worksteal` (as `make test` runs) none of them starts last while the other process idles.
LONG_FIRST = ("tests/e2e/", "tests/test_concurrency.py", "tests/test_report_layout.py")


def pytest_collection_modifyitems(items):
    items.sort(key=lambda item: not item.nodeid.startswith(LONG_FIRST))


def alembic_config(url: str) -> Config:
    cfg = Config(os.path.join(ROOT, "alembic.ini"))
    cfg.set_main_option("script_location", os.path.join(ROOT, "migrations"))
    cfg.attributes["url"] = url
    cfg.attributes["configure_logger"] = False
    return cfg


def reset_postgres(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


TEST_AUDIT_KEY = "test-audit-key-5f1c9e27a0b84d36b1e2c7f9084a6d53"


@pytest.fixture(autouse=True)
def own_instance(tmp_path, monkeypatch):
    """Each test's app keeps its instance files (audit key, audit anchors) in the test's own folder."""
    monkeypatch.setenv("TRACKER_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("TRACKER_AUDIT_KEY", TEST_AUDIT_KEY)
    return tmp_path / "instance"


@pytest.fixture(scope="session")
def template_db(tmp_path_factory):
    """Migrate once: a template SQLite file to copy, or the PostgreSQL test database."""
    if PG_URL:
        reset_postgres(PG_URL)
        command.upgrade(alembic_config(PG_URL), "head")
        return PG_URL
    path = tmp_path_factory.mktemp("template") / "template.db"
    command.upgrade(alembic_config(f"sqlite:///{path}"), "head")
    return str(path)


def _seed(url: str, instance: str) -> None:
    """The seed plan and units plus the demo towns and accounts, without demo reports."""
    from tracker.seed import load_base, load_demo

    from .demo_district import seeding_environment

    with seeding_environment(Path(instance)):
        app = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "test-secret-key-not-for-production"})
        with app.app_context():
            load_base(tdb.session)
            load_demo(tdb.session, PASSWORD, with_reports=False)
            tdb.session.commit()
        app.extensions["tracker.engine"].dispose()


# this process's PostgreSQL test database: its tables put back between tests by rewriting only what changed
PG_ROWS = PostgresRows(PG_URL) if PG_URL else None


def _truncate_postgres() -> None:
    """Every table empty, ids from 1."""
    PG_ROWS.put(None)


@pytest.fixture(scope="session")
def seeded_template(template_db, tmp_path_factory):
    """Seed once per session: a seeded SQLite file to copy, or the seeded PostgreSQL rows to put back."""
    if PG_URL:
        _truncate_postgres()
        _seed(PG_URL, str(tmp_path_factory.mktemp("seed-instance")))
        engine = make_engine(PG_URL)
        with engine.connect() as conn:
            rows = {t.name: [dict(r._mapping) for r in conn.execute(t.select())] for t in Base.metadata.sorted_tables}
        engine.dispose()
        return rows
    path = tmp_path_factory.mktemp("seeded") / "seeded.db"
    shutil.copy(template_db, path)
    _seed(f"sqlite:///{path}", str(tmp_path_factory.mktemp("seed-instance")))
    return str(path)


def _restore_postgres(rows: dict) -> None:
    """Every table holding `rows` (by table name), ids continuing after them."""
    PG_ROWS.put(rows)


@pytest.fixture(scope="session")
def demo_districts(template_db, tmp_path_factory):
    """The demo district by day, seeded once per run (shared by the run's processes) and copied into a test's
    database: `demo_districts.install(app, (2026, 12, 3, 9))`."""
    from .demo_district import DemoDistricts

    base = tmp_path_factory.getbasetemp()
    return DemoDistricts(template_db, (base.parent if WORKER else base) / "demo-districts", PG_URL)


@pytest.fixture
def db_url(request, template_db, tmp_path):
    """An empty migrated database; already seeded when the test asks for `seeded` (seeding once per session)."""
    seeded = "seeded" in request.fixturenames
    source = request.getfixturevalue("seeded_template") if seeded else template_db
    if PG_URL:
        PG_ROWS.put(source if seeded else None)
        return PG_URL
    target = tmp_path / "test.db"
    shutil.copy(source, target)
    return f"sqlite:///{target}"


@pytest.fixture
def app(db_url, tmp_path):
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": db_url,
            "SECRET_KEY": "test-secret-key-not-for-production",
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            "SERVER_NAME": "localhost",
        }
    )
    yield app
    app.extensions["tracker.engine"].dispose()


@pytest.fixture
def session(app):
    with app.app_context():
        yield tdb.session


@pytest.fixture
def seeded(app):
    """The seed plan and units plus the demo towns and accounts, without demo reports (`db_url` copies them from
    the session's seeded template)."""
    return app


@pytest.fixture
def client(app):
    return app.test_client()


class AuthActions:
    def __init__(self, client):
        self.client = client

    def login(self, username: str, password: str = PASSWORD):
        return self.client.post("/login", data={"username": username, "password": password})

    def logout(self):
        return self.client.post("/logout")


@pytest.fixture
def auth(client):
    return AuthActions(client)


@pytest.fixture
def scored(monkeypatch):
    """The quarters scored live for the note 发布后数据有更新 (the calls of compute_with_summary from the results),
    by period code, in order."""
    from tracker.assessment import results, scoring

    calls = []
    original = scoring.compute_with_summary

    def counting(*args, **kwargs):
        calls.append(args[2].code)
        return original(*args, **kwargs)

    monkeypatch.setattr(results, "compute_with_summary", counting)
    return calls


@pytest.fixture
def frozen():
    """Fix the clock: frozen(2026, 11, 25, 10) sets China local time."""

    def _freeze(*args):
        clock.freeze(datetime(*args, tzinfo=clock.CHINA_TZ))

    yield _freeze
    clock.freeze(None)


def get_user(session, username: str):
    from sqlalchemy import select

    from tracker.auth.models import User

    return session.scalar(select(User).where(User.username == username))


def get_unit(session, name: str):
    from sqlalchemy import select

    from tracker.org.models import Unit

    return session.scalar(select(Unit).where(Unit.name == name))
