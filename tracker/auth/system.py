"""The actor of seeding, command-line runs and scheduled jobs."""

from __future__ import annotations

from ..policy import ROLE_ADMIN


class SystemActor:
    """An administrator that is nobody in particular (audit events name it "system")."""

    id = None
    username = "system"
    role = ROLE_ADMIN
    unit_id = None
    is_authenticated = True
    is_active = True
    is_system = True


SYSTEM = SystemActor()
