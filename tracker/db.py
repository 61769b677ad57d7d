"""Engine, per-request session, the UTC datetime column type. The models' declarative base is in declarative.py: the
ORM is imported by the models and by the first session, not by making the app."""

from __future__ import annotations

import re
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from flask import current_app, g
from sqlalchemy import DateTime, create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.types import TypeDecorator
from werkzeug.local import LocalProxy

from .errors import conflict_error

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

# Whether transactions started in this context may write (SQLite: BEGIN IMMEDIATE instead of BEGIN).
write_intent: ContextVar[bool] = ContextVar("write_intent", default=True)


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC datetime on every backend (SQLite stores it naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


_SQLITE_UNIQUE = re.compile(r"UNIQUE constraint failed: ([\w., ]+)")


def violated_unique(orig: Exception) -> str | None:
    """The name of the unique constraint a driver error reports (PostgreSQL names it; SQLite names the columns,
    from which the naming convention gives the name)."""
    diag = getattr(orig, "diag", None)
    if diag is not None:
        return diag.constraint_name if getattr(orig, "sqlstate", None) == "23505" else None
    m = _SQLITE_UNIQUE.search(str(orig))
    if not m:
        return None
    columns = [c.strip() for c in m.group(1).split(",")]
    return f"uq_{columns[0].split('.')[0]}_" + "_".join(c.split(".", 1)[-1] for c in columns)


def _unique_violation_as_domain_error(context):
    """Turn a unique-constraint violation into the domain error registered for it (tracker.errors).

    Services check uniqueness before they write; on PostgreSQL two transactions can both pass the check at the
    same moment (SQLite serialises writers, so there the second sees the first's row and the check answers).
    The loser then meets the constraint at flush or commit; this gives it the check's message instead of a 500.
    """
    if not isinstance(context.sqlalchemy_exception, IntegrityError):
        return None
    name = violated_unique(context.original_exception)
    if name is None:
        return None
    rows = getattr(context.execution_context, "compiled_parameters", None) or [{}]
    row = rows[0] if len(rows) == 1 else {}
    error = conflict_error(name, dict(row))
    if error is not None:
        error.__cause__ = context.sqlalchemy_exception
    return error


def make_engine(url: str, **kwargs) -> Engine:
    """Create an engine; SQLite gets WAL, a busy timeout, foreign keys and BEGIN IMMEDIATE. On both, a unique
    constraint's violation becomes the domain error registered for it."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs)
        event.listen(engine, "handle_error", _unique_violation_as_domain_error)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            # Take control of transactions so every one starts with BEGIN IMMEDIATE:
            # concurrent writers then queue on the busy timeout instead of failing on upgrade.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):
            # Writers take the lock up front; read-only requests (GET) use a deferred transaction, which in
            # WAL mode neither waits for writers nor blocks them.
            conn.exec_driver_sql("BEGIN IMMEDIATE" if write_intent.get() else "BEGIN")

        return engine
    engine = create_engine(url, pool_pre_ping=True, **kwargs)
    event.listen(engine, "handle_error", _unique_violation_as_domain_error)
    return engine


def database_label(url: str) -> str:
    """The database's URL without its password: which database an audit anchor belongs to."""
    return make_url(url).render_as_string(hide_password=True)


def init_app(app) -> None:
    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions["tracker.engine"] = engine
    # what the audit service needs from outside the database: the MAC key and where anchors are written
    info = {
        "audit_key": app.config["AUDIT_KEY"],
        "audit_anchors": app.config["AUDIT_ANCHORS"],
        "audit_db": database_label(app.config["DATABASE_URL"]),
    }
    app.extensions["tracker.session_info"] = info

    @app.before_request
    def _declare_intent():
        from flask import request

        write_intent.set(request.method not in ("GET", "HEAD", "OPTIONS"))

    @app.teardown_appcontext
    def _close_session(_exc):
        s = g.pop("db_session", None)
        if s is not None:
            s.close()


def plain_rows(session: Session, query, params: dict | None = None) -> list:
    """The rows of a column query (with its bound parameters' values, if any) as the session would give them (after
    its autoflush), through its connection in one fetchall: the ORM's result handling of many plain rows costs more
    than fetching them."""
    if session.autoflush:
        session.flush()
    return session.connection().execute(query, params).all()


def driver_rows(session: Session, query, params: dict | None = None) -> list[tuple]:
    """`plain_rows` as the driver's tuples, not a Row made for each: only for a query none of whose columns has a
    result processor (a Row would hold the same values), read by the thousand."""
    if session.autoflush:
        session.flush()
    result = session.connection().execute(query, params)
    try:
        return result.cursor.fetchall()
    finally:
        result.close()


def get_session() -> Session:
    """The session of the current app context, created on first use. Before it is made the app's models are (the
    app's "data" half: tracker.TrackerApp.assemble), so a command or job that imported one model module queries a
    complete registry; an app whose assembly failed raises here."""
    if "db_session" not in g:
        app = current_app._get_current_object()
        assemble_data = getattr(app, "assemble_data", None)
        if assemble_data is not None:
            assemble_data()
        g.db_session = _sessionmaker(app.extensions)()
    return g.db_session


def _sessionmaker(extensions: dict):
    """The app's session factory, made by its first session: the ORM is not imported by making the app or pushing its
    context (a command's start), only by what uses it."""
    make = extensions.get("tracker.sessionmaker")
    if make is None:
        from sqlalchemy.orm import sessionmaker

        engine, info = extensions["tracker.engine"], extensions["tracker.session_info"]
        make = extensions.setdefault(
            "tracker.sessionmaker", sessionmaker(bind=engine, expire_on_commit=False, info=info)
        )
    return make


session: Session = LocalProxy(get_session)  # type: ignore[assignment]
