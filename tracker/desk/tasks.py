"""The queue's tasks and periodic tasks (China time): each calls into the area whose work it runs."""

from __future__ import annotations

import logging
from datetime import date

from flask import Flask

from .. import clock, db, jobs, uploads
from ..assessment import cards
from ..auth.system import SYSTEM
from ..notify import service as notify
from ..reports.archive_job import run_archive

log = logging.getLogger(__name__)


def register(app: Flask) -> None:
    """Have the app's queue bind these tasks when its Huey instance is made (on first use)."""
    jobs.queue_for(app).add_binder(bind)


def bind(app: Flask, h) -> dict:
    """The tasks and periodic tasks on the Huey instance `h`, by name."""
    from huey import crontab

    @h.task(name="archive_briefing")
    def archive_briefing(meeting_id: int, actor_id: int | None):
        run_archive(app, meeting_id, actor_id)

    @h.task(name="deliver")
    def deliver(delivery_id: int):
        with app.app_context():
            notify.deliver(db.session, delivery_id, app.config)

    @h.task(name="notify_day")
    def notify_day(day_text: str | None = None):
        notify_run(app, day_text)

    # 08:30 China time is 00:30 UTC (China keeps no daylight saving time)
    @h.periodic_task(crontab(minute="30", hour="0"), name="daily_reminders")
    def daily_reminders():
        notify_run(app, None)

    @h.periodic_task(crontab(minute="35", hour="0"), name="cards_escalate")
    def cards_escalate():
        with app.app_context():
            made = cards.escalate_overdue(db.session, SYSTEM, clock.today())
            db.session.commit()
            log.info("cards escalate: %s recommendation(s)", len(made))

    @h.periodic_task(crontab(minute="5"), name="uploads_cleanup")
    def uploads_cleanup():
        swept = uploads.stash_for(app).sweep()
        log.info("uploads cleanup: removed %s file(s)", swept.removed)

    @h.periodic_task(crontab(minute="*"), name="notify_events")
    def notify_events():
        """Every minute: what happened becomes notifications; messages due (new or to retry) are enqueued."""
        with app.app_context():
            notify.sync_events(db.session, app.config)
            db.session.commit()
            for did in notify.due_deliveries(db.session):
                deliver(did)
            db.session.commit()

    return dict(
        archive_briefing=archive_briefing,
        deliver=deliver,
        notify_day=notify_day,
        daily_reminders=daily_reminders,
        cards_escalate=cards_escalate,
        uploads_cleanup=uploads_cleanup,
        notify_events=notify_events,
    )


def notify_run(app: Flask, day_text: str | None):
    """The daily reminder run, then each message due is enqueued for delivery."""
    with app.app_context():
        today = date.fromisoformat(day_text) if day_text else clock.today()
        result = notify.run_day(db.session, today, app.config)
        db.session.commit()
        for did in notify.due_deliveries(db.session):
            jobs.queue_for(app).tasks["deliver"](did)
        db.session.commit()
        return result
