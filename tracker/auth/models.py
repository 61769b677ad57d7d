"""Users and their roles."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import UTCDateTime, utcnow
from ..declarative import Base
from ..org.models import Unit
from ..policy import ROLE_ADMIN, ROLE_OFFICER, ROLE_REVIEWER

ROLE_LABELS = {ROLE_ADMIN: "系统管理员", ROLE_REVIEWER: "审核员", ROLE_OFFICER: "单位填报员"}


def new_session_token() -> str:
    return secrets.token_urlsafe(24)


class User(Base):
    """A person who logs in: administrator, reviewer (政法委) or a unit's officer."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('admin', 'reviewer', 'officer')", name="role"),
        CheckConstraint("role <> 'officer' OR unit_id IS NOT NULL", name="officer_has_unit"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    # Part of the login cookie; rotating it logs out every existing session of this user.
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    unit: Mapped[Unit | None] = relationship()

    __mapper_args__ = {"version_id_col": version}

    # flask-login protocol -----------------------------------------------
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    @property
    def role_label(self) -> str:
        return ROLE_LABELS[self.role]

    def snapshot(self) -> dict:
        return {
            "username": self.username,
            "display_name": self.display_name,
            "role": self.role,
            "unit_id": self.unit_id,
            "is_active": self.is_active,
        }
