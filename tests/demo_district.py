"""The demo district (`flask --app tracker seed --demo`) as loaded on a given day, seeded once per test run and copied
into each test's database that asks for it.

Loading the demo takes seconds (every report's history, the figures, the meetings and their archived briefings, the
cards), and several files loaded it per test or per module. `DemoDistricts.install` gives a test's database the same
rows instead: the first process of the run to need a day seeds it into a migrated copy of the template, exactly as
the tests did (clock fixed at the day's 9 o'clock, the seed's `demo.json`, optionally with fewer months), and keeps
the result beside the other processes' temporary folders; the others copy it. The audit anchors the archived
briefings wrote to the seeding app's instance folder are written to the test app's, naming the test's database.
"""

from __future__ import annotations

import fcntl
import json
import os
import pickle
import shutil
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from flask import current_app, g, has_app_context
from sqlalchemy import make_url

from tracker import clock, create_app, seed
from tracker import db as tdb
from tracker.db import database_label


@dataclass(frozen=True)
class Snapshot:
    """A seeded demo district: the SQLite file, or (PostgreSQL) a pickle of every table's rows; the anchors
    written while seeding, and the label of the database they named."""

    data: Path
    anchors: list[dict]
    db_label: str


@contextmanager
def _locked(path: Path):
    with open(path, "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


@contextmanager
def _months(months: int | None):
    """The seed's demo.json with `months` months of report history (as the browser tests' shorter demo)."""
    if months is None:
        yield
        return
    read_json = seed.read_json
    seed.read_json = lambda name: {**read_json(name), "months": months} if name == "demo.json" else read_json(name)
    try:
        yield
    finally:
        seed.read_json = read_json


@contextmanager
def seeding_environment(instance: Path):
    from tests.conftest import TEST_AUDIT_KEY

    saved = {k: os.environ.get(k) for k in ("TRACKER_INSTANCE_PATH", "TRACKER_AUDIT_KEY")}
    os.environ["TRACKER_INSTANCE_PATH"] = str(instance)
    os.environ["TRACKER_AUDIT_KEY"] = TEST_AUDIT_KEY
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def app_for_tests(url: str):
    """An app as the `app` fixture makes it (testing: jobs run at once, no CSRF, no rate limit)."""
    return create_app(
        {
            "TESTING": True,
            "DATABASE_URL": url,
            "SECRET_KEY": "test-secret-key-not-for-production",
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            "SERVER_NAME": "localhost",
        }
    )


def _sqlite_path(url: str) -> Path:
    return Path(make_url(url).database)


class DemoDistricts:
    """The session's demo districts by (time, months), kept in `folder` (shared by the run's processes)."""

    def __init__(self, template_db: str, folder: Path, pg_url: str | None):
        self.template_db, self.folder, self.pg_url = template_db, folder, pg_url
        self.snapshots: dict[tuple, Snapshot] = {}

    def snapshot(self, now: tuple, months: int | None = None) -> Snapshot:
        key = (now, months)
        if key not in self.snapshots:
            name = "demo-" + "-".join(map(str, now)) + (f"-m{months}" if months else "")
            self.folder.mkdir(parents=True, exist_ok=True)
            meta = self.folder / f"{name}.json"
            with _locked(self.folder / f"{name}.lock"):
                if not meta.exists():
                    self._build(name, now, months, meta)
            saved = json.loads(meta.read_text())
            self.snapshots[key] = Snapshot(Path(saved["data"]), saved["anchors"], saved["db_label"])
        return self.snapshots[key]

    def _build(self, name: str, now: tuple, months: int | None, meta: Path) -> None:
        instance = self.folder / f"{name}-instance"
        instance.mkdir(exist_ok=True)
        if self.pg_url:
            from tests.conftest import _truncate_postgres

            _truncate_postgres()
            url, data = self.pg_url, self.folder / f"{name}.pickle"
        else:
            data = self.folder / f"{name}.db"
            shutil.copy(self.template_db, data)
            url = f"sqlite:///{data}"
        with seeding_environment(instance), _months(months):
            app = app_for_tests(url)
            try:
                clock.freeze(datetime(*now, tzinfo=clock.CHINA_TZ))
                with app.app_context():
                    seed.load_base(tdb.session)
                    seed.load_demo(tdb.session, _password(), today=date(*now[:3]))
                    tdb.session.commit()
            finally:
                clock.freeze(None)
                app.extensions["tracker.engine"].dispose()
        if self.pg_url:
            data.write_bytes(pickle.dumps(_pg_rows(self.pg_url)))
        anchors_file = instance / "audit_anchors"
        anchors = [json.loads(line) for line in anchors_file.read_text().splitlines()] if anchors_file.exists() else []
        meta.write_text(json.dumps({"data": str(data), "anchors": anchors, "db_label": database_label(url)}))

    def copy_to(self, url: str, anchors_path: str, now: tuple, months: int | None = None) -> None:
        """Put the demo district into the database at `url`, which no engine holds open, and its anchors into
        `anchors_path`."""
        snap = self.snapshot(now, months)
        if self.pg_url:
            from tests.conftest import _restore_postgres

            _restore_postgres(pickle.loads(snap.data.read_bytes()))
        else:
            path = _sqlite_path(url)
            for suffix in ("-wal", "-shm", "-journal"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            shutil.copy(snap.data, path)
        if snap.anchors:
            Path(anchors_path).parent.mkdir(parents=True, exist_ok=True)
            label = database_label(url)
            with open(anchors_path, "a") as f:
                for a in snap.anchors:
                    f.write(json.dumps({**a, "db": label if a["db"] == snap.db_label else a["db"]}, ensure_ascii=False))
                    f.write("\n")

    def install(self, app, now: tuple, months: int | None = None) -> None:
        """Replace the database of the test's `app` by the demo district: its engine's connections are closed
        first (the test's session, if it has one, is closed too and opens the new database when next used)."""
        if has_app_context() and current_app._get_current_object() is app and "db_session" in g:
            g.db_session.close()
        app.extensions["tracker.engine"].dispose()
        self.copy_to(app.config["DATABASE_URL"], app.config["AUDIT_ANCHORS"], now, months)


def _password() -> str:
    from tests.conftest import PASSWORD

    return PASSWORD


def _pg_rows(url: str) -> dict:
    from tracker.db import make_engine
    from tracker.models import Base

    engine = make_engine(url)
    with engine.connect() as conn:
        rows = {t.name: [dict(r._mapping) for r in conn.execute(t.select())] for t in Base.metadata.sorted_tables}
    engine.dispose()
    return rows
