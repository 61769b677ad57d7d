"""The cyclic collector's share of a page: the app as the factory makes it, as `wsgi.py` served it before
`tracker.heap` (assembled, then frozen once), and as it is served now (`tracker.heap.serve`).

One process per way, on the same database: the metrics overview, the meeting page and the briefing preview asked in
turn (after one warm-up request each), logged in as `reviewer`. Per way: the objects the collector still walks after
the run, the collector's time per request (timed with `gc.callbacks`) and its full passes' part, and the ratio of the
collector's time to the first way's. A page's medians rarely hold a full pass (about one in twenty requests): this
measures the time they take in all.

    .venv/bin/python benchmarks/collector.py --db postgresql+psycopg://postgres@127.0.0.1:5432/tracker_bench_s10
        [--rounds 100]

The database is one `pages.py --postgres` (or `--db-dir`, then give the file's path) made.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.pages import HEAP_WAYS, bench_app, pages  # noqa: E402

PAGES = ("metrics overview", "meeting", "report preview")


def run(db: str, way: str, rounds: int) -> dict:
    """One way, in this process: the collector's figures for `rounds` rounds of the pages."""
    app, client = bench_app(db if "://" in db else f"sqlite:///{db}", way)
    urls = [dict(pages(app))[label] for label in PAGES]
    for u in urls:
        client.get(u)
    spent = {0: 0.0, 1: 0.0, 2: 0.0}
    passes = {0: 0, 1: 0, 2: 0}
    started = [0.0]

    def timed(phase, info):
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            spent[info["generation"]] += time.perf_counter() - started[0]
            passes[info["generation"]] += 1

    gc.callbacks.append(timed)
    for _ in range(rounds):
        for u in urls:
            if client.get(u).status_code != 200:
                raise SystemExit(f"{u} failed")
    gc.callbacks.remove(timed)
    n = rounds * len(urls)
    return {
        "walked": len(gc.get_objects()),
        "ms": sum(spent.values()) / n * 1000,
        "full_ms": spent[2] / n * 1000,
        "full_passes": passes[2],
        "requests": n,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", required=True)
    ap.add_argument("--rounds", type=int, default=100)
    ap.add_argument("--way", choices=HEAP_WAYS, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.way:
        print(json.dumps(run(args.db, args.way, args.rounds)))
        return
    print(f"{args.db}: {args.rounds} rounds of {', '.join(PAGES)}; load average {os.getloadavg()[0]:.2f}")
    print(f"{'way':<13}{'walked':>9}{'collector ms/request':>22}{'full passes':>13}{'their ms':>10}{'ratio':>7}")
    first = None
    for way in HEAP_WAYS:
        out = subprocess.run(
            [sys.executable, __file__, "--db", args.db, "--rounds", str(args.rounds), "--way", way],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        r = json.loads(out.stdout.strip().splitlines()[-1])
        first = first or r["ms"]
        print(
            f"{way:<13}{r['walked']:>9}{r['ms']:>22.2f}{r['full_passes']:>13}{r['full_ms']:>10.2f}"
            f"{r['ms'] / first:>7.2f}"
        )


if __name__ == "__main__":
    main()
