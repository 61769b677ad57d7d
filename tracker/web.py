"""Small helpers every blueprint uses: policy checks that abort, loaders, the POST-only button form."""

from __future__ import annotations

from typing import NoReturn
from urllib.parse import urlsplit

from flask import Response, abort, flash, make_response, render_template
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField
from wtforms.validators import Optional

from . import db, policy
from .errors import DomainError, NotFound, PermissionDenied
from .xlsx import MIMETYPE as XLSX


class EmptyForm(FlaskForm):
    """A form with only the CSRF token (and the version being acted on) for POST-only buttons."""

    version = IntegerField(validators=[Optional()])
    next = HiddenField()


def require(action: str, obj=None) -> None:
    """Abort with 403 unless the current user may."""
    if not policy.can(current_user, action, obj):
        abort(403)


def get_or_404(model, ident: int, options: list | None = None):
    obj = db.session.get(model, ident, options=options)
    if obj is None:
        abort(404)
    return obj


def error_page(code: int, message: str) -> NoReturn:
    """End the request with the error page saying what was wrong (`message`), not only its status's generic text."""
    abort(make_response(render_template("errors/error.html", code=code, message=message), code))


def flash_error(e: DomainError) -> None:
    """Map a domain error to the response: 403/404 abort, anything else a flashed message."""
    if isinstance(e, PermissionDenied):
        abort(403)
    if isinstance(e, NotFound):
        abort(404)
    db.session.rollback()
    flash(str(e), "error")


def xlsx_response(data: bytes, filename: str) -> Response:
    """An .xlsx file handed over as a download named filename."""
    resp = Response(data, mimetype=XLSX)
    resp.headers["Content-Disposition"] = f"attachment; filename=\"{filename}\"; filename*=UTF-8''{filename}"
    return resp


def safe_next(target: str | None) -> str | None:
    """Only same-site relative paths are followed after login."""
    if not target:
        return None
    target = target.strip()
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    return target
