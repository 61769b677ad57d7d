"""Page benchmark: each main page at the demo's size and at ten times it.

For each page: the median time of a request, the number of SQL statements it runs, the time the same statements
take when replayed on a raw connection (execute + fetchall), and the ratio page time / raw SQL time. Query counts
that grow with the data mean an N+1.

    .venv/bin/python benchmarks/pages.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def prepare(db: Path, scale: int) -> str:
    url = f"sqlite:///{db}"
    env = {**os.environ, "TRACKER_DATABASE_URL": url}
    venv = ROOT / ".venv" / "bin"
    subprocess.run([venv / "alembic", "upgrade", "head"], cwd=ROOT, env=env, check=True, capture_output=True)
    cmd = ["seed", "--demo"] if scale == 1 else ["demo-data", "--scale", str(scale)]
    subprocess.run([venv / "flask", "--app", "tracker", *cmd], cwd=ROOT, env=env, check=True, capture_output=True)
    return url


def pages(session) -> list[tuple[str, str]]:
    from sqlalchemy import select

    from tracker import clock
    from tracker.meetings.models import Meeting
    from tracker.org.models import Unit

    town = session.scalar(select(Unit.id).where(Unit.kind == "township").order_by(Unit.sort_order).limit(1))
    meeting = session.scalar(select(Meeting.id).where(Meeting.held_at.is_not(None)).order_by(Meeting.date.desc()))
    month = f"{clock.today():%Y-%m}"
    return [("dashboard grid", f"/progress/grid?period={month}"), ("plan", "/plan"), ("task", "/plan/tasks/1"),
            ("unit", f"/units/{town}"), ("metrics overview", "/metrics/?period=2026-Q3"),
            ("assessment", "/assessment/?period=2026-Q3"), ("card board", "/cards/"),
            ("meeting", f"/meetings/{meeting}"), ("report preview", "/reports/briefing?period=2026-Q3")]


def measure(url: str, repeat: int) -> list[dict]:
    from sqlalchemy import event

    from tracker import create_app, db

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench" * 8, "WTF_CSRF_ENABLED": False,
                      "RATELIMIT_ENABLED": False})
    engine = app.extensions["tracker.engine"]
    recorded: list[tuple[str, object]] = []

    @event.listens_for(engine, "before_cursor_execute")
    def _record(conn, cursor, statement, parameters, context, executemany):
        recorded.append((statement, parameters))

    client = app.test_client()
    client.post("/login", data={"username": "reviewer", "password": "demo-2026"})
    with app.app_context():
        targets = pages(db.session)
    out = []
    for name, path in targets:
        client.get(path)  # warm up
        times = []
        for _ in range(repeat):
            recorded.clear()
            t0 = time.perf_counter()
            resp = client.get(path)
            times.append(time.perf_counter() - t0)
            assert resp.status_code == 200, (path, resp.status_code)
        statements = [s for s in recorded if not s[0].startswith(("BEGIN", "PRAGMA"))]
        raw = engine.raw_connection()
        try:
            sql_times = []
            for _ in range(repeat):
                cur = raw.cursor()
                t0 = time.perf_counter()
                for statement, params in statements:
                    cur.execute(statement, params)
                    cur.fetchall()
                sql_times.append(time.perf_counter() - t0)
                cur.close()
        finally:
            raw.close()
        page, sql = statistics.median(times), statistics.median(sql_times)
        out.append({"page": name, "ms": page * 1000, "queries": len(statements), "sql_ms": sql * 1000,
                    "ratio": page / sql if sql else float("inf")})
    engine.dispose()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for label, scale in (("1x", 1), ("10x", 10)):
            results[label] = measure(prepare(Path(tmp) / f"{label}.db", scale), args.repeat)
    print(f"{'page':<18}{'scale':>6}{'median ms':>11}{'queries':>9}{'raw SQL ms':>12}{'ratio':>8}")
    for i in range(len(results["1x"])):
        for label in ("1x", "10x"):
            r = results[label][i]
            print(f"{r['page']:<18}{label:>6}{r['ms']:>11.1f}{r['queries']:>9}{r['sql_ms']:>12.1f}{r['ratio']:>8.1f}")
    grow = [r["page"] for r, s in zip(results["1x"], results["10x"], strict=True) if s["queries"] > r["queries"]]
    print("query counts independent of data size" if not grow else f"query counts grow with data: {', '.join(grow)}")


if __name__ == "__main__":
    main()
