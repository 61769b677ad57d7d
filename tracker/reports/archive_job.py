"""The held meeting's briefing archive as a background job: queued in the transaction that asks for it, rendered
once that transaction commits (the request does not wait), retried up to three times, then kept with its reason."""

from __future__ import annotations

import logging
import time
from functools import cache

from flask import Flask
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from .. import clock, db
from ..auth.models import User
from ..auth.system import SYSTEM
from ..jobs import enqueue_after_commit
from ..meetings.models import Meeting
from ..notify.models import DONE, JOB_FAILED, QUEUED, RUNNING, JobState
from . import service

log = logging.getLogger(__name__)

ARCHIVE = "briefing.archive"
ARCHIVE_ATTEMPTS = 3


def job_state(session: Session, kind: str, object_id: int) -> JobState | None:
    return session.scalar(_job_query(), {"kind": kind, "object_id": object_id})


@cache
def _job_query():
    """`job_state`'s statement, built once (the meeting page reads it on every request)."""
    return select(JobState).where(JobState.kind == bindparam("kind"), JobState.object_id == bindparam("object_id"))


def queue_archive(session: Session, meeting_id: int, actor_id: int | None) -> None:
    """Record the archive as queued (the page shows 通报生成中 at once) and enqueue it after commit."""
    job = job_state(session, ARCHIVE, meeting_id)
    if job is None:
        job = JobState(kind=ARCHIVE, object_id=meeting_id)
        session.add(job)
    job.state, job.attempts, job.error, job.updated_at = QUEUED, 0, "", clock.now()
    session.flush()
    enqueue_after_commit(session, "archive_briefing", meeting_id, actor_id)


def run_archive(app: Flask, meeting_id: int, actor_id: int | None) -> None:
    """Render and archive the briefing; a failure is retried (up to 3 tries) and then kept with its reason."""
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
                service.archive_briefing(s, actor, meeting)
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
