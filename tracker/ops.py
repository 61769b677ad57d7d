"""Operations: backup and restore of the database, and a check of a deployment's configuration."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from .evidence.blobs import BlobStore
from .evidence.models import Attachment
from .models import Base

WEAK_SECRETS = {"dev", "secret", "changeme", "change-me", "test", "password", "secret-key", "default"}


def _sqlite_path(url: str) -> Path:
    return Path(make_url(url).database)


def _pg_url(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def backup(url: str, target: Path) -> None:
    """A consistent copy of a live database: SQLite's online backup API, or pg_dump's custom format."""
    if url.startswith("sqlite"):
        src = sqlite3.connect(_sqlite_path(url), timeout=30)
        dst = sqlite3.connect(target)
        try:
            with dst:
                src.backup(dst)
        finally:
            dst.close()
            src.close()
        return
    _run(["pg_dump", "--format=custom", "--no-owner", f"--file={target}", _pg_url(url)])


def restore(url: str, source: Path) -> None:
    """Replace the database's contents with a backup (stop the app first)."""
    if not source.is_file():
        raise FileNotFoundError(f"备份文件不存在:{source}")
    if url.startswith("sqlite"):
        with open(source, "rb") as f:
            if f.read(16) != b"SQLite format 3\x00":
                raise ValueError("不是SQLite备份文件")
        src = sqlite3.connect(source)
        dst = sqlite3.connect(_sqlite_path(url), timeout=30)
        try:
            with dst:
                src.backup(dst)
        finally:
            dst.close()
            src.close()
        return
    _run(
        [
            "pg_restore",
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            f"--dbname={_pg_url(url)}",
            str(source),
        ]
    )


def _run(cmd: list[str]) -> None:
    if shutil.which(cmd[0]) is None:
        raise RuntimeError(f"找不到命令 {cmd[0]}(请安装 postgresql-client)")
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
    if result.returncode != 0:
        raise RuntimeError(f"{cmd[0]} 失败:{result.stderr.strip()}")


def backup_head_path(target: Path) -> Path:
    return target.with_name(target.name + ".audit-head.json")


def write_backup_head(target: Path, db: str, head) -> Path:
    """The audit chain's head next to a backup: what a restore of it must contain."""
    path = backup_head_path(target)
    data = {"db": db, "source": "backup", "at": datetime.now(UTC).isoformat(timespec="seconds"), "backup": target.name}
    data.update(head.as_dict() if head else {"seq": None, "mac": None, "events": 0})
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n")
    return path


def read_backup_head(source: Path, db: str):
    """The head recorded next to a backup as an anchor for the restored database, or None."""
    from .audit.anchors import Anchor

    path = backup_head_path(source)
    try:
        d = json.loads(path.read_text())
        if d.get("seq") is None:
            return None
        return Anchor(str(d["at"]), "backup", db, int(d["seq"]), str(d["mac"]), int(d["events"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def evidence_backup_path(target: Path) -> Path:
    """The folder next to a backup that holds the 佐证材料 files, each named by its SHA-256."""
    return target.with_name(target.name + ".evidence")


def backup_evidence(blobs: BlobStore, target: Path) -> int:
    """Copy every stored file next to the backup (after the database: files are never changed or deleted, so every
    row of the backup finds its file among them). Returns how many."""
    return blobs.copy_to(evidence_backup_path(target))


def restore_evidence(blobs: BlobStore, source: Path, session: Session) -> tuple[int, list[str]]:
    """Put the backup's files into the store, each checked against its SHA-256 (a file that does not match is not
    taken), then check that every attachment of the restored database has its file with the right content.
    Returns (files taken, problems in Chinese)."""
    taken, bad = blobs.load_from(evidence_backup_path(source))
    problems = [f"备份中的文件 {sha} 内容与其SHA-256不符,未恢复" for sha in bad]
    for att in session.scalars(select(Attachment).order_by(Attachment.id)):
        for sha, what in ((att.sha256, "文件"), (att.thumb_sha256, "缩略图")):
            wrong = sha and blobs.check(sha)
            if wrong:
                problems.append(f"佐证材料 #{att.id}“{att.name}”的{what}{wrong}")
    return taken, problems


def row_counts(session: Session) -> dict[str, int]:
    return {t.name: session.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables}


@dataclass(frozen=True)
class DeployProblem:
    key: str
    message: str


def check_deploy(config: dict, workers: int, instance_path: str) -> list[DeployProblem]:
    """What in this configuration is unfit for production."""
    problems = []
    if config.get("DEBUG"):
        problems.append(DeployProblem("debug", "调试模式已开启(DEBUG),生产环境会泄露内部信息"))
    key = str(config.get("SECRET_KEY") or "")
    generated = Path(instance_path, "secret_key")
    if len(key) < 32 or key.lower() in WEAK_SECRETS or len(set(key)) < 10:
        problems.append(DeployProblem("secret", "密钥过短或过于简单,请设置至少32位随机的 TRACKER_SECRET_KEY"))
    elif not os.environ.get("TRACKER_SECRET_KEY") and generated.exists() and workers > 1:
        # a generated key is per machine: several hosts would each make their own
        problems.append(DeployProblem("secret", "密钥由本机自动生成;多台服务器部署时请统一设置 TRACKER_SECRET_KEY"))
    if str(config.get("RATELIMIT_STORAGE_URI") or "memory://").startswith("memory") and workers > 1:
        # dividing the limit by the worker count keeps the total, but not with several hosts or a changed count
        divided = int(config.get("RATELIMIT_DIVIDED_BY") or 1)
        how = (
            f"已按{divided}个进程均分为每进程{config.get('RATELIMIT_LOGIN')}"
            if divided > 1
            else f"{workers}个工作进程各自计数"
        )
        problems.append(
            DeployProblem(
                "ratelimit",
                f"登录限流保存在进程内存中({how});请设置 TRACKER_RATELIMIT_STORAGE_URI=redis://…",
            )
        )
    if not config.get("SESSION_COOKIE_SECURE") and not int(config.get("PROXY_COUNT") or 0):
        # behind a trusted proxy the cookie is Secure whenever the proxy reports HTTPS
        problems.append(
            DeployProblem(
                "cookies",
                "会话Cookie未设置Secure:请在HTTPS下部署并设置 TRACKER_SESSION_COOKIE_SECURE=true,"
                "或在反向代理之后设置 TRACKER_PROXY_COUNT",
            )
        )
    audit_key = str(config.get("AUDIT_KEY") or "")
    audit_file = Path(instance_path, "audit_key")
    if len(audit_key) < 32 or audit_key.lower() in WEAK_SECRETS or len(set(audit_key)) < 10:
        problems.append(
            DeployProblem("audit_key", "审计密钥缺失、过短或过于简单,请设置至少32位随机的 TRACKER_AUDIT_KEY")
        )
    elif audit_key == key:
        problems.append(DeployProblem("audit_key", "审计密钥与会话密钥相同,请分别设置"))
    elif not os.environ.get("TRACKER_AUDIT_KEY") and audit_file.exists() and audit_file.stat().st_mode & 0o077:
        problems.append(DeployProblem("audit_key", f"审计密钥文件 {audit_file} 可被其他用户读取,请改为 0600"))
    if config.get("TESTING"):
        problems.append(DeployProblem("testing", "测试模式已开启(TESTING)"))
    if not config.get("WTF_CSRF_ENABLED", True):
        problems.append(DeployProblem("csrf", "CSRF保护已关闭"))
    return problems
