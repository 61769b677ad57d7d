"""The blob store: files under the instance folder named by the SHA-256 of their bytes (evidence/ab/abcdef…).

A file is written once (to a temporary name, then renamed into place) and never changed; the same bytes uploaded
twice are one file. Removing an attachment deletes its row only: the file stays, named in the removal's audit event.
Backups copy the whole store; a restore checks every file against its name and every row against the store.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path

_SHA_RE = re.compile(r"[0-9a-f]{64}")


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_digest(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


@dataclass(frozen=True)
class BlobStore:
    root: Path

    def path(self, sha: str) -> Path:
        if not _SHA_RE.fullmatch(sha or ""):
            raise ValueError("not a SHA-256")
        return self.root / sha[:2] / sha

    def put(self, data: bytes) -> str:
        """Store the bytes (once); returns their SHA-256."""
        sha = digest(data)
        target = self.path(sha)
        if target.is_file():
            return sha
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{sha}.{secrets.token_hex(8)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
        return sha

    def has(self, sha: str) -> bool:
        return self.path(sha).is_file()

    def shas(self) -> list[str]:
        """Every stored file's name (temporary files of an unfinished write excluded)."""
        if not self.root.is_dir():
            return []
        return sorted(
            p.name for p in self.root.glob("??/*") if _SHA_RE.fullmatch(p.name) and p.parent.name == p.name[:2]
        )

    def copy_to(self, target: Path) -> int:
        """Copy every file into `target` (flat, named by SHA-256); returns how many."""
        target.mkdir(parents=True, exist_ok=True)
        n = 0
        for sha in self.shas():
            shutil.copyfile(self.path(sha), target / sha)
            n += 1
        return n

    def load_from(self, source: Path) -> tuple[int, list[str]]:
        """Put the files of a backup folder into the store, each checked against its name.
        Returns (files taken, names of files whose content does not match their name: not taken)."""
        taken, bad = 0, []
        for path in sorted(source.iterdir()) if source.is_dir() else []:
            if not _SHA_RE.fullmatch(path.name):
                continue
            if file_digest(path) != path.name:
                bad.append(path.name)
                continue
            if not self.has(path.name):
                self.put(path.read_bytes())
            taken += 1
        return taken, bad

    def check(self, sha: str) -> str | None:
        """None when the file is there with the right content, else what is wrong (Chinese)."""
        path = self.path(sha)
        if not path.is_file():
            return "缺失"
        if file_digest(path) != sha:
            return "内容与其SHA-256不符"
        return None


def store_for(app) -> BlobStore:
    return BlobStore(Path(app.config.get("EVIDENCE_DIR") or Path(app.instance_path) / "evidence"))
