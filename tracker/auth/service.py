"""Users: authentication, creation, disabling, password resets, moving between units."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload
from werkzeug.security import check_password_hash, generate_password_hash

from .. import policy
from ..audit.service import record
from ..errors import NotFound, StaleEdit, ValidationError, on_unique_violation
from ..org.models import Unit
from .models import ROLE_LABELS, ROLE_OFFICER, User, new_session_token

MIN_PASSWORD = 8
# Werkzeug's default (scrypt). Only the test suite lowers it, to keep hundreds of logins fast.
HASH_METHOD: str | None = None


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=HASH_METHOD) if HASH_METHOD else generate_password_hash(password)


# A valid hash no password matches (Werkzeug's default scrypt of a random password, since discarded), so unknown
# usernames cost as much time as known ones. Written out rather than computed at import: hashing it cost every
# process, and every command, a tenth of a second of CPU before doing anything.
_DUMMY_HASH = (
    "scrypt:32768:8:1$MkwUgjyte0vyaiGE$5648d50bb20fd6ab846afb2730a2c5322e240e799d988484e518605c6011dc83066927f99a8934b"
    "1b8ca38322b87cb453decd77a69bb2d2c6aafadff0d69115e"
)


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with these credentials, or None."""
    user = session.scalar(select(User).where(User.username == (username or "").strip()))
    if user is None:
        check_password_hash(_DUMMY_HASH, password or "")
        return None
    if not check_password_hash(user.password_hash, password or "") or not user.is_active:
        return None
    return user


def load_from_cookie(session: Session, token: str) -> User | None:
    """Resolve flask-login's id "user_id:session_token"; a stale token or a disabled user gives None."""
    user_id, _, session_token = (token or "").partition(":")
    if not user_id.isdigit() or not session_token:
        return None
    # every page's header shows the user's unit: load it with the user rather than in a second query
    user = session.get(User, int(user_id), options=[joinedload(User.unit)])
    if user is None or not user.is_active or user.session_token != session_token:
        return None
    return user


def _check_password(password: str) -> None:
    if len(password or "") < MIN_PASSWORD:
        raise ValidationError(f"密码至少{MIN_PASSWORD}位")
    if not (re.search(r"[A-Za-z]", password) and re.search(r"\d", password)):
        raise ValidationError("密码须同时包含字母和数字")


def _get(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("用户不存在")
    return user


def _check_version(obj, version: int | None) -> None:
    if version is not None and obj.version != version:
        raise StaleEdit()


def _username_taken(username: str) -> ValidationError:
    return ValidationError(f"用户名“{username}”已存在")


# the same answer when another transaction created the login between the check and the write
on_unique_violation("uq_users_username", lambda row: _username_taken(row.get("username", "")))


def create_user(
    session: Session, actor, *, username: str, display_name: str, role: str, unit_id: int | None, password: str
) -> User:
    """Create a login; officers must belong to an active unit."""
    policy.require(actor, "user.manage")
    username = (username or "").strip()
    if not re.fullmatch(r"[A-Za-z0-9_.-]{2,64}", username):
        raise ValidationError("用户名须为2至64位字母、数字、下划线、点或连字符")
    if session.scalar(select(User.id).where(User.username == username)):
        raise _username_taken(username)
    if role not in ROLE_LABELS:
        raise ValidationError("角色无效")
    unit = _resolve_unit(session, role, unit_id)
    _check_password(password)
    user = User(
        username=username,
        display_name=(display_name or "").strip() or username,
        role=role,
        unit_id=unit.id if unit else None,
        password_hash=hash_password(password),
    )
    session.add(user)
    record(session, actor, "user.create", user, summary=f"新建用户 {username}")
    return user


def _resolve_unit(session: Session, role: str, unit_id: int | None) -> Unit | None:
    if role != ROLE_OFFICER:
        return session.get(Unit, unit_id) if unit_id else None
    unit = session.get(Unit, unit_id) if unit_id else None
    if unit is None:
        raise ValidationError("单位填报员必须属于一个单位")
    if not unit.is_active:
        raise ValidationError(f"单位“{unit.name}”已停用")
    return unit


def update_user(
    session: Session,
    actor,
    user_id: int,
    version: int,
    *,
    display_name: str,
    role: str,
    unit_id: int | None,
    is_active: bool,
) -> User:
    """Rename, change role, move to another unit, or disable/enable a user."""
    policy.require(actor, "user.manage")
    user = _get(session, user_id)
    _check_version(user, version)
    if role not in ROLE_LABELS:
        raise ValidationError("角色无效")
    if user.id == actor.id and (not is_active or role != user.role):
        raise ValidationError("不能停用自己或修改自己的角色")
    before = user.snapshot()
    unit = _resolve_unit(session, role, unit_id)
    user.display_name = (display_name or "").strip() or user.username
    user.role = role
    user.unit_id = unit.id if unit else None
    if user.is_active and not is_active:
        user.session_token = new_session_token()
    user.is_active = is_active
    record(session, actor, "user.update", user, before=before, summary=f"修改用户 {user.username}")
    return user


def reset_password(session: Session, actor, user_id: int, new_password: str) -> User:
    """Set a new password for a user; their sessions end."""
    policy.require(actor, "user.manage")
    user = _get(session, user_id)
    _check_password(new_password)
    user.password_hash = hash_password(new_password)
    user.session_token = new_session_token()
    record(session, actor, "user.reset_password", user, summary=f"重置用户 {user.username} 的密码")
    return user


def change_own_password(session: Session, user: User, old_password: str, new_password: str) -> User:
    """A user changes their own password; every other session of theirs ends."""
    if not check_password_hash(user.password_hash, old_password or ""):
        raise ValidationError("原密码不正确")
    _check_password(new_password)
    if old_password == new_password:
        raise ValidationError("新密码不能与原密码相同")
    user.password_hash = hash_password(new_password)
    user.session_token = new_session_token()
    record(session, user, "user.change_password", user, summary="修改本人密码")
    return user


def end_sessions(session: Session, user: User) -> None:
    """Invalidate every login cookie of the user (logout)."""
    user.session_token = new_session_token()
    record(session, user, "user.logout", user, summary="退出登录")
