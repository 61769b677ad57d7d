"""Report benchmark: the joint-meeting briefing for the demo district and for one ten times its size.

Prints, for each: time to build the data, to render the HTML, WeasyPrint alone on that same HTML, the total,
the page count, the file size, and the ratio total / WeasyPrint-alone (measured in the same run).

Then the same as whole processes, as a user meets it: `flask --app tracker report briefing` end to end against a
bare `weasyprint` process rendering the saved HTML of the same briefing (CPU and wall seconds, medians of
--repeat, taken in turn so a busy machine slows both alike, after a warm-up round of each that also writes the
application's bytecode, as a server has it), the ratio, the PDF's size and its fonts, and the load average.

    .venv/bin/python benchmarks/report.py [--period 2026-Q3] [--repeat 3] [--only demo]
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
            HTML(
                string=html, base_url=pdfmod.BASE_URL, url_fetcher=pdfmod.AppOnlyFetcher(Path(app.static_folder))
            ).write_pdf()
            w1 = time.perf_counter()
            rows.append((t1 - t0, t2 - t1, t3 - t2, t3 - t0, w1 - w0, pdf))
    pages = len(PdfReader(io.BytesIO(rows[-1][5])).pages)
    med = [statistics.median(r[i] for r in rows) for i in range(5)]
    app.extensions["tracker.engine"].dispose()
    return {
        "data": med[0],
        "html": med[1],
        "pdf_in_total": med[2],
        "total": med[3],
        "weasyprint": med[4],
        "pages": pages,
        "bytes": len(rows[-1][5]),
        "ratio": med[3] / med[4],
    }


def _child(argv: list, env: dict) -> tuple[float, float]:
    """CPU seconds (user + system) and wall seconds of one process."""
    before, t0 = os.times(), time.perf_counter()
    subprocess.run(argv, cwd=ROOT, env=env, check=True, capture_output=True)
    wall, after = time.perf_counter() - t0, os.times()
    return (after.children_user - before.children_user) + (after.children_system - before.children_system), wall


def saved_html(url: str, period_code: str, target: Path) -> None:
    """The briefing's print HTML as the command renders it, its stylesheets pointing at the static folder."""
    from tracker import create_app, db
    from tracker.periods import Period
    from tracker.reports import service

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench" * 8})
    with app.test_request_context():
        html = service.render_html("briefing", service.briefing_data(db.session, Period.parse(period_code)), True)
        db.session.rollback()
    app.extensions["tracker.engine"].dispose()
    target.write_text(html.replace('href="/static/', 'href="static/'), encoding="utf-8")


def processes(url: str, period_code: str, repeat: int, tmp: Path) -> dict:
    venv = ROOT / ".venv" / "bin"
    env = {**os.environ, "TRACKER_DATABASE_URL": url, "TRACKER_INSTANCE_PATH": str(tmp / "instance")}
    # as on a server: the warm-up round writes the bytecode the counted rounds read (with PYTHONDONTWRITEBYTECODE
    # set, every round compiled the application's modules from source again; WeasyPrint's come compiled with it)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    html = tmp / "briefing.html"
    saved_html(url, period_code, html)
    command = [venv / "flask", "--app", "tracker", "report", "briefing", "--period", period_code, "-o", tmp / "c.pdf"]
    bare = [venv / "weasyprint", "--base-url", ROOT.as_uri() + "/", html, tmp / "w.pdf"]
    _child(command, env), _child(bare, env)  # warm caches
    rows = [(_child(command, env), _child(bare, env)) for _ in range(repeat)]
    fonts = subprocess.run(["pdffonts", tmp / "c.pdf"], capture_output=True, text=True).stdout.splitlines()[2:]
    return {
        "cmd_cpu": statistics.median(c[0] for c, _b in rows),
        "cmd_wall": statistics.median(c[1] for c, _b in rows),
        "bare_cpu": statistics.median(b[0] for _c, b in rows),
        "bare_wall": statistics.median(b[1] for _c, b in rows),
        "bytes": (tmp / "c.pdf").stat().st_size,
        "fonts": [line.split()[0].split("+")[-1] for line in fonts if line.strip()],
        "embedded": all(line.split()[-5] == "yes" for line in fonts if line.strip()),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--period", default="2026-Q3")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--only", choices=("demo", "10x"), help="measure one district only")
    args = ap.parse_args()
    districts = [(label, scale) for label, scale in (("demo", 1), ("10x", 10)) if args.only in (None, label)]
    with tempfile.TemporaryDirectory() as tmp:
        urls = {label: prepare(Path(tmp) / f"{label}.db", scale) for label, scale in districts}
        print(
            f"{'district':<10}{'data s':>8}{'html s':>8}{'weasy s':>9}{'total s':>9}{'pages':>7}{'KiB':>8}"
            f"{'total/weasy':>13}"
        )
        for label, _scale in districts:
            r = measure(urls[label], args.period, args.repeat)
            print(
                f"{label:<10}{r['data']:>8.2f}{r['html']:>8.2f}{r['weasyprint']:>9.2f}{r['total']:>9.2f}"
                f"{r['pages']:>7}{r['bytes'] / 1024:>8.0f}{r['ratio']:>13.3f}"
            )
        print()
        print("whole processes: `report briefing` against a bare `weasyprint` on the saved HTML")
        print(
            f"{'district':<10}{'cmd CPU':>8}{'cmd wall':>9}{'bare CPU':>9}{'bare wall':>10}{'CPU ×':>7}{'wall ×':>7}"
            f"{'KiB':>6}  fonts (all embedded?)"
        )
        for label, _scale in districts:
            folder = Path(tmp) / f"p-{label}"
            folder.mkdir()
            r = processes(urls[label], args.period, args.repeat, folder)
            print(
                f"{label:<10}{r['cmd_cpu']:>8.2f}{r['cmd_wall']:>9.2f}{r['bare_cpu']:>9.2f}{r['bare_wall']:>10.2f}"
                f"{r['cmd_cpu'] / r['bare_cpu']:>7.2f}{r['cmd_wall'] / r['bare_wall']:>7.2f}"
                f"{r['bytes'] / 1024:>6.0f}  {', '.join(r['fonts'])} ({'yes' if r['embedded'] else 'NO'})"
            )
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


if __name__ == "__main__":
    main()
