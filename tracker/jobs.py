"""The job queue (Huey): its storage from the configuration, the tasks, and the periodic tasks (China time).

SQLite storage in `instance/queue.db` is the embedded default; `TRACKER_QUEUE_URL=redis://…` shares one queue
between several app servers and workers. Tests run tasks immediately (Huey's immediate mode) unless they ask for
a real consumer. Tasks are enqueued after the transaction that asks for them commits, never inside it."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from flask import Flask, current_app
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from . import clock

log = logging.getLogger(__name__)

ARCHIVE = "briefing.archive"
ARCHIVE_ATTEMPTS = 3


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
    """Bind a Huey instance and the tasks to the app (app.extensions["tracker.huey"] and ["tracker.tasks"])."""
    from huey import crontab

    h = make_huey(app)
    tasks: dict = {}

    @h.task(name="archive_briefing")
    def archive_briefing(meeting_id: int, actor_id: int | None):
        run_archive(app, meeting_id, actor_id)

    @h.task(name="deliver")
    def deliver(delivery_id: int):
        from .notify import service

        with app.app_context():
            from . import db

            service.deliver(db.session, delivery_id, app.config)

    @h.task(name="notify_day")
    def notify_day(day_text: str | None = None):
        notify_run(app, day_text)

    # 08:30 China time is 00:30 UTC (China keeps no daylight saving time)
    @h.periodic_task(crontab(minute="30", hour="0"), name="daily_reminders")
    def daily_reminders():
        notify_run(app, None)

    @h.periodic_task(crontab(minute="35", hour="0"), name="cards_escalate")
    def cards_escalate():
        from . import db
        from .assessment import cards
        from .auth.system import SYSTEM

        with app.app_context():
            made = cards.escalate_overdue(db.session, SYSTEM, clock.today())
            db.session.commit()
            log.info("cards escalate: %s recommendation(s)", len(made))

    @h.periodic_task(crontab(minute="5"), name="uploads_cleanup")
    def uploads_cleanup():
        from . import uploads

        swept = uploads.stash_for(app).sweep()
        log.info("uploads cleanup: removed %s file(s)", swept.removed)

    @h.periodic_task(crontab(minute="*"), name="notify_events")
    def notify_events():
        """Every minute: what happened becomes notifications; messages due (new or to retry) are enqueued."""
        from . import db
        from .notify import service

        with app.app_context():
            service.sync_events(db.session, app.config)
            db.session.commit()
            for did in service.due_deliveries(db.session):
                deliver(did)
            db.session.commit()

    tasks.update(
        archive_briefing=archive_briefing,
        deliver=deliver,
        notify_day=notify_day,
        daily_reminders=daily_reminders,
        cards_escalate=cards_escalate,
        uploads_cleanup=uploads_cleanup,
        notify_events=notify_events,
    )
    app.extensions["tracker.huey"] = h
    app.extensions["tracker.tasks"] = tasks


def notify_run(app: Flask, day_text: str | None):
    """The daily reminder run, then each message due is enqueued for delivery."""
    from datetime import date

    from . import db
    from .notify import service

    with app.app_context():
        today = date.fromisoformat(day_text) if day_text else clock.today()
        result = service.run_day(db.session, today, app.config)
        db.session.commit()
        for did in service.due_deliveries(db.session):
            app.extensions["tracker.tasks"]["deliver"](did)
        db.session.commit()
        return result


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


# -- the held meeting's briefing archive ------------------------------------------------


def job_state(session: Session, kind: str, object_id: int):
    from .notify.models import JobState

    return session.scalar(select(JobState).where(JobState.kind == kind, JobState.object_id == object_id))


def queue_archive(session: Session, meeting_id: int, actor_id: int | None) -> None:
    """Record the archive as queued (the page shows 通报生成中 at once) and enqueue it after commit."""
    from .notify.models import QUEUED, JobState

    job = job_state(session, ARCHIVE, meeting_id)
    if job is None:
        job = JobState(kind=ARCHIVE, object_id=meeting_id)
        session.add(job)
    job.state, job.attempts, job.error, job.updated_at = QUEUED, 0, "", clock.now()
    session.flush()
    enqueue_after_commit(session, "archive_briefing", meeting_id, actor_id)


def run_archive(app: Flask, meeting_id: int, actor_id: int | None) -> None:
    """Render and archive the briefing; a failure is retried (up to 3 tries) and then kept with its reason."""
    from . import db
    from .auth.models import User
    from .auth.system import SYSTEM
    from .meetings.models import Meeting
    from .notify.models import DONE, JOB_FAILED, RUNNING
    from .reports import service as reports

    delay = float(app.config.get("QUEUE_RETRY_DELAY", 5))
    with app.app_context():
        s = db.session
        for attempt in range(1, ARCHIVE_ATTEMPTS + 1):
            job = job_state(s, ARCHIVE, meeting_id)
            if job is None or job.state in (DONE, JOB_FAILED):
                s.rollback()
                return
            job.state, job.attempts, job.updated_at = RUNNING, attempt, clock.now()
            s.commit()
            try:
                meeting = s.get(Meeting, meeting_id)
                actor = (s.get(User, actor_id) if actor_id else None) or SYSTEM
                reports.archive_briefing(s, actor, meeting)
                job = job_state(s, ARCHIVE, meeting_id)
                job.state, job.error, job.updated_at = DONE, "", clock.now()
                s.commit()
                return
            except Exception as e:
                s.rollback()
                log.warning("briefing archive of meeting %s failed (try %s): %s", meeting_id, attempt, type(e).__name__)
                job = job_state(s, ARCHIVE, meeting_id)
                job.error = f"{type(e).__name__}: {e}"[:500]
                job.updated_at = clock.now()
                if attempt == ARCHIVE_ATTEMPTS:
                    job.state = JOB_FAILED
                s.commit()
                if attempt < ARCHIVE_ATTEMPTS and delay:
                    time.sleep(delay * attempt)
