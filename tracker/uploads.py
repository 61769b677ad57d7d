"""Uploaded files kept between a preview and its confirmation, and nothing else.

Only a preview that can be confirmed keeps its file; a rejected one keeps nothing. Each user has at most
`per_user` pending previews (a new one replaces the oldest), all of them together at most `max_bytes`, and a file
older than the preview's lifetime is deleted on every upload and by `flask --app tracker uploads cleanup`.
Files are named `<user id>-<random token>.xlsx`; the token travels in the signed ticket of the preview page.
"""

from __future__ import annotations

import os
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from .errors import ValidationError

PREVIEW_SECONDS = 2 * 3600  # how long a preview page can be confirmed
PER_USER = 3
MAX_BYTES = 64 * 1024 * 1024
SUFFIX = ".xlsx"
_NAME_RE = re.compile(r"(\d+)-[A-Za-z0-9_-]{20,64}")


@dataclass(frozen=True)
class Swept:
    """What a clean-up removed and what is left."""

    removed: int
    removed_bytes: int
    kept: int
    kept_bytes: int


@dataclass(frozen=True)
class Stash:
    """The directory of pending uploads and its limits."""

    directory: Path
    per_user: int = PER_USER
    max_bytes: int = MAX_BYTES
    max_age: int = PREVIEW_SECONDS

    def _files(self) -> list[tuple[float, Path, int]]:
        """(modified time, path, size) of every pending upload, oldest first."""
        out = []
        if not self.directory.is_dir():
            return out
        for path in self.directory.glob(f"*{SUFFIX}"):
            try:
                st = path.stat()
            except OSError:  # removed meanwhile by another worker
                continue
            out.append((st.st_mtime, path, st.st_size))
        return sorted(out, key=lambda f: (f[0], f[1].name))

    def sweep(self, now: float | None = None) -> Swept:
        """Delete the uploads older than the preview's lifetime (their tickets have expired)."""
        cutoff = (time.time() if now is None else now) - self.max_age
        removed = removed_bytes = kept = kept_bytes = 0
        for mtime, path, size in self._files():
            if mtime < cutoff and _unlink(path):
                removed, removed_bytes = removed + 1, removed_bytes + size
            else:
                kept, kept_bytes = kept + 1, kept_bytes + size
        return Swept(removed, removed_bytes, kept, kept_bytes)

    def put(self, owner: int, data: bytes) -> str:
        """Keep a confirmable upload of `owner`; returns its name for the ticket. The owner's oldest pending ones go
        beyond the quota; over the total cap the upload is refused (ValidationError) and nothing is kept."""
        self.sweep()
        files = self._files()
        mine = [f for f in files if _owner(f[1]) == owner]
        for _mtime, path, _size in mine[: max(0, len(mine) - self.per_user + 1)]:
            _unlink(path)
        if self.usage()[1] + len(data) > self.max_bytes:
            raise ValidationError("服务器上待确认的导入文件已达上限,请稍后再上传,或先确认、放弃已上传的导入。")
        self.directory.mkdir(parents=True, exist_ok=True)
        name = f"{owner}-{secrets.token_urlsafe(24)}"
        fd = os.open(self.directory / f"{name}{SUFFIX}", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        return name

    def get(self, owner: int, name: str) -> bytes:
        """The bytes of `owner`'s pending upload `name`."""
        if not _NAME_RE.fullmatch(name or "") or _owner_of(name) != owner:
            raise ValidationError("上传记录无效,请重新上传文件")
        try:
            return (self.directory / f"{name}{SUFFIX}").read_bytes()
        except OSError:
            raise ValidationError("上传的文件已过期、已被更新的上传替换或已导入,请重新上传") from None

    def discard(self, name: str) -> None:
        if _NAME_RE.fullmatch(name or ""):
            _unlink(self.directory / f"{name}{SUFFIX}")

    def usage(self) -> tuple[int, int]:
        """(files, bytes) pending."""
        files = self._files()
        return len(files), sum(size for *_, size in files)


def _owner_of(name: str) -> int | None:
    m = _NAME_RE.fullmatch(name)
    return int(m.group(1)) if m else None


def _owner(path: Path) -> int | None:
    return _owner_of(path.name.removesuffix(SUFFIX))


def _unlink(path: Path) -> bool:
    try:
        path.unlink()
        return True
    except OSError:
        return False


def stash_for(app) -> Stash:
    """The stash of the application: instance/uploads, limits from UPLOAD_* settings."""
    return Stash(
        Path(app.instance_path) / "uploads",
        per_user=int(app.config.get("UPLOAD_PENDING_PER_USER", PER_USER)),
        max_bytes=int(app.config.get("UPLOAD_MAX_PENDING_BYTES", MAX_BYTES)),
        max_age=PREVIEW_SECONDS,
    )
