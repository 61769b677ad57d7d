"""Notifications: making them from the reminders, the channels the administrator sets, and delivering messages.

Writes follow the product's rules: validation here, constraints in the database, an audit event for every change
of a channel and for every run that made something new (a user marking a notification read changes only that
user's own read state and is not audited)."""

from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from .. import clock, policy
from ..audit.service import record
from ..auth.models import ROLE_OFFICER, ROLE_REVIEWER, User
from ..auth.system import SYSTEM
from ..errors import NotFound, StaleEdit, ValidationError
from ..org.models import Unit
from . import channels as senders
from . import reminders
from .models import (
    CHANNEL_LABELS,
    EMAIL,
    FAILED,
    PENDING,
    RETRY,
    SENDING,
    SENT,
    Channel,
    Delivery,
    Notification,
)

log = logging.getLogger(__name__)

EVENT_WINDOW = timedelta(days=7)  # what happened this long ago still becomes a notice (a worker that was down)
LEASE = timedelta(minutes=5)  # a message claimed by a worker that died is retried after this
MAX_ATTEMPTS = 3
BACKOFF = timedelta(minutes=1)  # 1 min, then 5 min, then 25 min …
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


# -- channels ----------------------------------------------------------------------


def _clean_channel(session: Session, kind: str, target: str, secret: str, unit_id, user_id) -> dict:
    kind = (kind or "").strip()
    if kind not in CHANNEL_LABELS:
        raise ValidationError("渠道类型须为 wecom(企业微信)、dingtalk(钉钉)或 email(电子邮件)")
    target, secret = (target or "").strip(), (secret or "").strip()
    if (unit_id is None) == (user_id is None):
        raise ValidationError("渠道须属于一个单位,或(电子邮件)属于一个用户")
    if unit_id is not None and session.get(Unit, unit_id) is None:
        raise NotFound("单位不存在")
    if user_id is not None:
        if session.get(User, user_id) is None:
            raise NotFound("用户不存在")
        if kind != EMAIL:
            raise ValidationError("按用户只能设置电子邮件渠道;机器人渠道按单位设置")
    if kind == EMAIL:
        if not _EMAIL.match(target) or len(target) > 254:
            raise ValidationError("请填写有效的电子邮件地址")
        secret = ""
    else:
        if not re.match(r"^https?://[^\s]+$", target) or len(target) > 500:
            raise ValidationError("请填写机器人的 Webhook 地址(http:// 或 https:// 开头)")
        if kind == "wecom":
            secret = ""
    if len(secret) > 200:
        raise ValidationError("加签密钥不能超过200个字符")
    return {"kind": kind, "target": target, "secret": secret, "unit_id": unit_id, "user_id": user_id}


def add_channel(
    session: Session, actor, *, kind: str, target: str, secret: str = "", unit_id=None, user_id=None, digest=False
) -> Channel:
    policy.require(actor, "notify.manage")
    fields = _clean_channel(session, kind, target, secret, unit_id, user_id)
    ch = Channel(**fields, digest=bool(digest), active=True, created_at=clock.now(), updated_at=clock.now())
    session.add(ch)
    session.flush()
    record(session, actor, "channel.create", ch, after=ch.snapshot(), summary=f"添加通知渠道:{ch.label}")
    return ch


def update_channel(
    session: Session, actor, channel_id: int, version: int | None, *, target: str, secret: str | None, digest, active
) -> Channel:
    """Change a channel; an empty `secret` keeps the stored one (it is never shown back)."""
    policy.require(actor, "notify.manage")
    ch = get_channel(session, channel_id)
    if version is not None and ch.version != version:
        raise StaleEdit("该渠道已被他人修改,请刷新后重试")
    before = ch.snapshot()
    fields = _clean_channel(session, ch.kind, target, secret or ch.secret, ch.unit_id, ch.user_id)
    ch.target, ch.secret = fields["target"], fields["secret"]
    ch.digest, ch.active, ch.updated_at = bool(digest), bool(active), clock.now()
    session.flush()
    record(session, actor, "channel.update", ch, before=before, after=ch.snapshot(), summary=f"修改通知渠道:{ch.label}")
    return ch


