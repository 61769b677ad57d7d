"""Two checkouts compared page by page, request by request: the same page asked of each in turn.

On a shared, loaded machine two runs of `pages.py` one after the other see different loads; here one worker process
per checkout (each with its own app on the same database) answers requests alternately, A B B A A B …, so each pair
sees the same moment of the machine. Per page: the median wall time and CPU time (process time of the worker) of
each, the median of the pairs' ratios B / A, and the mean CPU time of each (a full pass of the cyclic collector comes
once in many requests: the medians miss it, the means carry it).

    .venv/bin/python benchmarks/pages_ab.py BEFORE_DIR AFTER_DIR --db /tmp/pages/s10.db [--pairs 11]
        [--pages "(empty page),meeting"] [--heap plain,served]

Each directory is a checkout with its .venv (e.g. `git archive main | tar -x -C /tmp/before`); the database is
one `pages.py --db-dir` made (the same file for both), or a database URL (`--db
postgresql+psycopg://postgres@127.0.0.1:5432/tracker_bench_s10`, one `pages.py --postgres` made). The CPU time is
the worker's own: a database server's is not counted.

Each worker serves its app as that checkout's gunicorn worker does (`tracker.heap.serve`; a checkout without it
assembles the app and freezes the heap, as its `wsgi.py` did); `--heap plain,plain` compares the apps as the factory
makes them, and `--heap plain,served` compares A as the factory makes it with B as served (the same directory twice
measures what serving does).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path


def worker(db: str, plain_heap: bool = False) -> None:
    """Answer each page label read from stdin with the wall and CPU milliseconds of one request (the code is the
    checkout the worker runs in, its working directory)."""
    sys.path.insert(0, os.getcwd())
    from flask import render_template
    from flask_login import login_required

    from benchmarks.pages import EMPTY, PASSWORD, pages
    from tracker import create_app

    url = db if "://" in db else f"sqlite:///{db}"
    config = {"DATABASE_URL": url, "SECRET_KEY": "bench" * 8, "WTF_CSRF_ENABLED": False}
    app = create_app({**config, "RATELIMIT_ENABLED": False})
    view = login_required(lambda: render_template("errors/error.html", code=200, message=""))
    app.add_url_rule("/_bench/empty", "bench_empty", view)
    if not plain_heap:
        _serve(app)
    client = app.test_client()
    if client.post("/login", data={"username": "reviewer", "password": PASSWORD}).status_code != 302:
        raise SystemExit("login failed")
    urls = dict(pages(app))
    assert EMPTY in urls
    for url in urls.values():  # warm the template and statement caches
        client.get(url)
    print("ready", flush=True)
    for line in sys.stdin:
        url = urls[line.strip()]
        t0, c0 = time.perf_counter(), time.process_time()
        status = client.get(url).status_code
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        if status != 200:
            raise SystemExit(f"{url} answered {status}")
        print(f"{wall * 1000:.3f} {cpu * 1000:.3f}", flush=True)


def _serve(app) -> None:
    """Make the app ready to serve as the checkout's `wsgi.py` does."""
    try:
        from tracker import heap
    except ImportError:  # a checkout from before tracker.heap: its wsgi.py assembled the app and froze the heap
        import gc

        app.assemble()
        gc.freeze()
    else:
        heap.serve(app)


class Worker:
    def __init__(self, checkout: Path, db: str, heap: str):
        # this file's worker, with the checkout's code (its working directory and path), whatever its age
        script = Path(__file__).resolve()
        flags = ["--plain-heap"] if heap == "plain" else []
        self.proc = subprocess.Popen(
            [str(checkout / ".venv" / "bin" / "python"), str(script), "--worker", "--db", db, *flags],
            cwd=checkout,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(checkout)},
        )
        if self.proc.stdout.readline().strip() != "ready":
            raise SystemExit(f"{checkout}: the worker did not start")

    def ask(self, label: str) -> tuple[float, float]:
        self.proc.stdin.write(label + "\n")
        self.proc.stdin.flush()
        wall, cpu = self.proc.stdout.readline().split()
        return float(wall), float(cpu)

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("before", type=Path, nargs="?")
    ap.add_argument("after", type=Path, nargs="?")
    ap.add_argument("--db", required=True)
    ap.add_argument("--pairs", type=int, default=11)
    ap.add_argument("--pages", default="(empty page),dashboard grid,metrics overview,meeting,report preview")
    ap.add_argument(
        "--heap",
        default="served,served",
        help="how A and B serve their apps: served (as wsgi.py) or plain (as the factory makes it), e.g. plain,served",
    )
    ap.add_argument("--plain-heap", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args.db, args.plain_heap)
        return
    heap_a, heap_b = args.heap.split(",")
    a, b = Worker(args.before.resolve(), args.db, heap_a), Worker(args.after.resolve(), args.db, heap_b)
    med = statistics.median
    print(f"{args.db}: {args.pairs} pairs per page, A = {args.before} ({heap_a}), B = {args.after} ({heap_b})")
    print(
        f"{'page':<18}{'A wall ms':>11}{'B wall ms':>11}{'B/A':>7}{'A CPU ms':>10}{'B CPU ms':>10}{'B/A':>7}"
        f"{'A mean CPU':>12}{'B mean CPU':>12}{'B/A':>7}"
    )
    for label in [p.strip() for p in args.pages.split(",")]:
        pairs = []
        for i in range(args.pairs):
            first, second = (a, b) if i % 2 == 0 else (b, a)
            x, y = first.ask(label), second.ask(label)
            pairs.append((x, y) if first is a else (y, x))
        wall_a, wall_b = med(p[0][0] for p in pairs), med(p[1][0] for p in pairs)
        cpu_a, cpu_b = med(p[0][1] for p in pairs), med(p[1][1] for p in pairs)
        wall_r = med(p[1][0] / p[0][0] for p in pairs)
        cpu_r = med(p[1][1] / p[0][1] for p in pairs)
        mean_a, mean_b = statistics.mean(p[0][1] for p in pairs), statistics.mean(p[1][1] for p in pairs)
        print(
            f"{label:<18}{wall_a:>11.1f}{wall_b:>11.1f}{wall_r:>7.2f}{cpu_a:>10.1f}{cpu_b:>10.1f}{cpu_r:>7.2f}"
            f"{mean_a:>12.1f}{mean_b:>12.1f}{mean_b / mean_a:>7.2f}"
        )
    a.close()
    b.close()


if __name__ == "__main__":
    main()
