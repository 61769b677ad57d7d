#!/usr/bin/env bash
# Static analysis of the code (bandit: no medium or high findings) and of the pinned dependencies (pip-audit: no
# known vulnerability in requirements.txt and what it pulls in).
#
# pip-audit asks a vulnerability service (PyPI's JSON API) about every resolved package. Where that service does
# not answer (no network, or a package mirror that serves only the simple index, as on the build machine), every
# package comes back "could not be audited" and pip-audit still says "No known vulnerabilities found". This script
# says plainly that nothing was audited and does not fail the build for it; a reported vulnerability always fails.
# PIP_AUDIT_CACHE_DIR reuses an HTTP cache filled where the service is reachable.
set -uo pipefail
# the audit tools' own virtualenv (make install-test makes it from requirements-audit.txt)
VENV=${VENV:-.venv-audit}
REQUIREMENTS=${REQUIREMENTS:-requirements.txt}

"$VENV/bin/bandit" -q -r tracker -ll || { echo "bandit: findings above (fix them or mark a reasoned '# nosec')"; exit 1; }
echo "bandit: no medium or high findings"

report=$(mktemp); log=$(mktemp)
trap 'rm -f "$report" "$log"' EXIT
cache=()
[ -n "${PIP_AUDIT_CACHE_DIR:-}" ] && cache=(--cache-dir "$PIP_AUDIT_CACHE_DIR")
"$VENV/bin/pip-audit" -r "$REQUIREMENTS" --progress-spinner off --timeout 10 "${cache[@]}" -f json -o "$report" \
  >"$log" 2>&1
status=$?
if [ ! -s "$report" ]; then
  if grep -qiE "connection|resolve|timed out|network is unreachable|max retries|temporary failure" "$log"; then
    echo "pip-audit: the package index or the vulnerability service is unreachable from this machine;"
    echo "pip-audit: dependency audit SKIPPED (nothing was checked)"
    exit 0
  fi
  cat "$log"
  echo "pip-audit: failed (status $status)"
  exit 1
fi
"$VENV/bin/python" - "$report" "$REQUIREMENTS" <<'PY'
import json
import sys

deps = json.load(open(sys.argv[1]))["dependencies"]
found = [(d["name"], d["version"], v) for d in deps for v in d.get("vulns", [])]
audited = [d for d in deps if "skip_reason" not in d]
skipped = [d for d in deps if "skip_reason" in d]
for name, version, v in found:
    fix = ", ".join(v.get("fix_versions", [])) or "no fixed version"
    print(f"pip-audit: {name} {version}: {v['id']} {' '.join(v.get('aliases', []))} (fixed in: {fix})")
if found:
    print(f"pip-audit: {len(found)} known vulnerabilities in {sys.argv[2]}")
    sys.exit(1)
if not audited:
    print(f"pip-audit: the vulnerability service answered for none of the {len(skipped)} packages of {sys.argv[2]} "
          "(PyPI's JSON API is not reachable from this machine: {})".format(skipped[0]["skip_reason"] if skipped else
                                                                          "no packages"))
    print("pip-audit: dependency audit SKIPPED (nothing was checked; a reported vulnerability would fail the build)")
    sys.exit(0)
print(f"pip-audit: no known vulnerabilities in {len(audited)} packages of {sys.argv[2]}")
for d in skipped:
    print(f"pip-audit: not audited: {d['skip_reason']}")
PY