def delete_channel(session: Session, actor, channel_id: int, version: int | None) -> None:
    """Remove a channel; its delivery records stay, with the channel's masked label."""
    policy.require(actor, "notify.manage")
    ch = get_channel(session, channel_id)
    if version is not None and ch.version != version:
        raise StaleEdit("该渠道已被他人修改,请刷新后重试")
    record(session, actor, "channel.delete", ch, before=ch.snapshot(), summary=f"删除通知渠道:{ch.label}")
    session.execute(update(Delivery).where(Delivery.channel_id == ch.id).values(channel_id=None))
    session.delete(ch)
    session.flush()


def get_channel(session: Session, channel_id: int) -> Channel:
    ch = session.get(Channel, channel_id)
    if ch is None:
        raise NotFound("通知渠道不存在")
    return ch


def list_channels(session: Session) -> list[Channel]:
    return list(session.scalars(select(Channel).order_by(Channel.unit_id.is_(None), Channel.unit_id, Channel.id)))


# -- making notifications and messages ----------------------------------------------


def _insert_ignore(session: Session, model, rows: list[dict], columns: list[str]) -> int:
    """Insert rows, skipping those a unique constraint already holds (a rerun, a second worker)."""
    if not rows:
        return 0
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    n = 0
    for i in range(0, len(rows), 500):
        stmt = insert(model).values(rows[i : i + 500]).on_conflict_do_nothing(index_elements=columns)
        # the rows RETURNING gives back are those inserted (a driver's rowcount may be -1 here)
        n += len(session.execute(stmt.returning(model.id)).all())
    return n


def base_url(config: dict) -> str:
    return (config.get("BASE_URL") or "http://127.0.0.1:5000").rstrip("/")


def message_body(lines: list[str], link: str, config: dict) -> str:
    return "\n".join([*lines, f"查看:{base_url(config)}{link}"])


@dataclass
class RunResult:
    notices: int = 0
    notifications: int = 0
    messages: int = 0
    sent: Counter = field(default_factory=Counter)
    failed: Counter = field(default_factory=Counter)


def _recipients(session: Session) -> tuple[dict[int, list[int]], list[int]]:
    officers: dict[int, list[int]] = {}
    reviewers: list[int] = []
    for uid, role, unit_id in session.execute(
        select(User.id, User.role, User.unit_id).where(
            User.is_active.is_(True), User.role.in_((ROLE_OFFICER, ROLE_REVIEWER))
        )
    ):
        if role == ROLE_REVIEWER:
            reviewers.append(uid)
        elif unit_id is not None:
            officers.setdefault(unit_id, []).append(uid)
    return officers, reviewers


def make(session: Session, notices: list[reminders.Notice], config: dict, result: RunResult | None = None) -> RunResult:
    """Each notice to its users' notification centres and, once, to the channels of its unit and its users."""
    result = result or RunResult()
    result.notices += len(notices)
    officers, reviewers = _recipients(session)
    now = clock.now()
    rows, messages = [], []
    chans = list(session.scalars(select(Channel).where(Channel.active.is_(True), Channel.digest.is_(False))))
    for n in notices:
        users = reviewers if n.unit_id is None else officers.get(n.unit_id, [])
        for uid in users:
            rows.append(
                {
                    "user_id": uid,
                    "key": n.key,
                    "kind": n.kind,
                    "unit_id": n.unit_id,
                    "title": n.title[:300],
                    "body": n.body,
                    "link": n.link,
                    "created_at": now,
                }
            )
        for ch in chans:
            if (ch.unit_id is not None and ch.unit_id == n.unit_id) or (ch.user_id is not None and ch.user_id in users):
                messages.append(_message(ch, n.key, n.title, message_body(n.lines, n.link, config), now))
    result.notifications += _insert_ignore(session, Notification, rows, ["user_id", "key"])
    result.messages += _insert_ignore(session, Delivery, messages, ["channel_id", "key"])
    return result


