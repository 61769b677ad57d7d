#!/usr/bin/env bash
# Deadline-day load run: gunicorn with several workers on PostgreSQL, officers logging in, opening their to-do and
# submitting this month's reports, driven by locust (headless). Loopback only; bounded in users and time.
#   benchmarks/load/run.sh [USERS=50] [SECONDS=120] [WORKERS=2] [THREADS=1]
# Needs PostgreSQL on 127.0.0.1:5432 (user postgres, trust) and Redis on 127.0.0.1:6379. The scratch database
# bench_load (or $LOAD_DB) is dropped and created again at the start, and left behind for inspection; the login
# counts go to Redis database 14 (or $LOAD_REDIS_DB), emptied first.
set -euo pipefail
cd "$(dirname "$0")/../.."
USERS=${1:-50}; SECONDS_=${2:-120}; WORKERS=${3:-2}; THREADS=${4:-1}
DB=${LOAD_DB:-bench_load}
REDIS_DB=${LOAD_REDIS_DB:-14}
URL="postgresql+psycopg://postgres@127.0.0.1:5432/$DB"
PY=${PY:-.venv/bin/python}
BIN=$(dirname "$PY")
"$BIN/pip" install -q -r benchmarks/requirements.txt
psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
export TRACKER_DATABASE_URL=$URL TRACKER_SECRET_KEY=load-run-secret-0123456789abcdef0123456789
export TRACKER_RATELIMIT_STORAGE_URI=redis://127.0.0.1:6379/$REDIS_DB TRACKER_DEMO_PASSWORD=demo-2026
"$BIN/alembic" upgrade head >/dev/null
"$BIN/flask" --app tracker seed --demo >/dev/null
# one officer per new town: every town is a member of the tasks "各镇(街道)" joins, so each owes reports
"$PY" - "$USERS" <<'PY'
import sys

from tracker import create_app, db
from tracker.auth.service import create_user
from tracker.org.service import create_unit
from tracker.seed import SYSTEM

n = int(sys.argv[1])
app = create_app()
with app.app_context():
    for i in range(1, n + 1):
        unit = create_unit(db.session, SYSTEM, name=f"负载测试镇{i:02d}", kind="township")
        create_user(db.session, SYSTEM, username=f"load{i:02d}", display_name=f"负载测试{i:02d}", role="officer",
                    unit_id=unit.id, password="demo-2026")
    db.session.commit()
PY
redis-cli -n "$REDIS_DB" flushdb >/dev/null
PORT=$("$PY" -c "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
"$BIN/gunicorn" --workers "$WORKERS" --threads "$THREADS" --bind "127.0.0.1:$PORT" --log-level warning wsgi:app &
GPID=$!
trap 'kill $GPID 2>/dev/null || true' EXIT
for _ in $(seq 1 60); do curl -sf -o /dev/null "http://127.0.0.1:$PORT/login" && break; sleep 0.5; done
OUT=$(mktemp -d)
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
LOAD_REQUEST_LOG="$OUT/requests.csv" "$BIN/locust" -f benchmarks/load/locustfile.py --headless -u "$USERS" -r 10 -t "${SECONDS_}s" \
  --host "http://127.0.0.1:$PORT" --csv "$OUT/load" --only-summary >"$OUT/log" 2>&1 || true
echo "load run: $USERS officers, ${SECONDS_} s, $WORKERS gunicorn workers × $THREADS threads, $(nproc) cores, $(date -u +%F)"
echo "machine load average before: $LOAD_BEFORE, after: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews the times)"
"$PY" - "$OUT/requests.csv" "$OUT/load_failures.csv" <<'PY'
import csv
import math
import sys
from collections import defaultdict


def pct(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank), as locust reports it."""
    values = sorted(values)
    return values[max(0, math.ceil(p / 100 * len(values)) - 1)] if values else 0.0


rows = [(float(t), name, float(ms), fail == "1") for t, name, ms, fail in csv.reader(open(sys.argv[1]))]
start = min(t for t, *_ in rows)
end = max(t for t, *_ in rows)
for title, cut in (("first minute (every login, the burst of submits)", start + 60), ("whole run", end + 1)):
    by_name: dict[str, list[float]] = defaultdict(list)
    fails: dict[str, int] = defaultdict(int)
    for t, name, ms, failed in rows:
        if t < cut:
            by_name[name].append(ms)
            fails[name] += failed
    print(f"-- {title}")
    print(f"{'request':<36}{'count':>7}{'fail':>6}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}{'max ms':>8}")
    for name in sorted(by_name):
        v = by_name[name]
        print(f"{name:<36}{len(v):>7}{fails[name]:>6}{pct(v, 50):>8.0f}{pct(v, 95):>8.0f}{pct(v, 99):>8.0f}"
              f"{max(v):>8.0f}")
for f in csv.DictReader(open(sys.argv[2])):
    print(f"failure: {f['Method']} {f['Name']} x{f['Occurrences']}: {f['Error']}")
PY
psql -h 127.0.0.1 -U postgres -d $DB -tAc "SELECT count(*) FROM progress_reports WHERE status='submitted' AND unit_id IN (SELECT id FROM units WHERE name LIKE '负载测试镇%')" | sed 's/^/reports submitted by the load officers: /'
