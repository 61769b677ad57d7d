"""Configuration defaults; TRACKER_* environment variables override them."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


class Defaults:
    DISTRICT_NAME = "开发区"
    DEMO_PASSWORD = "demo-2026"
    MAX_CONTENT_LENGTH = 5 * 1024 * 1024
    UPLOAD_PENDING_PER_USER = 3  # previews of one user that can still be confirmed; a new one replaces the oldest
    UPLOAD_MAX_PENDING_BYTES = 64 * 1024 * 1024  # all pending previews together
    RATELIMIT_STORAGE_URI = None  # unset: Redis at RATELIMIT_REDIS_PROBE if it answers at start-up, else memory
    RATELIMIT_REDIS_PROBE = "redis://127.0.0.1:6379/0"
    RATELIMIT_KEY_PREFIX = "tracker"
    RATELIMIT_LOGIN = "10 per minute"  # per address and username
    RATELIMIT_LOGIN_IP = "300 per minute"  # per address, all usernames together
    RATELIMIT_HEADERS_ENABLED = True
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_HTTPONLY = True
    WTF_CSRF_TIME_LIMIT = None
    PREFERRED_URL_SCHEME = "http"
    QUEUE_URL = None  # unset: Huey's SQLite storage in instance/queue.db; redis://… to share one queue
    QUEUE_RETRY_DELAY = 5  # seconds before a failed background job (the briefing archive) is tried again
    BASE_URL = "http://127.0.0.1:5000"  # links in messages sent outside the product
    SMTP_URL = None  # smtp://user:password@host:587?starttls=1 or smtps://…
    MAIL_FROM = "tracker@localhost"
    NOTIFY_TIMEOUT = 10  # seconds a robot or the mail server may take to answer
    NOTIFY_MAX_ATTEMPTS = 3  # a message failing this many times is given up (retried after 1, then 5 minutes)
    PROXY_COUNT = 0  # reverse proxies in front of the app whose X-Forwarded-* headers are trusted


def default_database_url(instance_path: str) -> str:
    return f"sqlite:///{Path(instance_path) / 'tracker.db'}"


def load_secret_key(instance_path: str, name: str = "secret_key") -> str:
    """The key from instance/<name> (secret_key, audit_key), generated once with 0600 permissions."""
    path = Path(instance_path) / name
    if path.exists():
        key = path.read_text().strip()
        if key:
            return key
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key)
    return key
