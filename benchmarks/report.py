"""Report benchmark: the joint-meeting briefing for the demo district and for one ten times its size.

Prints, for each: time to build the data, to render the HTML, WeasyPrint alone on that same HTML, the total,
the page count, the file size, and the ratio total / WeasyPrint-alone (measured in the same run).

    .venv/bin/python benchmarks/report.py [--period 2026-Q3] [--repeat 3]
"""

from __future__ import annotations

import argparse
import io
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


def measure(url: str, period_code: str, repeat: int) -> dict:
    from pypdf import PdfReader
    from weasyprint import HTML

    from tracker import create_app, db
    from tracker.periods import Period
    from tracker.reports import pdf as pdfmod
    from tracker.reports import service

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench" * 8})
    period = Period.parse(period_code)
    rows = []
    with app.test_request_context():
        for _ in range(repeat):
            t0 = time.perf_counter()
            data = service.briefing_data(db.session, period)
            t1 = time.perf_counter()
            html = service.render_html("briefing", data, for_print=True)
            t2 = time.perf_counter()
            pdf, _ = pdfmod.render_pdf(html, Path(app.static_folder))
            t3 = time.perf_counter()
            db.session.rollback()
            # WeasyPrint alone on the same HTML, same fetcher
            w0 = time.perf_counter()
            HTML(string=html, base_url=pdfmod.BASE_URL,
                 url_fetcher=pdfmod.AppOnlyFetcher(Path(app.static_folder))).write_pdf()
            w1 = time.perf_counter()
            rows.append((t1 - t0, t2 - t1, t3 - t2, t3 - t0, w1 - w0, pdf))
    pages = len(PdfReader(io.BytesIO(rows[-1][5])).pages)
    med = [statistics.median(r[i] for r in rows) for i in range(5)]
    app.extensions["tracker.engine"].dispose()
    return {"data": med[0], "html": med[1], "pdf_in_total": med[2], "total": med[3], "weasyprint": med[4],
            "pages": pages, "bytes": len(rows[-1][5]), "ratio": med[3] / med[4]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--period", default="2026-Q3")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        print(f"{'district':<10}{'data s':>8}{'html s':>8}{'weasy s':>9}{'total s':>9}{'pages':>7}{'KiB':>8}"
              f"{'total/weasy':>13}")
        for label, scale in (("demo", 1), ("10x", 10)):
            url = prepare(Path(tmp) / f"{label}.db", scale)
            r = measure(url, args.period, args.repeat)
            print(f"{label:<10}{r['data']:>8.2f}{r['html']:>8.2f}{r['weasyprint']:>9.2f}{r['total']:>9.2f}"
                  f"{r['pages']:>7}{r['bytes'] / 1024:>8.0f}{r['ratio']:>13.3f}")


if __name__ == "__main__":
    main()
