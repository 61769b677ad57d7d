"""The job queue (Huey): its storage from the configuration, and enqueueing after a commit.

SQLite storage in `instance/queue.db` is the embedded default; `TRACKER_QUEUE_URL=redis://…` shares one queue
between several app servers and workers. Tests run tasks immediately (Huey's immediate mode) unless they ask for
a real consumer. Tasks are enqueued after the transaction that asks for them commits, never inside it. The tasks
themselves call into the areas and are bound by the desk (`tracker/desk/tasks.py`).

The Huey instance is made on first use (the first task enqueued, or the worker): Huey imports both its Redis and
its PostgreSQL client libraries, which a command that queues nothing (or `--help`) does not need. The queue's
settings are read and checked when the app is made, so a bad `TRACKER_QUEUE_URL` still stops the start-up."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from flask import Flask, current_app
from sqlalchemy import event

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

# binds tasks to a new Huey instance: (app, huey) -> {name: task}
Binder = Callable[[Flask, object], dict]


@dataclass(frozen=True)
class QueueSettings:
    """Where the queue is kept, read once from the configuration."""

    redis_url: str | None  # redis://…, rediss://… or unix://…; None: SQLite
    sqlite_path: str
    immediate: bool


def queue_settings(app: Flask) -> QueueSettings:
    """The queue's storage from QUEUE_URL (Redis, or SQLite at a path, by default instance/queue.db)."""
    url = app.config.get("QUEUE_URL") or ""
    immediate = bool(app.config.get("QUEUE_IMMEDIATE", app.config.get("TESTING", False)))
    if url.startswith(("redis://", "rediss://", "unix://")):
        return QueueSettings(redis_url=url, sqlite_path="", immediate=immediate)
    if url and not url.startswith("sqlite:"):
        raise RuntimeError("TRACKER_QUEUE_URL must be redis://… (or sqlite:///path)")
    path = url.removeprefix("sqlite:///") if url else str(Path(app.instance_path) / "queue.db")
    return QueueSettings(redis_url=None, sqlite_path=path, immediate=immediate)


def make_huey(settings: QueueSettings):
    """A Huey instance on the storage the settings name."""
    from huey import RedisHuey, SqliteHuey

    if settings.redis_url:
        return RedisHuey("tracker", url=settings.redis_url, immediate=settings.immediate, utc=True)
    return SqliteHuey("tracker", filename=settings.sqlite_path, immediate=settings.immediate, utc=True)


class Queue:
    """An app's job queue: the Huey instance and its tasks by name, made (and the tasks bound) on first use."""

    def __init__(self, app: Flask, settings: QueueSettings) -> None:
        self._app = app
        self.settings = settings
        self._binders: list[Binder] = []
        self._huey = None
        self._tasks: dict = {}
        self._lock = threading.Lock()

    def add_binder(self, binder: Binder) -> None:
        """Have `binder` add its tasks when the Huey instance is made."""
        if self._huey is not None:
            raise RuntimeError("the queue is already in use: bind tasks while the app is made")
        self._binders.append(binder)

    @property
    def huey(self):
        """The Huey instance, made with its tasks bound on first use (the app's own first use, which binds them)."""
        if self._huey is None:
            assemble = getattr(self._app, "assemble", None)  # tracker.TrackerApp: the desk binds the tasks
            if assemble is not None:
                assemble()
            with self._lock:
                if self._huey is None:
                    huey = make_huey(self.settings)
                    for bind in self._binders:
                        self._tasks.update(bind(self._app, huey))
                    self._huey = huey
        return self._huey

    @property
    def tasks(self) -> dict:
        """The bound tasks by name (calling one enqueues it, or runs it in immediate mode)."""
        self.huey  # noqa: B018 - makes the instance and binds the tasks
        return self._tasks


def init_app(app: Flask) -> None:
    """Give the app its queue (app.extensions["tracker.queue"]); nothing is imported or opened until it is used."""
    app.extensions["tracker.queue"] = Queue(app, queue_settings(app))


def queue_for(app: Flask) -> Queue:
    """The app's job queue."""
    return app.extensions["tracker.queue"]


# -- enqueueing after commit ---------------------------------------------------------


def enqueue_after_commit(session: Session, task: str, *args) -> None:
    """Enqueue `task` once the session's transaction commits (dropped with a rollback)."""
    if not _listening.is_set():
        _listen_to_sessions()
    session.info.setdefault("jobs_pending", []).append((current_app._get_current_object(), task, args))


_listening = threading.Event()
_listen_lock = threading.Lock()


def _listen_to_sessions() -> None:
    """Listen to every session's commits and rollbacks, from the first job asked for: making the app (a command's
    start) does not import the ORM."""
    from sqlalchemy.orm import Session

    with _listen_lock:
        if not _listening.is_set():
            event.listen(Session, "after_commit", _enqueue_pending)
            event.listen(Session, "after_rollback", _drop_pending)
            _listening.set()


def _enqueue_pending(session: Session) -> None:
    for app, task, args in session.info.pop("jobs_pending", None) or ():
        try:
            queue_for(app).tasks[task](*args)
        except Exception:  # the queue being down must not turn a committed write into an error page
            log.exception("could not enqueue %s", task)


def _drop_pending(session: Session) -> None:
    session.info.pop("jobs_pending", None)
