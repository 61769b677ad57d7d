"""Page benchmark: the main pages on the demo district (scale 1) and on one ten times its size (scale 10).

For each page, logged in as `reviewer` through the Flask test client: the median wall time of a request, the
number of SQL statements one request sends (BEGIN not counted), how many of them repeat the text of an earlier one
(a loop issuing one query per row shows up here even when the row count is the same at both scales), the time of
that same SQL replayed on a raw DBAPI connection (execute + fetchall of every recorded statement with its
parameters), the ratio page / raw SQL, and the net ratio (page - empty page) / raw SQL. Then, per page, whether
the statement count is the same at both scales (no N+1). The first row, "(empty page)", is a logged-in page with
nothing on it: the fixed cost of any page (login check, user load, the layout) that no query tuning removes.

The app is served as a gunicorn worker serves it (`wsgi.py`: `tracker.heap.serve`, which keeps what lives as long
as the worker out of the cyclic collector's passes); `--plain-heap` measures the app as the factory makes it.

    .venv/bin/python benchmarks/pages.py [--repeat 7] [--db-dir DIR] [--scales 1,10] [--pages "plan,task"]
    .venv/bin/python benchmarks/pages.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432 [--fresh]

--db-dir keeps the generated databases (s1.db, s10.db) and reuses them on the next run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import event, func, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PASSWORD = "demo-2026"
EMPTY = "(empty page)"


def prepare(db: Path, scale: int) -> str:
    """A migrated SQLite database with the demo (scale 1) or `demo-data --scale N`; reused when it exists."""
    url = f"sqlite:///{db}"
    if db.exists():
        return url
    _fill(url, scale)
    return url


def prepare_postgres(server: str, scale: int, fresh: bool) -> str:
    """The same on PostgreSQL: database tracker_bench_s<N> on the server, reused when it holds a district."""
    from sqlalchemy import create_engine, text

    name = f"tracker_bench_s{scale}"
    admin = create_engine(f"{server.rstrip('/')}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        if exists and fresh:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
            exists = False
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = f"{server.rstrip('/')}/{name}"
    if exists:
        probe = create_engine(url)
        with probe.connect() as conn:
            has_users = conn.scalar(text("SELECT to_regclass('users') IS NOT NULL")) and conn.scalar(
                text("SELECT count(*) FROM users")
            )
        probe.dispose()
        if has_users:
            return url
    _fill(url, scale)
    return url


def _fill(url: str, scale: int) -> None:
    env = {**os.environ, "TRACKER_DATABASE_URL": url, "TRACKER_DEMO_PASSWORD": PASSWORD}
    venv = ROOT / ".venv" / "bin"
    subprocess.run([venv / "alembic", "upgrade", "head"], cwd=ROOT, env=env, check=True, capture_output=True)
    cmd = ["seed", "--demo"] if scale == 1 else ["demo-data", "--scale", str(scale)]
    subprocess.run([venv / "flask", "--app", "tracker", *cmd], cwd=ROOT, env=env, check=True, capture_output=True)


def pages(app) -> list[tuple[str, str]]:
    """(label, URL) of each page measured; ids are looked up so both databases get the same kind of page."""
    from tracker import clock, db
    from tracker.assessment.models import Card
    from tracker.meetings.models import Meeting
    from tracker.org.models import KIND_TOWNSHIP, Unit
    from tracker.periods import Period
    from tracker.plans.models import Task

    with app.app_context():
        s = db.session
        # the town with the most cards, so the page shows every section at both scales
        town = s.scalar(
            select(Unit.id)
            .outerjoin(Card, Card.unit_id == Unit.id)
            .where(Unit.kind == KIND_TOWNSHIP)
            .group_by(Unit.id)
            .order_by(func.count(Card.id).desc(), Unit.sort_order, Unit.id)
            .limit(1)
        )
        task = s.scalar(select(Task.id).order_by(Task.id))
        meeting = s.scalar(
            select(Meeting.id).where(Meeting.status == "held", Meeting.period == "2026-Q3").order_by(Meeting.id)
        )
        month = Period.of_date(clock.today()).code
    return [
        (EMPTY, "/_bench/empty"),
        ("dashboard grid", f"/progress/grid?period={month}"),
        ("plan", "/plan"),
        ("task", f"/plan/tasks/{task}"),
        ("unit", f"/units/{town}"),
        ("metrics overview", "/metrics/?period=2026-Q3"),
        ("assessment", "/assessment/?period=2026-Q3"),
        ("card board", "/cards/"),
        ("meeting", f"/meetings/{meeting}"),
        ("report preview", "/reports/briefing?period=2026-Q3"),
    ]


class Recorder:
    """Counts the statements sent through the engine; while `keep` is set, also keeps them with parameters."""

    def __init__(self, engine):
        self.count = 0
        self.keep = False
        self.statements: list[tuple[str, object]] = []
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        if self.keep:
            self.statements.append((statement, parameters))

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        if not statement.startswith("BEGIN"):
            self.count += 1

    def start(self, keep: bool = False) -> None:
        self.count, self.keep, self.statements = 0, keep, []


def replay(engine, statements: list[tuple[str, object]]) -> float:
    """Seconds to run the statements on a raw DBAPI connection, fetching every row there is, then roll back."""
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        t0 = time.perf_counter()
        for sql, params in statements:
            cur.execute(sql, params)
            if cur.description is not None:  # SAVEPOINT, INSERT … have no rows (psycopg refuses fetchall)
                cur.fetchall()
        raw.rollback()
        if getattr(raw, "in_transaction", False):  # SQLite with isolation_level None: BEGIN was replayed
            cur.execute("ROLLBACK")
        t1 = time.perf_counter()
        cur.close()
    finally:
        raw.close()
    return t1 - t0


@dataclass
class Result:
    page: str
    scale: int
    ms: float
    queries: int
    repeats: int
    raw_ms: float

    @property
    def ratio(self) -> float:
        return self.ms / self.raw_ms if self.raw_ms else float("inf")


# how the app is made ready: as the factory makes it, as `wsgi.py` served it before tracker.heap (assembled, then
# frozen once), as it is served now (`tracker.heap.serve`)
HEAP_WAYS = ("plain", "frozen once", "served")


def bench_app(url: str, heap_way: str = "served"):
    """The app on the database at `url` with the empty page added, made ready as `heap_way` says, and a test client
    logged in as `reviewer`."""
    import gc

    from flask import render_template
    from flask_login import login_required

    from tracker import create_app, heap

    app = create_app(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": "bench" * 8,
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
        }
    )
    app.add_url_rule(
        "/_bench/empty",
        "bench_empty",
        login_required(lambda: render_template("errors/error.html", code=200, message="")),
    )
    if heap_way == "served":
        heap.serve(app)
    elif heap_way == "frozen once":
        app.assemble()
        gc.freeze()
    client = app.test_client()
    resp = client.post("/login", data={"username": "reviewer", "password": PASSWORD})
    if resp.status_code != 302:
        raise SystemExit(f"login failed on {url}: {resp.status_code}")
    return app, client


def measure(url: str, scale: int, repeat: int, only: set[str] | None = None, plain_heap: bool = False) -> list[Result]:
    app, client = bench_app(url, "plain" if plain_heap else "served")
    engine = app.extensions["tracker.engine"]
    rec = Recorder(engine)
    out = []
    for label, path in pages(app):
        if only and label not in only:
            continue
        resp = client.get(path)  # warm the template and statement caches
        if resp.status_code != 200:
            raise SystemExit(f"{path} answered {resp.status_code} at scale {scale}")
        rec.start(keep=True)
        client.get(path)
        queries, statements = rec.count, rec.statements
        rec.start()
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            client.get(path)
            times.append(time.perf_counter() - t0)
        raw = statistics.median(replay(engine, statements) for _ in range(repeat))
        texts = [sql for sql, _params in statements if not sql.startswith("BEGIN")]
        repeats = len(texts) - len(set(texts))
        out.append(Result(label, scale, statistics.median(times) * 1000, queries, repeats, raw * 1000))
    engine.dispose()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--db-dir", type=Path, help="keep the databases here and reuse them")
    ap.add_argument("--scales", default="1,10")
    ap.add_argument("--pages", help="comma-separated page names to measure (default: all)")
    ap.add_argument(
        "--postgres",
        metavar="SERVER_URL",
        help="measure on PostgreSQL instead, e.g. postgresql+psycopg://postgres@127.0.0.1:5432 "
        "(databases tracker_bench_s1, tracker_bench_s10 are created there and reused)",
    )
    ap.add_argument("--fresh", action="store_true", help="with --postgres: rebuild the databases")
    ap.add_argument(
        "--plain-heap", action="store_true", help="the app as the factory makes it, without the server's heap settling"
    )
    args = ap.parse_args()
    scales = [int(s) for s in args.scales.split(",")]
    only = {p.strip() for p in args.pages.split(",")} if args.pages else None
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.db_dir or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        results: list[Result] = []
        for scale in scales:
            url = (
                prepare_postgres(args.postgres, scale, args.fresh)
                if args.postgres
                else prepare(folder / f"s{scale}.db", scale)
            )
            results += measure(url, scale, args.repeat, only, args.plain_heap)
    # the page's time less the empty page's (the fixed cost of any page), over its raw SQL
    fixed = {r.scale: r.ms for r in results if r.page == EMPTY}
    print(
        f"{'page':<18}{'scale':>6}{'median ms':>11}{'queries':>9}{'repeats':>9}{'raw SQL ms':>12}{'ratio':>8}"
        f"{'net ratio':>11}"
    )
    for r in sorted(results, key=lambda r: [x.page for x in results].index(r.page)):
        net = (
            f"{(r.ms - fixed[r.scale]) / r.raw_ms:>11.1f}"
            if r.scale in fixed and r.page != EMPTY and r.raw_ms
            else f"{'-':>11}"
        )
        print(f"{r.page:<18}{r.scale:>6}{r.ms:>11.1f}{r.queries:>9}{r.repeats:>9}{r.raw_ms:>12.2f}{r.ratio:>8.1f}{net}")
    if len(scales) > 1:
        print()
        print(f"{'page':<18}  queries at scales {', '.join(map(str, scales))}")
        by_page: dict[str, list[int]] = {}
        for r in results:
            by_page.setdefault(r.page, []).append(r.queries)
        for page, counts in by_page.items():
            verdict = (
                "same (no N+1)"
                if len(set(counts)) == 1
                else ("GROWS with data" if counts[-1] > counts[0] else "fewer with more data (not N+1)")
            )
            print(f"{page:<18}  {' / '.join(map(str, counts)):<14}{verdict}")


if __name__ == "__main__":
    main()
