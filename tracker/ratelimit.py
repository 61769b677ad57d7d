"""Where login throttling keeps its counts: Redis when configured or when one answers on this machine, else each
process's memory with the limits divided by the number of worker processes."""

from __future__ import annotations

import logging
import os
import socket
from urllib.parse import urlsplit

from flask import Flask
from limits import parse
from limits.errors import ConfigurationError
from limits.storage import SCHEMES
from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)

LIMIT_KEYS = ("RATELIMIT_LOGIN", "RATELIMIT_LOGIN_IP")


def redis_answers(uri: str, timeout: float = 0.3) -> bool:
    """Whether a Redis server answers PING at the URI's host and port (no client library, no wait beyond timeout)."""
    url = urlsplit(uri)
    if url.scheme != "redis":
        return False
    try:
        with socket.create_connection((url.hostname or "127.0.0.1", url.port or 6379), timeout=timeout) as s:
            s.settimeout(timeout)
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def divide(limit: str, workers: int) -> str:
    """'10 per minute' shared by 2 processes → '5 per 1 minute' in each (at least 1)."""
    item = parse(limit)
    return f"{max(1, item.amount // workers)} per {item.multiples} {item.GRANULARITY.name}"


def worker_count(config) -> int:
    return max(1, int(config.get("WORKERS") or os.environ.get("WEB_CONCURRENCY") or 1))


def configure(app: Flask) -> None:
    """Resolve RATELIMIT_STORAGE_URI before the limiter starts, and say at start-up which store is used."""
    config = app.config
    if not config.get("RATELIMIT_ENABLED", True):
        return
    uri = config.get("RATELIMIT_STORAGE_URI")
    if not uri:
        probe = config.get("RATELIMIT_REDIS_PROBE")
        if probe and redis_answers(probe):
            uri = probe
            log.info("login throttling: Redis at %s answered, shared by every worker process", probe)
        else:
            uri = "memory://"
    if urlsplit(uri).scheme not in SCHEMES:
        # the limiter opens its store at the first request: an unusable URI still stops the start-up
        raise ConfigurationError(f"unknown storage scheme : {uri}")
    config["RATELIMIT_STORAGE_URI"] = uri
    if uri.startswith("memory"):
        workers = worker_count(config)
        config["RATELIMIT_DIVIDED_BY"] = workers
        if workers > 1:
            for key in LIMIT_KEYS:
                config[key] = divide(config[key], workers)
        log.warning(
            "login throttling: in this process's memory; %d worker process(es), so each allows %s per address and "
            "user (set TRACKER_RATELIMIT_STORAGE_URI=redis://… to count across processes)",
            workers,
            config["RATELIMIT_LOGIN"],
        )
    else:
        # a Redis outage must not break the login page: count in memory until it is back
        config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
        if config.get("RATELIMIT_REDIS_PROBE") != uri:
            log.info("login throttling: %s", make_url(uri).render_as_string(hide_password=True))
