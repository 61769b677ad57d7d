"""Login throttling across worker processes: two processes sharing Redis let through exactly the limit in total; without
Redis each process allows its share, so two processes together never exceed it."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tracker import create_app
from tracker.ratelimit import redis_answers

from .conftest import REDIS_URL

ROOT = Path(__file__).resolve().parents[1]

# One worker process: its own app, 15 wrong passwords for one account, the status codes counted.
WORKER = """
import json, sys
from tracker import create_app
url, storage, prefix, attempts = sys.argv[1:5]
config = {"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "k" * 32, "WTF_CSRF_ENABLED": False,
          "RATELIMIT_ENABLED": True, "RATELIMIT_KEY_PREFIX": prefix}
if storage.startswith("probe:"):  # nothing configured: the app looks for Redis at start-up, as `make run` does
    config["RATELIMIT_REDIS_PROBE"] = storage[len("probe:"):]
else:
    config["RATELIMIT_STORAGE_URI"] = storage
app = create_app(config)
client = app.test_client()
codes = [client.post("/login", data={"username": "reviewer", "password": "wrong"}).status_code
         for _ in range(int(attempts))]
print(json.dumps({"tried": codes.count(200), "refused": codes.count(429),
                  "storage": app.config["RATELIMIT_STORAGE_URI"], "limit": app.config["RATELIMIT_LOGIN"]}))
"""


def _two_workers(db_url: str, storage: str, prefix: str, env: dict | None = None) -> list[dict]:
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, db_url, storage, prefix, "15"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **(env or {})},
        )
        for _ in range(2)
    ]
    results = []
    for p in procs:
        out, err = p.communicate(timeout=180)
        assert p.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


@pytest.fixture
def redis_prefix():
    if not redis_answers(REDIS_URL):
        pytest.skip(f"no Redis at {REDIS_URL}")
    import redis

    prefix = f"tracker-test-{uuid.uuid4().hex[:12]}"
    yield prefix
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(match=f"*{prefix}*"):  # only this test's keys
        client.delete(key)
    client.close()


def test_two_processes_sharing_redis_let_through_exactly_ten_wrong_passwords(seeded, db_url, redis_prefix):
    results = _two_workers(db_url, f"probe:{REDIS_URL}", redis_prefix, env={"WEB_CONCURRENCY": "2"})
    assert {r["storage"] for r in results} == {REDIS_URL}
    # 2 processes × 15 attempts = 30; the limit is 10 per minute for the address and user, counted in Redis
    assert sum(r["tried"] for r in results) == 10
    assert sum(r["refused"] for r in results) == 20  # 30 - 10
    assert {r["limit"] for r in results} == {"10 per minute"}  # not divided: the count is shared


def test_two_processes_without_redis_each_allow_half(seeded, db_url):
    results = _two_workers(db_url, "memory://", uuid.uuid4().hex, env={"WEB_CONCURRENCY": "2"})
    # 10 per minute shared by 2 workers: 10 // 2 = 5 in each, 5 + 5 = 10 at most across both
    assert [r["tried"] for r in results] == [5, 5]
    assert sum(r["tried"] for r in results) <= 10


def _probe_app(db_url, probe, caplog, **config):
    with caplog.at_level(logging.INFO, logger="tracker.ratelimit"):
        app = create_app(
            {"DATABASE_URL": db_url, "SECRET_KEY": "k" * 32, "RATELIMIT_REDIS_PROBE": probe, "WORKERS": 2, **config}
        )
    app.extensions["tracker.engine"].dispose()
    return app


def test_without_a_configured_store_redis_is_used_when_it_answers(db_url, caplog):
    if not redis_answers(REDIS_URL):
        pytest.skip(f"no Redis at {REDIS_URL}")
    app = _probe_app(db_url, REDIS_URL, caplog)
    assert app.config["RATELIMIT_STORAGE_URI"] == REDIS_URL
    assert app.config["RATELIMIT_LOGIN"] == "10 per minute"
    assert f"Redis at {REDIS_URL} answered" in caplog.text


def test_without_redis_the_limits_are_divided_and_the_log_says_so(db_url, caplog):
    app = _probe_app(db_url, "redis://127.0.0.1:1/0", caplog)  # port 1: nothing answers
    assert app.config["RATELIMIT_STORAGE_URI"] == "memory://"
    assert app.config["RATELIMIT_LOGIN"] == "5 per 1 minute"  # 10 // 2
    assert app.config["RATELIMIT_LOGIN_IP"] == "150 per 1 minute"  # 300 // 2
    assert "in this process's memory; 2 worker process(es)" in caplog.text


def test_a_configured_store_is_used_as_given(db_url, caplog):
    app = _probe_app(db_url, "redis://127.0.0.1:1/0", caplog, RATELIMIT_STORAGE_URI="memory://", WORKERS=1)
    assert app.config["RATELIMIT_STORAGE_URI"] == "memory://" and app.config["RATELIMIT_LOGIN"] == "10 per minute"


def test_check_deploy_still_flags_divided_memory_limits(tmp_path, monkeypatch):
    from tracker.ops import check_deploy

    monkeypatch.setenv("TRACKER_SECRET_KEY", "x")
    config = {
        "SECRET_KEY": "3f9a1c0b7e2d4a6f8b1c3e5d7f9a0b2c4d6e8f0a",
        "SESSION_COOKIE_SECURE": True,
        "RATELIMIT_STORAGE_URI": "memory://",
        "RATELIMIT_LOGIN": "5 per 1 minute",
        "RATELIMIT_DIVIDED_BY": 2,
        "AUDIT_KEY": "8c2e4a6b0d1f3e5a7c9b2d4f6a8e0c1b3d5f7a9c",
    }
    problems = check_deploy(config, workers=2, instance_path=str(tmp_path))
    assert [p.key for p in problems] == ["ratelimit"] and "均分" in problems[0].message
