"""Notifications, outside channels (WeCom/DingTalk robots, e-mail), delivery records and background job states."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..auth.models import User
from ..db import UTCDateTime, utcnow
from ..declarative import Base
from ..org.models import Unit

WECOM, DINGTALK, EMAIL = "wecom", "dingtalk", "email"
CHANNEL_LABELS = {WECOM: "企业微信群机器人", DINGTALK: "钉钉群机器人", EMAIL: "电子邮件"}

# delivery states: waiting, being sent by one worker, sent, failed and to be retried, given up after the last try
PENDING, SENDING, SENT, RETRY, FAILED = "pending", "sending", "sent", "retry", "failed"
DELIVERY_LABELS = {PENDING: "待发送", SENDING: "发送中", SENT: "已发送", RETRY: "失败待重试", FAILED: "已放弃"}

# background job states
QUEUED, RUNNING, DONE, JOB_FAILED = "queued", "running", "done", "failed"


def mask(value: str, keep: int = 4) -> str:
    """A secret or webhook key shown as its last few characters only."""
    value = value or ""
    if not value:
        return ""
    return "****" + value[-keep:] if len(value) > keep * 2 else "****"


class Notification(Base):
    """One message in one user's notification centre; `key` names the reminder, so it is made once per user."""

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("user_id", "key"),
        Index("ix_notifications_user_id_read_at", "user_id", "read_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="", server_default="")
    link: Mapped[str] = mapped_column(String(300), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    unit: Mapped[Unit | None] = relationship()


class Channel(Base):
    """Where a unit's (or, for e-mail, one user's) messages go outside the product."""

    __tablename__ = "notify_channels"
    __table_args__ = (
        CheckConstraint("kind IN ('wecom', 'dingtalk', 'email')", name="kind"),
        CheckConstraint("(unit_id IS NULL) <> (user_id IS NULL)", name="owner"),
        CheckConstraint("user_id IS NULL OR kind = 'email'", name="user_email"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    target: Mapped[str] = mapped_column(String(500))
    secret: Mapped[str] = mapped_column(String(200), default="", server_default="")
    digest: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    unit: Mapped[Unit | None] = relationship()
    user: Mapped[User | None] = relationship()

    __mapper_args__ = {"version_id_col": version}

    @property
    def kind_label(self) -> str:
        return CHANNEL_LABELS[self.kind]

    @property
    def owner_label(self) -> str:
        if self.unit is not None:
            return self.unit.name
        return f"{self.user.display_name}({self.user.username})" if self.user else "—"

    @property
    def target_masked(self) -> str:
        """An e-mail address is shown; a webhook's access token or key is not."""
        if self.kind == EMAIL:
            return self.target
        base, sep, query = self.target.partition("?")
        if not sep:
            return mask(self.target, 6)
        parts = []
        for pair in query.split("&"):
            name, eq, value = pair.partition("=")
            parts.append(f"{name}={mask(value)}" if eq else pair)
        return f"{base}?{'&'.join(parts)}"

    @property
    def label(self) -> str:
        return f"{self.owner_label} · {self.kind_label} · {self.target_masked}"

    def snapshot(self) -> dict:
        """What the audit trail keeps: never the key or the secret."""
        return {
            "unit_id": self.unit_id,
            "user_id": self.user_id,
            "kind": self.kind,
            "target": self.target_masked,
            "secret": "****" if self.secret else "",
            "digest": self.digest,
            "active": self.active,
        }


class Delivery(Base):
    """One message to one channel: sent, failed with its reason and retried with backoff, or given up.

    (channel, key) is unique: the same reminder for the same item and day goes out once, whoever enqueues it."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("channel_id", "key"),
        CheckConstraint("status IN ('pending', 'sending', 'sent', 'retry', 'failed')", name="status"),
        Index("ix_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int | None] = mapped_column(ForeignKey("notify_channels.id", ondelete="SET NULL"))
    channel_label: Mapped[str] = mapped_column(String(300), default="", server_default="")
    key: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=PENDING, server_default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_error: Mapped[str] = mapped_column(String(500), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    channel: Mapped[Channel | None] = relationship()

    @property
    def status_label(self) -> str:
        return DELIVERY_LABELS[self.status]


class JobState(Base):
    """The state of a background job the pages wait for (the held meeting's briefing archive)."""

    __tablename__ = "job_states"
    __table_args__ = (
        UniqueConstraint("kind", "object_id"),
        CheckConstraint("state IN ('queued', 'running', 'done', 'failed')", name="state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    object_id: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16), default=QUEUED, server_default=QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    error: Mapped[str] = mapped_column(String(500), default="", server_default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
