"""Domain errors raised by services and turned into messages by views."""


class DomainError(Exception):
    """Base of every error a service raises on purpose; its text is shown to the user."""


class ValidationError(DomainError):
    """Input does not meet the rules."""


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
