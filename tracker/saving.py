"""The one error path of every POST view: run the service call, commit, or turn a domain error into its response.

A view parses its form, then calls `save(lambda: service.something(...), ...)`, then flashes its success message and
redirects. When the service refuses (a domain error) or the row changed underneath (a stale edit), `save` rolls the
transaction back, flashes the Chinese message and ends the request with one of:

- 403 / 404 for `PermissionDenied` / `NotFound`;
- `page(409)` for a stale edit and `page(422)` for any other refusal: the form shown again with what the user typed
  (the page callable runs after the rollback, so it reloads what it shows; it returns the response, usually with
  the status it was given);
- else a redirect to `back` (the page the button was on).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import abort, flash, make_response, redirect
from sqlalchemy.orm.exc import StaleDataError

from . import db
from .errors import DomainError, NotFound, PermissionDenied, StaleEdit

T = TypeVar("T")

STALE = 409
REFUSED = 422


def save(
    write: Callable[[], T],
    *,
    back: str | None = None,
    page: Callable[[int], Any] | None = None,
    stale_message: str | None = None,
    stale_page: bool = True,
    form=None,
) -> T:
    """Run `write` and commit; return what it returned. A domain error ends the request (see the module).

    `stale_message` replaces the stale-edit message; `stale_page=False` answers a stale edit like any other
    refusal (a redirect to `back`) even when there is a form page. With `form`, a validation error that names
    fields of the form marks those fields (the page's error summary lists and links them) instead of a flashed
    message.
    """
    try:
        result = write()
        db.session.commit()
        return result
    except (StaleEdit, StaleDataError) as e:
        db.session.rollback()
        message = stale_message or (str(e) if isinstance(e, StaleEdit) else str(StaleEdit()))
        _refuse(message, page if stale_page else None, STALE, back)
    except DomainError as e:
        if isinstance(e, PermissionDenied):
            abort(403)
        if isinstance(e, NotFound):
            abort(404)
        db.session.rollback()
        fields = {n: text for n, text in getattr(e, "fields", {}).items() if form is not None and n in form}
        if fields and page is not None:
            for name, text in fields.items():
                form[name].errors = [*form[name].errors, text]
            abort(make_response(page(REFUSED)))
        _refuse(str(e), page, REFUSED, back)
    raise AssertionError("unreachable")  # pragma: no cover


def _refuse(message: str, page: Callable[[int], Any] | None, status: int, back: str | None):
    flash(message, "error")
    if page is not None:
        abort(make_response(page(status)))
    if back is None:
        raise ValueError("save() needs a page or a place to go back to")
    abort(redirect(back))
