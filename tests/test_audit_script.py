"""scripts/audit.sh (make audit) decides on pip-audit's report: a reported vulnerability fails the build, a
service that answered for no package is reported as skipped rather than as clean. pip-audit and bandit are
replaced by stand-ins that print a given report, so the decision is tested without the network."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _audit(tmp_path: Path, report: dict | None, log: str = "", bandit_status: int = 0):
    bin_dir = tmp_path / "venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "python").symlink_to(sys.executable)
    (bin_dir / "bandit").write_text(f"#!/bin/sh\nexit {bandit_status}\n")
    body = json.dumps(report) if report is not None else ""
    (tmp_path / "report.json").write_text(body)
    # the stand-in writes the report where -o points, and the log to stderr
    (bin_dir / "pip-audit").write_text(
        '#!/bin/sh\nout=\nwhile [ $# -gt 0 ]; do [ "$1" = -o ] && out=$2; shift; done\n'
        f"cat '{tmp_path / 'report.json'}' > \"$out\"\necho '{log}' >&2\n"
        f'[ -s "$out" ] || exit 1\n'
    )
    for tool in ("bandit", "pip-audit"):
        os.chmod(bin_dir / tool, 0o755)
    return subprocess.run(
        ["bash", str(ROOT / "scripts" / "audit.sh")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "VENV": str(tmp_path / "venv")},
        timeout=60,
    )


def test_a_reported_vulnerability_fails_the_build(tmp_path):
    report = {
        "dependencies": [
            {"name": "flask", "version": "3.1.3", "vulns": []},
            {
                "name": "jinja2",
                "version": "2.4.1",
                "vulns": [{"id": "PYSEC-2014-8", "aliases": ["CVE-2014-1402"], "fix_versions": ["2.7.2"]}],
            },
        ]
    }
    result = _audit(tmp_path, report)
    assert result.returncode == 1, result.stdout
    assert "jinja2 2.4.1: PYSEC-2014-8 CVE-2014-1402 (fixed in: 2.7.2)" in result.stdout


def test_a_vulnerability_fails_even_when_other_packages_were_not_audited(tmp_path):
    report = {
        "dependencies": [
            {"name": "flask", "skip_reason": "Dependency not found on PyPI and could not be audited: flask (3.1.3)"},
            {"name": "lxml", "version": "4.6.2", "vulns": [{"id": "PYSEC-2021-19", "fix_versions": ["4.6.3"]}]},
        ]
    }
    assert _audit(tmp_path, report).returncode == 1


def test_a_service_that_answered_for_nothing_is_reported_as_skipped_not_clean(tmp_path):
    report = {
        "dependencies": [
            {"name": n, "skip_reason": f"Dependency not found on PyPI and could not be audited: {n} (1.0)"}
            for n in ("flask", "lxml")
        ]
    }
    result = _audit(tmp_path, report)
    assert result.returncode == 0
    assert "SKIPPED" in result.stdout and "no known vulnerabilities" not in result.stdout


def test_a_clean_audit_names_how_many_packages_were_checked(tmp_path):
    report = {
        "dependencies": [
            {"name": "flask", "version": "3.1.3", "vulns": []},
            {"name": "lxml", "skip_reason": "not found"},
        ]
    }
    result = _audit(tmp_path, report)
    assert result.returncode == 0
    assert "no known vulnerabilities in 1 packages" in result.stdout and "not audited: not found" in result.stdout


@pytest.mark.parametrize(
    "log, status",
    [
        ("ConnectionError: Max retries exceeded with url: /simple/flask/", 0),
        ("error: invalid requirement 'flask=='", 1),
    ],
)
def test_an_unreachable_network_skips_but_other_failures_fail(tmp_path, log, status):
    result = _audit(tmp_path, None, log=log)
    assert result.returncode == status, result.stdout
    assert ("SKIPPED" in result.stdout) == (status == 0)


def test_a_bandit_finding_fails_the_build(tmp_path):
    assert _audit(tmp_path, {"dependencies": []}, bandit_status=1).returncode == 1
