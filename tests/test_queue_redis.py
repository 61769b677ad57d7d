"""Two real consumers (`flask --app tracker worker`) on one Redis queue deliver each message exactly once, even
when every message is enqueued twice. Skipped only when Redis does not answer."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from tracker import clock, create_app, jobs
from tracker.notify import service
from tracker.notify.models import Delivery

from .conftest import REDIS_URL, TEST_AUDIT_KEY, get_unit, get_user
from .notify_servers import Robot

ROOT = Path(__file__).resolve().parent.parent


def _redis_or_skip():
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.exceptions.RedisError:
        pytest.skip(f"Redis at {REDIS_URL} does not answer")


def test_two_consumers_on_redis_send_each_message_once(seeded, session, db_url, own_instance):
    _redis_or_skip()
    admin = get_user(session, "admin")
    towns = ["青石镇", "柳溪镇", "云岭镇", "白沙镇", "东湖街道", "南山街道"]
    with Robot() as robot:
        clock.freeze(datetime(2026, 11, 22, 8, 30, tzinfo=clock.CHINA_TZ))
        for name in towns:
            service.add_channel(
                session,
                admin,
                kind="wecom",
                target=f"{robot.url}/ok?key=K{get_unit(session, name).id:08d}",
                unit_id=get_unit(session, name).id,
            )
        result = service.run_day(session, date(2026, 11, 22), seeded.config)
        session.commit()
        assert result.messages == 6  # one due-in-3-days reminder per town
        clock.freeze(None)
        # messages due now (real time): enqueue each twice, as two app servers or a rerun might
        session.execute(Delivery.__table__.update().values(next_attempt_at=None))
        session.commit()
        queue_app = create_app({"DATABASE_URL": db_url, "QUEUE_URL": REDIS_URL, "SECRET_KEY": "x" * 40})
        huey = jobs.queue_for(queue_app).huey
        huey.flush()
        ids = session.scalars(select(Delivery.id)).all()
        for did in ids + ids:
            jobs.queue_for(queue_app).tasks["deliver"](did)
        env = {
            **os.environ,
            "TRACKER_DATABASE_URL": db_url,
            "TRACKER_QUEUE_URL": REDIS_URL,
            "TRACKER_INSTANCE_PATH": str(own_instance),
            "TRACKER_AUDIT_KEY": TEST_AUDIT_KEY,
            "TRACKER_SECRET_KEY": "x" * 40,
        }
        flask = [sys.executable, "-m", "flask", "--app", "tracker", "worker", "--workers", "2", "--no-periodic"]
        workers = [
            subprocess.Popen(flask, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for _ in range(2)
        ]
        try:
            deadline = time.monotonic() + 180  # starting a worker takes seconds, more on a busy machine
            while time.monotonic() < deadline:
                statuses = set(session.scalars(select(Delivery.status)))
                session.rollback()  # never hold SQLite's lock while the workers write
                if huey.pending_count() == 0 and statuses == {"sent"}:
                    break
                time.sleep(0.3)
        finally:
            for w in workers:
                w.terminate()
            for w in workers:
                w.wait(timeout=15)
            queue_app.extensions["tracker.engine"].dispose()
        assert set(session.scalars(select(Delivery.status))) == {"sent"}
        assert huey.pending_count() == 0
        # 12 tasks, 6 messages, each received once
        assert sorted(robot.subjects("/ok")) == sorted(f"{n}:2026年11月进展报告3天后截止" for n in towns)
        attempts = session.scalars(select(Delivery.attempts)).all()
        assert attempts == [1] * 6
        huey.flush()