def _message(ch: Channel, key: str, subject: str, body: str, now: datetime) -> dict:
    return {
        "channel_id": ch.id,
        "channel_label": ch.label[:300],
        "key": key,
        "subject": subject[:300],
        "body": body,
        "status": PENDING,
        "attempts": 0,
        "last_error": "",
        "created_at": now,
        "next_attempt_at": now,
    }


def digests(session: Session, today: date, config: dict, result: RunResult | None = None) -> RunResult:
    """A digest channel gets one message a day listing what its unit (or user) was notified of since the last."""
    result = result or RunResult()
    now = clock.now()
    messages = []
    for ch in session.scalars(select(Channel).where(Channel.active.is_(True), Channel.digest.is_(True))):
        last = session.scalar(
            select(func.max(Delivery.created_at)).where(Delivery.channel_id == ch.id, Delivery.key.like("digest:%"))
        )
        since = last or ch.created_at
        q = select(Notification).where(Notification.created_at > since, Notification.created_at <= now)
        q = (
            q.where(Notification.unit_id == ch.unit_id)
            if ch.unit_id is not None
            else q.where(Notification.user_id == ch.user_id)
        )
        seen, items = set(), []
        for n in session.scalars(q.order_by(Notification.created_at, Notification.id)):
            if n.key not in seen:
                seen.add(n.key)
                items.append(n)
        if not items:
            continue
        who = ch.unit.name if ch.unit is not None else ch.user.display_name
        lines = []
        for i, n in enumerate(items, 1):
            lines.append(f"{i}. {n.title}")
            lines += [f"   {line}" for line in n.body.splitlines()]
            lines.append(f"   查看:{base_url(config)}{n.link}")
        subject = f"{who} 每日提醒({today.year}年{today.month}月{today.day}日,共{len(items)}条)"
        messages.append(_message(ch, f"digest:{today}", subject, "\n".join(lines), now))
    result.messages += _insert_ignore(session, Delivery, messages, ["channel_id", "key"])
    return result


def sync_events(session: Session, config: dict) -> RunResult:
    """Notices for what happened in the last days (urges, returns, decisions, cards, meetings)."""
    result = make(session, reminders.events(session, clock.now() - EVENT_WINDOW), config)
    _audit_run(session, result, "事件")
    return result


def run_day(session: Session, today: date, config: dict) -> RunResult:
    """The daily run: recent events, the day's deadline reminders, then the digests."""
    result = make(
        session, reminders.events(session, clock.now() - EVENT_WINDOW) + reminders.day(session, today), config
    )
    digests(session, today, config, result)
    _audit_run(session, result, f"{today} 每日提醒")
    return result


def _audit_run(session: Session, result: RunResult, what: str) -> None:
    if result.notifications or result.messages:
        record(
            session,
            SYSTEM,
            "notify.run",
            object_type="Notification",
            object_id=None,
            after={"notifications": result.notifications, "messages": result.messages},
            summary=f"{what}:新通知{result.notifications}条,待发消息{result.messages}条",
        )


# -- delivering --------------------------------------------------------------------


def due_deliveries(session: Session) -> list[int]:
    """Messages waiting to be (re)sent now; a claim whose worker died is released first."""
    now = clock.now()
    session.execute(
        update(Delivery)
        .where(Delivery.status == SENDING, Delivery.next_attempt_at < now)
        .values(status=RETRY, last_error="发送中断(处理进程退出),将重试")
    )
    return list(
        session.scalars(
            select(Delivery.id)
            .where(
                Delivery.status.in_((PENDING, RETRY)),
                or_(Delivery.next_attempt_at.is_(None), Delivery.next_attempt_at <= now),
            )
            .order_by(Delivery.id)
        )
    )


