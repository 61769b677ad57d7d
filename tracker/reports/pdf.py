"""HTML to PDF with WeasyPrint: an embedded CJK font or a loud failure, and a fetcher that reaches nothing
outside the app's own static files and data: URIs.

WeasyPrint takes about a second of CPU to import, so it is imported on the first render, not when the app (or any
command) starts: `AppOnlyFetcher` is built on first use.
"""

from __future__ import annotations

import atexit
import gc
import logging
import mimetypes
import shutil
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

log = logging.getLogger(__name__)

# while a report is built and rendered, the cycle collector's full pass waits for this many passes over the middle
# generation (the default is 10): see `fewer_full_collections`
FULL_PASS_AFTER = 1000
CJK_FAMILY = "Noto Serif CJK SC"
CJK_SANS = "Noto Sans CJK SC"
BASE_URL = "https://report.invalid/"
STATIC_PREFIX = BASE_URL + "static/"


class FontMissing(RuntimeError):
    """The CJK font the reports name is not installed: the PDF would print boxes."""


def cjk_font_installed(family: str = CJK_FAMILY) -> bool:
    fc = shutil.which("fc-list")
    if fc is None:
        return False
    out = subprocess.run([fc, ":lang=zh", "family"], capture_output=True, text=True, timeout=30).stdout
    return any(family in line.split(",") for line in out.splitlines())


def require_cjk_font(family: str = CJK_FAMILY) -> None:
    """Raise FontMissing (and log an error) unless the font is installed."""
    if not cjk_font_installed(family):
        log.error("CJK font %r is not installed: install fonts-noto-cjk (make run does)", family)
        raise FontMissing(f"未安装中文字体“{family}”,无法生成PDF(请安装 fonts-noto-cjk)")


@cache
def _fetcher_class() -> type:
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class AppOnlyFetcher(URLFetcher):
        """Serves the app's static files and data: URIs; refuses file://, http(s) and everything else."""

        def __init__(self, static_dir: Path):
            super().__init__(allowed_protocols={"data", "https"}, allow_redirects=False, fail_on_errors=False)
            self.static_dir = static_dir.resolve()
            self.refused: list[str] = []

        def fetch(self, url, headers=None):
            if url.startswith("data:"):
                return super().fetch(url, headers)
            if url.startswith(STATIC_PREFIX):
                name = url[len(STATIC_PREFIX) :].split("?")[0].split("#")[0]
                path = (self.static_dir / name).resolve()
                if path.is_file() and self.static_dir in path.parents:
                    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                    return URLFetcherResponse(url, body=path.read_bytes(), headers={"Content-Type": mime})
            self.refused.append(url)
            raise ValueError(f"refused to fetch {url}")

    return AppOnlyFetcher


def __getattr__(name: str):
    # `pdf.AppOnlyFetcher` stays a plain attribute for callers; WeasyPrint is imported when it is first asked for
    if name == "AppOnlyFetcher":
        return _fetcher_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_collector_lock = threading.Lock()
_collector_users = 0
_collector_saved: tuple[int, int, int] = gc.get_threshold()


@contextmanager
def fewer_full_collections() -> Iterator[None]:
    """Hold the cycle collector's full passes back while a report is built and rendered, and restore the thresholds
    after (when the last of several threads rendering at once leaves).

    A render allocates hundreds of thousands of objects, many of which live until the document is written. With the
    default thresholds they set off a full pass every few hundred thousand allocations, and each full pass walks every
    object of the process, the application's own 200,000 included: 5 full passes took about 0.7 s of CPU in the
    briefing command. The young generations are still collected as before (the render's short-lived cycles die
    there); garbage that outlives them waits for the first full pass after the render. Nothing is frozen or left out:
    only when the full pass runs changes."""
    global _collector_users, _collector_saved
    with _collector_lock:
        if _collector_users == 0:
            _collector_saved = gc.get_threshold()
            first, second, third = _collector_saved
            gc.set_threshold(first, second, max(third, FULL_PASS_AFTER))
        _collector_users += 1
    try:
        yield
    finally:
        with _collector_lock:
            _collector_users -= 1
            if _collector_users == 0:
                gc.set_threshold(*_collector_saved)


# a `report` command's collector, between its start and its render: off (until the render gives it back), frozen
_command_collector = {"off": False, "frozen": False}


@contextmanager
def collector_off_until_render() -> Iterator[None]:
    """Hold the cycle collector off while a `report` command starts and builds its data, until `start_render`; give
    it back as it was when the command ends, however it ends.

    What a command makes before it renders (the modules it imports, the models and their mappers, the compiled
    statements, the report's data) lives until the process ends: the young collections that ran over it freed almost
    nothing (in the briefing command, 133 of the 740 collections, and about 0.02 s of CPU; the others run while Flask
    and the app are imported, before the command starts, or during the render)."""
    was_enabled = gc.isenabled()
    gc.disable()
    _command_collector.update(off=was_enabled, frozen=False)
    try:
        yield
    finally:
        if _command_collector["frozen"]:
            gc.unfreeze()
        _command_collector.update(off=False, frozen=False)
        if was_enabled:
            gc.enable()


def start_render() -> None:
    """Before a `report` command renders: set everything made so far aside from the collector (`gc.freeze`), so that
    the render's collections walk only the render's objects, and let the collector run again."""
    if _command_collector["off"]:
        gc.freeze()
        _command_collector.update(off=False, frozen=True)
        gc.enable()


_frozen_at_exit = False


def freeze_at_exit() -> None:
    """Set every object aside from the cycle collector when the process exits (`gc.freeze` at exit, registered once).

    For a command, whose process ends with it: the interpreter's last full passes at exit walked the application's
    and the render's objects (about 270,000 after a briefing) only to free memory the process hands back anyway.
    Objects are still freed as their modules are cleared; only garbage cycles left at exit are no longer collected
    then (the command's files are written and closed before it returns)."""
    global _frozen_at_exit
    with _collector_lock:
        if not _frozen_at_exit:
            atexit.register(gc.freeze)
            _frozen_at_exit = True


def render_pdf(html: str, static_dir: Path) -> tuple[bytes, object]:
    """Render HTML to PDF bytes; the fetcher (an AppOnlyFetcher) tells which URLs were refused.

    With the collector as it is: only the `report` commands, whose process ends with them, hold its full passes back
    (`fewer_full_collections`). Held back in the app too (a page, the archive job), a briefing archive retried after
    three failed renders stayed queued on PostgreSQL (tests/test_notify.py), as it did with `gc.freeze` before; the
    cause is not yet found, so the app renders with the collector's own thresholds."""
    from weasyprint import HTML

    require_cjk_font()
    fetcher = _fetcher_class()(static_dir)
    pdf = HTML(string=html, base_url=BASE_URL, url_fetcher=fetcher).write_pdf()
    return pdf, fetcher
