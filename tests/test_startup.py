"""A command starts without the heavy libraries: WeasyPrint, openpyxl and python-docx are imported by the code that
renders a PDF, reads or writes a spreadsheet or writes a Word file, not by `flask --app tracker …` before it does
anything (WeasyPrint alone cost about a second of CPU at every start)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("weasyprint", "openpyxl", "docx", "fontTools", "PIL", "pillow_heif")

# run the flask command line in-process, then say which of the heavy modules it imported
PROBE = """
import sys, runpy
sys.argv = ["flask", *sys.argv[1:]]
try:
    runpy.run_module("flask", run_name="__main__")
except SystemExit:
    pass
print("IMPORTED:" + ",".join(m for m in HEAVY if m in sys.modules), file=sys.stderr)
""".replace("HEAVY", repr(HEAVY))


def _imported(tmp_path: Path, *args: str) -> tuple[list[str], str]:
    env = {
        **os.environ,
        "TRACKER_INSTANCE_PATH": str(tmp_path),
        "TRACKER_DATABASE_URL": f"sqlite:///{tmp_path}/cli.db",
        "PYTHONPATH": str(ROOT),
    }
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, "--app", "tracker", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    line = [x for x in proc.stderr.splitlines() if x.startswith("IMPORTED:")]
    assert line, proc.stderr
    return [m for m in line[-1].removeprefix("IMPORTED:").split(",") if m], proc.stdout


def test_cli_start_imports_no_pdf_spreadsheet_or_word_library(tmp_path):
    imported, out = _imported(tmp_path, "--help")
    # the command line did start and list its commands (the app factory ran, every area registered)
    assert "report" in out and "metrics" in out and "worker" in out
    assert imported == []


def test_a_command_that_needs_no_pdf_does_not_import_weasyprint(tmp_path):
    # `report --help` is the group that renders PDFs and Word files: its help alone renders nothing
    imported, out = _imported(tmp_path, "report", "--help")
    assert "briefing" in out
    assert imported == []
    imported, out = _imported(tmp_path, "metrics", "--help")
    assert "import" in out and "export" in out
    assert imported == []
