"""Domain errors raised by services and turned into messages by views."""

from __future__ import annotations

from collections.abc import Callable


class DomainError(Exception):
    """Base of every error a service raises on purpose; its text is shown to the user."""


class ValidationError(DomainError):
    """Input does not meet the rules. `fields` names the form fields at fault (field name -> what is wrong with it),
    so the page can mark each field and link to it from its error summary."""

    def __init__(self, message: str = "", fields: dict[str, str] | None = None):
        super().__init__(message)
        self.fields = dict(fields or {})


class WorkflowError(DomainError):
    """The requested transition is not allowed from the object's state."""


class PermissionDenied(DomainError):
    """The acting user may not do this."""


class NotFound(DomainError):
    """The object does not exist."""


class StaleEdit(DomainError):
    """Somebody else changed the object since the user loaded it."""

    def __init__(self, message: str = "该记录已被他人修改,请核对后重新保存。您填写的内容已保留在下方。"):
        super().__init__(message)


# What a unique constraint's violation means to the user: constraint name -> f(the row being written, column ->
# value) -> the domain error the service's own check raises for the same clash (see tracker.db).
_CONFLICTS: dict[str, Callable[[dict], DomainError]] = {}


def on_unique_violation(constraint: str, make_error: Callable[[dict], DomainError]) -> None:
    """Register the domain error that a violation of `constraint` (by its conventional name) becomes."""
    _CONFLICTS[constraint] = make_error


def conflict_error(constraint: str | None, row: dict) -> DomainError | None:
    """The domain error registered for `constraint`, made for `row`; None if there is none."""
    make_error = _CONFLICTS.get(constraint or "")
    return make_error(row) if make_error else None
