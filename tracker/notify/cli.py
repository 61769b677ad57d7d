"""`flask --app tracker notify …` and `flask --app tracker worker`."""

from __future__ import annotations

from datetime import date

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select

from .. import clock, db, jobs
from ..auth.system import SYSTEM
from ..errors import DomainError

# the services and models are imported by the commands that use them: a group's or a command's help imports none

notify_cli = AppGroup("notify", help="Reminders, notification channels and message delivery.")
channels_cli = AppGroup("channels", help="Where a unit's (or a user's) messages go: WeCom, DingTalk, e-mail.")
notify_cli.add_command(channels_cli)


@channels_cli.command("add")
@click.option("--unit", "unit_name", help="The unit (name or other name).")
@click.option("--user", "username", help="A user (e-mail channels only).")
@click.option("--kind", type=click.Choice(["wecom", "dingtalk", "email"]), required=True)
@click.option("--target", required=True, help="The robot's webhook URL or the e-mail address.")
@click.option("--secret", default="", help="DingTalk's 加签 secret.")
@click.option("--digest", is_flag=True, help="One daily digest instead of single messages.")
def channels_add(unit_name, username, kind, target, secret, digest) -> None:
    """Add a channel (audited as the system actor; the key and secret are never printed)."""
    from ..auth.models import User
    from ..plans.service import find_unit
    from . import service

    unit_id = user_id = None
    if unit_name:
        unit = find_unit(db.session, unit_name)
        if unit is None:
            raise click.ClickException(f"单位“{unit_name}”不存在")
        unit_id = unit.id
    if username:
        user = db.session.scalar(select(User).where(User.username == username))
        if user is None:
            raise click.ClickException(f"用户“{username}”不存在")
        user_id = user.id
    try:
        ch = service.add_channel(
            db.session,
            SYSTEM,
            kind=kind,
            target=target,
            secret=secret,
            unit_id=unit_id,
            user_id=user_id,
            digest=digest,
        )
        db.session.commit()
    except DomainError as e:
        raise click.ClickException(str(e)) from None
    click.echo(f"channel #{ch.id} added: {ch.label}")


@channels_cli.command("list")
def channels_list() -> None:
    """Every channel, its key and secret masked."""
    from . import service

    rows = service.list_channels(db.session)
    for ch in rows:
        flags = ", ".join(
            f
            for f in ("digest" if ch.digest else "", "inactive" if not ch.active else "", "signed" if ch.secret else "")
            if f
        )
        click.echo(f"#{ch.id} {ch.owner_label} {ch.kind} {ch.target_masked}" + (f" ({flags})" if flags else ""))
    click.echo(f"{len(rows)} channel(s)")


@notify_cli.command("run")
@click.option("--today", "today_text", default=None, help="The China date to remind for, YYYY-MM-DD (default today).")
def notify_run(today_text: str | None) -> None:
    """What the daily task does, once, now: make the day's notifications and send the messages due.
    A second run for the same day sends nothing new."""
    from . import service

    try:
        today = date.fromisoformat(today_text) if today_text else clock.today()
    except ValueError:
        raise click.ClickException("日期格式应为 YYYY-MM-DD") from None
    config = current_app.config
    result = service.run_day(db.session, today, config)
    db.session.commit()
    service.deliver_all(db.session, config, result)
    click.echo(f"{today}: {result.notices} reminder(s), {result.notifications} new notification(s)")
    for kind in ("wecom", "dingtalk", "email"):
        click.echo(f"{kind}: {result.sent[kind]} sent, {result.failed[kind]} failed")


@click.command("worker")
@with_appcontext
@click.option("--workers", type=int, default=2, help="Threads executing tasks.")
@click.option("--no-periodic", is_flag=True, help="Do not run the periodic tasks (another worker does).")
def worker_command(workers: int, no_periodic: bool) -> None:
    """Run the job queue's consumer (Huey) with the periodic tasks: reminders at 08:30 China time, cards escalate,
    uploads cleanup, and every minute the new notifications and the messages due."""
    import logging

    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    huey = jobs.queue_for(current_app).huey
    if huey.immediate:
        raise click.ClickException("the queue is in immediate mode (TESTING): nothing to consume")
    consumer = huey.create_consumer(
        workers=workers, worker_type="thread", periodic=not no_periodic, check_worker_health=True
    )
    consumer.run()
