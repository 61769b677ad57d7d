"""The job queue (Huey): its storage from the configuration, and enqueueing after a commit.

SQLite storage in `instance/queue.db` is the embedded default; `TRACKER_QUEUE_URL=redis://…` shares one queue
between several app servers and workers. Tests run tasks immediately (Huey's immediate mode) unless they ask for
a real consumer. Tasks are enqueued after the transaction that asks for them commits, never inside it. The tasks
themselves call into the areas and are bound by the desk (`tracker/desk/tasks.py`)."""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask, current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)


def make_huey(app: Flask):
    from huey import RedisHuey, SqliteHuey

    url = app.config.get("QUEUE_URL") or ""
    immediate = bool(app.config.get("QUEUE_IMMEDIATE", app.config.get("TESTING", False)))
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisHuey("tracker", url=url, immediate=immediate, utc=True)
    if url and not url.startswith("sqlite:"):
        raise RuntimeError("TRACKER_QUEUE_URL must be redis://… (or sqlite:///path)")
    path = url.removeprefix("sqlite:///") if url else str(Path(app.instance_path) / "queue.db")
    return SqliteHuey("tracker", filename=path, immediate=immediate, utc=True)


def init_app(app: Flask) -> None:
    """Bind a Huey instance to the app (app.extensions["tracker.huey"]); tasks are added by name to
    app.extensions["tracker.tasks"]."""
    app.extensions["tracker.huey"] = make_huey(app)
    app.extensions["tracker.tasks"] = {}


# -- enqueueing after commit ---------------------------------------------------------


def enqueue_after_commit(session: Session, task: str, *args) -> None:
    """Enqueue `task` once the session's transaction commits (dropped with a rollback)."""
    session.info.setdefault("jobs_pending", []).append((current_app._get_current_object(), task, args))


@event.listens_for(Session, "after_commit")
def _enqueue_pending(session: Session) -> None:
    for app, task, args in session.info.pop("jobs_pending", None) or ():
        try:
            app.extensions["tracker.tasks"][task](*args)
        except Exception:  # the queue being down must not turn a committed write into an error page
            log.exception("could not enqueue %s", task)


@event.listens_for(Session, "after_rollback")
def _drop_pending(session: Session) -> None:
    session.info.pop("jobs_pending", None)
