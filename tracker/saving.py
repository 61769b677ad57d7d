"""The one error path of every POST view: run the service call, commit, or turn a domain error into its response.

A view parses its form, then calls `save(lambda: service.something(...), ...)`, then flashes its success message and
redirects. When the service refuses (a domain error) or the row changed underneath (a stale edit), `save` rolls the
transaction back, flashes the Chinese message and ends the request with one of:

- 403 / 404 for `PermissionDenied` / `NotFound`;
- `page(409)` for a stale edit and `page(422)` for any other refusal: the form shown again with what the user typed
  (the page callable runs after the rollback, so it reloads what it shows; it returns the response, usually with
  the status it was given);
- else a redirect to `back` (the page the button was on).

A constraint violation (`IntegrityError`) at flush or commit is a stale edit too: a concurrent request wrote the row
this one meant to write (a unique key taken, a parent deleted) between the service's checks and the commit. A
violation that has its own domain error (`tracker.errors.on_unique_violation`) arrives as that error instead. The
transaction is rolled back, so nothing of the request is written, and the user is answered as for any stale edit:
409 with the form, or the stale message and a redirect. The violation is logged, so a constraint met this way can be
given its own message. Outside `save` the app's error handler answers it as a conflict too (its 409 page, nothing
written); the metrics grid's own ladder answers it as here (409, the stale message).

A step that writes nothing (reading an upload, checking a signed state) may run through `save` as well, so that
its refusal is answered the same way; committing an unchanged session writes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from flask import abort, flash, make_response, redirect, request
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from . import db
from .errors import DomainError, NotFound, PermissionDenied, StaleEdit

T = TypeVar("T")
log = logging.getLogger(__name__)

STALE = 409
REFUSED = 422
# the stale message of a confirmed import (metrics, publicity): the whole file is written or nothing of it
STALE_IMPORT = "导入时发现数据已被他人修改,本次未写入任何数据,请重新上传核对。"


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
    except (StaleEdit, StaleDataError, IntegrityError) as e:
        db.session.rollback()
        if isinstance(e, IntegrityError):
            log.warning("constraint violated on %s: %s", request.path, e.orig)
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
