"""Benchmark the 两降两升 spreadsheet import: rows/s of the dry run and of the real import, peak memory, and the ratio
to a bare expat scan of the same sheet, measured in one run beside the machine's load average.

Builds a database with `alembic upgrade head`, the seed units and indicators (all switched on) and the towns; writes
the spreadsheet (towns × months, a column for every indicator but the two counted from the publicity register,
which cannot be imported); then measures, each on the same bytes:

- bare scan: the sheet part inflated and parsed by expat with empty start, end and text handlers: the floor any
  reader of the sheet pays;
- dry run: what the upload page does before showing the preview (check the file, read its rows, check every row
  and cell against the units, indicators, rules and stored figures);
- real import: what the confirm does: on PostgreSQL the file read and checked again, each row's new figures sent
  to the database as it is read, the preview's digest compared at the end (on SQLite the dry run, then the
  write); then the changed figures and the months' audit events, committed (first into an empty table: inserts;
  then again with every figure changed: updates against stored figures). The upload's preview it is compared
  with is built before, not measured.

Peak memory is the growth of the process's peak resident set during the step (/proc/self/clear_refs resets it), so
what C parsers allocate counts too. On a PostgreSQL server on this machine, "srv CPU" is the CPU seconds its
processes serving the benchmark's database spent during the step (from /proc: the insert's own work, which the
wall clock shows only mixed with the machine's load). Ratios are to the bare scan's time in the same run, which
carries the machine's load as the step does.

    .venv/bin/python benchmarks/import_metrics.py [--towns 500] [--years 10] [--database-url URL] [--inserts-only]

The default (500 towns × 120 months × 10 indicators, the district's row each month) is 60,120 rows.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import io
import os
import sys
import tempfile
import time
import zipfile
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from xml.parsers import expat

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from alembic import command  # noqa: E402
from alembic.config import Config  # noqa: E402
from openpyxl import Workbook  # noqa: E402
from sqlalchemy import func, select  # noqa: E402
from sqlalchemy.orm import sessionmaker  # noqa: E402

from tracker import clock  # noqa: E402
from tracker.db import make_engine  # noqa: E402
from tracker.metrics import excel, exchange, import_stream, importing, service  # noqa: E402
from tracker.metrics.models import REGISTER_CODES, MetricValue  # noqa: E402
from tracker.org import service as org_service  # noqa: E402
from tracker.periods import Period, month_range  # noqa: E402
from tracker.seed import SYSTEM, load_base  # noqa: E402


def _n(*keys) -> int:
    return int(hashlib.sha256("|".join(map(str, keys)).encode()).hexdigest()[:6], 16)


def spreadsheet(indicators, towns: list[str], months: list[Period], bump: int = 0) -> bytes:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("数据")
    ws.append(["单位", "月份", *[i.label for i in indicators]])
    district = any(i.scope == "district" for i in indicators)
    for m in months:
        for t in towns + (["全区"] if district else []):
            row = [t, m.code]
            for i in indicators:
                if (i.scope == "district") != (t == "全区"):
                    row.append(None)
                    continue
                n = _n(t, i.code, m.code) % 40 + 1 + bump
                if i.unit_label == "%":
                    row.append(Decimal(50 + n % 50) + Decimal(n % 10) / 10)
                elif i.decimals:
                    row.append(Decimal(n * 137 % 9000) / 100 + 1)
                else:
                    row.append(n)
            ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _peak_kib() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def server_cpu(database: str | None) -> float | None:
    """CPU seconds (user + system) of the PostgreSQL processes on this machine serving `database` (their title
    names it), or None when there is none to read (SQLite, or a server elsewhere)."""
    if not database:
        return None
    total, found, tick = 0, False, os.sysconf("SC_CLK_TCK")
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                title = f.read().decode(errors="replace")
            if not title.startswith("postgres:") or f" {database} " not in title:
                continue
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
        found = True
    return total / tick if found else None


class Step:
    """A step's wall-clock and CPU seconds, the server's CPU seconds and the MB the peak resident set grew by."""

    def __init__(self, secs: float, cpu: float, mb: float, server: float | None = None):
        self.secs, self.cpu, self.mb, self.server = secs, cpu, mb, server

    def line(self, label: str, rows: int, bare: Step) -> str:
        server = f"{self.server:7.2f}" if self.server is not None else f"{'-':>7}"
        return (
            f"  {label:36} {self.secs:6.2f} {rows / self.secs:7.0f} {self.secs / bare.secs:6.1f}"
            f" {self.cpu:6.2f} {rows / self.cpu:7.0f} {self.cpu / bare.cpu:6.1f} {self.mb:6.0f} {server}"
        )


HEADER = (
    f"  {'step':36} {'s':>6} {'rows/s':>7} {'×bare':>6} {'CPU s':>6} {'rows/':>7} {'×bare':>6} {'MB':>6} {'srv':>7}"
)
HEADER += f"\n  {'':36} {'':>6} {'':>7} {'':>6} {'':>6} {'CPU s':>7} {'CPU':>6} {'peak':>6} {'CPU s':>7}"
DATABASE: str | None = None  # the PostgreSQL database whose server processes' CPU is read


def measured(step):
    """(result, Step) of step(): its wall-clock and CPU (this process's) seconds, the database server's CPU
    seconds and peak memory. CPU seconds carry less of the machine's load than the wall clock does, though a loaded
    machine slows them too."""
    gc.collect()
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # the peak resident set starts again from the current one
    before = _peak_kib()
    s0 = server_cpu(DATABASE)
    t0, c0 = time.perf_counter(), time.process_time()
    result = step()
    secs, cpu = time.perf_counter() - t0, time.process_time() - c0
    s1 = server_cpu(DATABASE)
    server = s1 - s0 if s0 is not None and s1 is not None else None
    return result, Step(secs, cpu, (_peak_kib() - before) / 1024, server)


def bare_scan(data: bytes) -> int:
    """Inflate the first worksheet and let expat walk it with empty handlers; returns the elements seen."""
    count = 0

    def start(_name, _attrs):
        nonlocal count
        count += 1

    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        name = next(n for n in zf.namelist() if n.startswith("xl/worksheets/") and n.endswith(".xml"))
        with zf.open(name) as part:
            parser = expat.ParserCreate()
            parser.ordered_attributes = True
            parser.StartElementHandler = start
            parser.EndElementHandler = lambda _name: None
            parser.CharacterDataHandler = lambda _text: None
            while chunk := part.read(64 * 1024):
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
    return count


def dry_run(session, data: bytes):
    checked = excel.check_xlsx(data, "bench.xlsx")
    sheet = checked if isinstance(checked, excel.RawSheet) else excel.read_sheet(data)
    return sheet, exchange.build_preview(session, SYSTEM, sheet)


def real_import(session, data: bytes, confirmed):
    """What the confirm does: on PostgreSQL the file read and checked again, written in the same pass
    (import_stream); on SQLite the preview built again, then written."""
    if import_stream.worth_it(session):
        digest, months = confirmed
        result = import_stream.write_confirmed(session, SYSTEM, data, "bench.xlsx", months, digest, True)
        assert result is not None, "the confirm was not written in one pass"
    else:
        _sheet, preview = dry_run(session, data)
        assert not preview.errors, preview.errors[:5]
        result = importing.apply_import(session, SYSTEM, preview, filename="bench.xlsx")
    session.commit()
    return result


def previewed(session, data: bytes):
    """The upload's preview of the file (not measured): what the confirm compares with, its warnings."""
    _sheet, preview = dry_run(session, data)
    session.rollback()
    assert not preview.errors, preview.errors[:5]
    return (preview.digest, preview.months), len(preview.warnings)


def setup(url: str, town_count: int):
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.attributes.update(url=url, configure_logger=False)
    command.upgrade(cfg, "head")
    engine = make_engine(url)
    session = sessionmaker(bind=engine, expire_on_commit=False)()
    session.info["audit_key"] = "benchmark-only-audit-key-" + "x" * 16  # the audit chain's HMAC key of this database
    load_base(session)
    towns = [f"测试{i:03d}镇" for i in range(1, town_count + 1)]
    for name in towns:
        org_service.create_unit(session, SYSTEM, name=name, kind="township")
    for ind in service.all_indicators(session):
        if not ind.is_active:
            service.update_indicator(session, SYSTEM, ind.id, ind.version, {**ind.snapshot(), "is_active": True})
    session.commit()
    return engine, session, towns


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--years", type=int, default=10)
    ap.add_argument("--towns", type=int, default=500)
    ap.add_argument("--database-url", help="an empty database; default: a new SQLite file in a temporary directory")
    ap.add_argument("--inserts-only", action="store_true", help="skip the second import (every figure changed)")
    args = ap.parse_args()
    url = args.database_url or f"sqlite:///{os.path.join(tempfile.mkdtemp(prefix='metrics-bench-'), 'bench.db')}"
    clock.freeze(datetime(2026, 11, 28, 10, tzinfo=clock.CHINA_TZ))
    engine, session, towns = setup(url, args.towns)
    global DATABASE
    DATABASE = engine.url.database if engine.dialect.name == "postgresql" else None
    # the figures counted from the publicity register cannot be imported: their columns stay out of the file
    indicators = [i for i in service.active_indicators(session) if i.code not in REGISTER_CODES]
    months = month_range(Period.month(2026 - args.years, 1), Period.month(2025, 12))
    first, second = (spreadsheet(indicators, towns, months, bump) for bump in (0, 1))

    load = os.getloadavg()
    print(f"database: {engine.dialect.name}; {len(towns)} towns, {len(months)} months, {len(indicators)} indicators")
    print(f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} ({os.cpu_count()} cores)")
    elements, bare = measured(lambda: bare_scan(first))
    (sheet, preview), dry = measured(lambda: dry_run(session, first))
    session.rollback()
    rows, figures = len(sheet.rows), len(preview.writes)
    del sheet, preview
    print(f"\nspreadsheet: {len(first) / 1024:.0f} KB, {rows} rows, {figures} figures, {elements} XML elements")
    print(HEADER)
    print(bare.line("bare expat scan of the sheet", rows, bare))
    print(dry.line("dry run (check, read, preview)", rows, bare))
    imports = [("real import, inserts", first), ("real import, every figure changed", second)]
    for label, data in imports[: 1 if args.inserts_only else 2]:
        confirmed, warnings = previewed(session, data)
        result, step = measured(lambda data=data, confirmed=confirmed: real_import(session, data, confirmed))
        print(step.line(label, rows, bare))
        print(f"  {'':36} ({result.inserted} new, {result.updated} changed, {warnings} warnings)")
    stored = session.scalar(select(func.count()).select_from(MetricValue))
    load = os.getloadavg()
    print(f"\nfigures stored: {stored}; load average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    session.close()
    engine.dispose()
    clock.freeze(None)


if __name__ == "__main__":
    main()
