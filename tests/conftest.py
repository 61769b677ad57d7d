"""Fixtures: a migrated database per test (SQLite by default, PostgreSQL with TRACKER_TEST_DB), the app,
a client with a login helper, the seeded district, and a fixed clock."""

from __future__ import annotations

import os
import shutil
from datetime import datetime

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import text

from tracker import clock, create_app
from tracker import db as tdb
from tracker.auth import service as auth_service
from tracker.db import make_engine
from tracker.models import Base

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PG_URL = os.environ.get("TRACKER_TEST_DB")
PASSWORD = "demo-2026"

auth_service.HASH_METHOD = "pbkdf2:sha256:1000"


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


@pytest.fixture
def db_url(template_db, tmp_path):
    if PG_URL:
        engine = make_engine(PG_URL)
        tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
        with engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        engine.dispose()
        return PG_URL
    target = tmp_path / "test.db"
    shutil.copy(template_db, target)
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
    """The seed plan and units plus the demo towns and accounts, without demo reports."""
    from tracker.seed import load_base, load_demo

    with app.app_context():
        load_base(tdb.session)
        load_demo(tdb.session, PASSWORD, with_reports=False)
        tdb.session.commit()
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
