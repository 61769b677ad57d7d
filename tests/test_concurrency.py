"""8 processes × 100 read-modify-write edits of one report through the services: nothing lost, nothing unhandled."""

from __future__ import annotations

import multiprocessing as mp
from datetime import datetime

from sqlalchemy.orm import sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from tracker import clock
from tracker.audit.service import verify
from tracker.auth.models import User
from tracker.db import make_engine
from tracker.errors import StaleEdit
from tracker.progress import service as progress

from .conftest import get_unit, get_user

WORKERS, EDITS = 8, 100


def _edit_loop(url: str, user_id: int, unit_id: int, worker: int, out) -> None:
    clock.freeze(datetime(2026, 11, 10, 9, tzinfo=clock.CHINA_TZ))
    engine = make_engine(url)
    make = sessionmaker(bind=engine, expire_on_commit=False)
    retries = errors = 0
    for i in range(EDITS):
        while True:
            session = make()
            try:
                user = session.get(User, user_id)
                report = progress.find_report(session, 3, unit_id, "2026-11")
                text = report.progress + f"\n{worker}-{i}"
                progress.save_draft(
                    session,
                    user,
                    task_id=3,
                    unit_id=unit_id,
                    period="2026-11",
                    fields={"progress": text, "completion": "x"},
                    version=report.version,
                )
                session.commit()
                break
            except (StaleEdit, StaleDataError):
                session.rollback()
                retries += 1
            except Exception as e:  # counted, reported by the test
                session.rollback()
                errors += 1
                out.put(("error", repr(e)))
                break
            finally:
                session.close()
    engine.dispose()
    out.put(("done", worker, retries, errors))


def test_no_lost_updates_under_eight_writers(seeded, session, db_url, frozen):
    frozen(2026, 11, 10, 9)
    town = get_unit(session, "青石镇")
    officer = get_user(session, "town1")
    progress.save_draft(
        session, officer, task_id=3, unit_id=town.id, period="2026-11", fields={"progress": "起始", "completion": "x"}
    )
    session.commit()
    ctx = mp.get_context("spawn")  # the suite may hold threads (a browser); fork would copy their locks
    out = ctx.Queue()
    procs = [ctx.Process(target=_edit_loop, args=(db_url, officer.id, town.id, w, out)) for w in range(WORKERS)]
    for p in procs:
        p.start()
    results = [out.get(timeout=600) for _ in range(WORKERS)]
    for p in procs:
        p.join(timeout=60)
    errors = [r for r in results if r[0] == "error"]
    assert not errors, errors
    assert all(p.exitcode == 0 for p in procs)
    session.expire_all()
    session.rollback()
    report = progress.find_report(session, 3, town.id, "2026-11")
    lines = report.progress.split("\n")[1:]
    assert len(lines) == WORKERS * EDITS
    assert set(lines) == {f"{w}-{i}" for w in range(WORKERS) for i in range(EDITS)}
    assert verify(session) == []
