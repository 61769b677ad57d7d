"""Request hardening for the whole app: bounded integer ids, no NUL bytes, and HTTPS seen through a trusted proxy."""

from __future__ import annotations

import logging

from flask import Flask, Request, current_app, has_request_context, request
from flask.sessions import SecureCookieSessionInterface
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.exceptions import BadRequest
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

log = logging.getLogger(__name__)

# Every id column is a 32-bit INTEGER on PostgreSQL; SQLite refuses values beyond 64 bits. A larger number in a URL
# can name no row, so it is answered like any other missing row (404) before it reaches the database.
MAX_ID = 2**31 - 1


class BoundedIntConverter(IntegerConverter):
    """`<int:…>` in every route, limited to the database's integer range."""

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_ID, signed=False):  # noqa: A002 (werkzeug's names)
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


class BoundedArgs(ImmutableMultiDict):
    """Query and form values: `get(key, type=int)` treats a number outside the integer range as absent."""

    def get(self, key, default=None, type=None):  # noqa: A002 (werkzeug's names)
        value = super().get(key, default, type)
        if type is int and isinstance(value, int) and not -MAX_ID - 1 <= value <= MAX_ID:
            return default
        return value


class TrackerRequest(Request):
    parameter_storage_class = BoundedArgs


class NulInRequest(BadRequest):
    """A NUL byte in the path, the query string or a form field: no text field may hold one (PostgreSQL refuses
    it, and it is never part of what a person types)."""

    description = "请求中含有不允许的空字符(NUL),请删除后重试。"


def _has_nul(values) -> bool:
    return any("\x00" in k or "\x00" in v for k, v in values.items(multi=True))


def reject_nul() -> None:
    if "\x00" in request.path or _has_nul(request.args):
        raise NulInRequest()
    if request.method in ("POST", "PUT", "PATCH") and request.mimetype in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        if _has_nul(request.form) or any("\x00" in (f.filename or "") for f in request.files.values()):
            raise NulInRequest()


LARGE_BODY_ATTR = "max_request_bytes"


def large_body(limit: int):
    """Mark a view that takes file attachments: its requests may be up to `limit` bytes instead of
    MAX_CONTENT_LENGTH (the limit is set before anything reads the body)."""

    def mark(view):
        setattr(view, LARGE_BODY_ATTR, limit)
        return view

    return mark


def raise_body_limit() -> None:
    view = current_app.view_functions.get(request.endpoint or "")
    limit = getattr(view, LARGE_BODY_ATTR, None)
    if limit:
        request.max_content_length = limit


class TrackerSessionInterface(SecureCookieSessionInterface):
    """The session cookie is Secure when configured so, and always when the request itself came over HTTPS
    (directly, or through a proxy trusted by TRACKER_PROXY_COUNT)."""

    def get_cookie_secure(self, app: Flask) -> bool:
        if app.config["SESSION_COOKIE_SECURE"]:
            return True
        return has_request_context() and request.is_secure


def init_app(app: Flask) -> None:
    """Install the converter and request class (before any route is added), the NUL check, the session interface
    and, with PROXY_COUNT > 0, ProxyFix trusting that many proxies for X-Forwarded-For/-Proto/-Host."""
    app.url_map.converters["int"] = BoundedIntConverter
    app.request_class = TrackerRequest
    app.session_interface = TrackerSessionInterface()
    app.before_request(raise_body_limit)  # before the NUL check and CSRF read the body
    app.before_request(reject_nul)
    count = int(app.config.get("PROXY_COUNT") or 0)
    if count > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)
