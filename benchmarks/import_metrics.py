"""Benchmark the 两降两升 spreadsheet import: 10 years × 50 towns × every indicator.

Builds a temporary SQLite database with `alembic upgrade head`, the seed units and indicators (all switched on) and
50 towns; writes the spreadsheet; then times parse + validate (the preview) and the commit, first into an empty
table (inserts) and then again with every figure changed (updates against stored figures).

    .venv/bin/python benchmarks/import_metrics.py [--years 10] [--towns 50] [--database-url URL]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import sys
import tempfile
import time
from datetime import datetime
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from alembic import command  # noqa: E402
from alembic.config import Config  # noqa: E402
from openpyxl import Workbook  # noqa: E402
from sqlalchemy.orm import sessionmaker  # noqa: E402

from tracker import clock  # noqa: E402
from tracker.db import make_engine  # noqa: E402
from tracker.metrics import exchange, service  # noqa: E402
from tracker.metrics.excel import check_xlsx, read_sheet  # noqa: E402
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--years", type=int, default=10)
    ap.add_argument("--towns", type=int, default=50)
    ap.add_argument("--database-url", help="default: a new SQLite file in a temporary directory")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="metrics-bench-")
    url = args.database_url or f"sqlite:///{os.path.join(tmp, 'bench.db')}"
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.attributes.update(url=url, configure_logger=False)
    command.upgrade(cfg, "head")
    clock.freeze(datetime(2026, 11, 28, 10, tzinfo=clock.CHINA_TZ))
    engine = make_engine(url)
    session = sessionmaker(bind=engine, expire_on_commit=False)()
    load_base(session)
    towns = [f"测试{i:02d}镇" for i in range(1, args.towns + 1)]
    for name in towns:
        org_service.create_unit(session, SYSTEM, name=name, kind="township")
    for ind in service.all_indicators(session):
        if not ind.is_active:
            service.update_indicator(session, SYSTEM, ind.id, ind.version, {**ind.snapshot(), "is_active": True})
    session.commit()
    indicators = service.active_indicators(session)
    months = month_range(Period.month(2026 - args.years, 1), Period.month(2025, 12))

    print(f"database: {engine.dialect.name}; {len(towns)} towns, {len(months)} months, {len(indicators)} indicators")
    for label, bump in (("first import (inserts)", 0), ("second import (every figure changed: updates)", 1)):
        data = spreadsheet(indicators, towns, months, bump)
        t0 = time.perf_counter()
        check_xlsx(data, "bench.xlsx")
        sheet = read_sheet(data)
        t1 = time.perf_counter()
        preview = exchange.build_preview(session, SYSTEM, sheet)
        t2 = time.perf_counter()
        assert not preview.errors, preview.errors[:5]
        result = exchange.apply_import(session, SYSTEM, preview, filename="bench.xlsx")
        session.commit()
        t3 = time.perf_counter()
        rows, figures = len(sheet.rows), len(preview.writes)
        print(f"\n{label}: {len(data) / 1024:.0f} KB, {rows} rows, {figures} figures "
              f"({result.inserted} new, {result.updated} changed), {len(preview.warnings)} warnings")
        for name, secs in (("parse", t1 - t0), ("validate", t2 - t1), ("parse+validate", t2 - t0),
                           ("commit", t3 - t2)):
            print(f"  {name:16} {secs:6.2f} s  {rows / secs:9.0f} rows/s  {figures / secs:9.0f} figures/s")
    t0 = time.perf_counter()
    service.summary(session, Period.parse("2025"))
    print(f"\nsummary of a year over {len(towns)} towns: {time.perf_counter() - t0:.2f} s")
    session.close()
    engine.dispose()
    clock.freeze(None)


if __name__ == "__main__":
    main()