def deliver(session: Session, delivery_id: int, config: dict) -> str | None:
    """Send one message if no other worker has: claim it (one UPDATE that only one transaction wins), commit,
    send, record the outcome. Returns the new status, or None when someone else had it or it was not due."""
    now = clock.now()
    claimed = session.execute(
        update(Delivery)
        .where(
            Delivery.id == delivery_id,
            Delivery.status.in_((PENDING, RETRY)),
            or_(Delivery.next_attempt_at.is_(None), Delivery.next_attempt_at <= now),
        )
        .values(status=SENDING, attempts=Delivery.attempts + 1, next_attempt_at=now + LEASE)
    ).rowcount
    session.commit()
    if claimed != 1:
        return None
    d = session.get(Delivery, delivery_id)
    ch = d.channel
    error = None
    if ch is None or not ch.active:
        error, final = "渠道已删除或停用", True
    else:
        try:
            senders.send(ch, d.subject, d.body, config)
        except senders.SendError as e:
            error, final = str(e), d.attempts >= int(config.get("NOTIFY_MAX_ATTEMPTS", MAX_ATTEMPTS))
        except Exception as e:  # never lose the claim: an unexpected error is a failed attempt too
            log.exception("delivery %s failed unexpectedly", delivery_id)
            error, final = f"内部错误:{type(e).__name__}", d.attempts >= MAX_ATTEMPTS
    now = clock.now()
    if error is None:
        d.status, d.sent_at, d.last_error, d.next_attempt_at = SENT, now, "", None
    elif final:
        d.status, d.last_error, d.next_attempt_at = FAILED, error[:500], None

        record(
            session,
            SYSTEM,
            "delivery.failed",
            d,
            after={"attempts": d.attempts, "error": d.last_error},
            summary=f"消息发送失败已放弃(第{d.attempts}次):{d.channel_label};{d.last_error}"[:500],
        )
    else:
        d.status, d.last_error = RETRY, error[:500]
        d.next_attempt_at = now + BACKOFF * (5 ** (d.attempts - 1))
    log.info("delivery %s: %s (attempt %s)", d.id, d.status, d.attempts)  # never the target or the secret
    session.commit()
    return d.status


def deliver_all(session: Session, config: dict, result: RunResult | None = None) -> RunResult:
    """Send what is due now, in this process (the CLI's `notify run`)."""
    result = result or RunResult()
    for did in due_deliveries(session):
        status = deliver(session, did, config)
        if status is None:
            continue
        d = session.get(Delivery, did)
        kind = d.channel.kind if d.channel else "?"
        (result.sent if status == SENT else result.failed)[kind] += 1
    session.commit()
    return result


def list_deliveries(session: Session, status: str | None = None, limit: int = 200) -> list[Delivery]:
    q = select(Delivery).order_by(Delivery.id.desc()).limit(limit)
    if status:
        q = q.where(Delivery.status == status)
    return list(session.scalars(q))


def retry_now(session: Session, actor, delivery_id: int) -> Delivery:
    """The administrator sends a given-up message again."""
    policy.require(actor, "notify.manage")
    d = session.get(Delivery, delivery_id)
    if d is None:
        raise NotFound("消息不存在")
    if d.status != FAILED:
        raise ValidationError("只有已放弃的消息可以重新发送")
    d.status, d.attempts, d.next_attempt_at = RETRY, 0, clock.now()
    record(session, actor, "delivery.retry", d, summary=f"重新发送消息:{d.subject}"[:500])
    return d


# -- the notification centre ---------------------------------------------------------


def unread_count(session: Session, user) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        )
        or 0
    )


def inbox(session: Session, user, only_unread: bool = False, limit: int = 100) -> list[Notification]:
    q = select(Notification).where(Notification.user_id == user.id)
    if only_unread:
        q = q.where(Notification.read_at.is_(None))
    return list(session.scalars(q.order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit)))


def mark_read(session: Session, user, notification_id: int | None = None) -> int:
    """Mark one of the user's own notifications read (or all of them): the user's read state, not audited."""
    q = update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    if notification_id is not None:
        if session.scalar(select(Notification.user_id).where(Notification.id == notification_id)) != user.id:
            raise NotFound("通知不存在")
        q = q.where(Notification.id == notification_id)
    return session.execute(q.values(read_at=clock.now())).rowcount or 0
