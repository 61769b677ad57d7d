"""`flask --app tracker metrics …`: import and export spreadsheets, print a span's summary."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import click
from flask.cli import AppGroup

from .. import db
from ..errors import DomainError, ValidationError
from ..periods import Period

if TYPE_CHECKING:
    from . import service

# the services and models are imported by the commands that use them: a group's or a command's help imports none

metrics_cli = AppGroup("metrics", help="两降两升 figures: spreadsheet import and export, summaries.")


def _actor(username: str | None):
    from sqlalchemy import select

    from ..auth.models import User
    from ..auth.system import SYSTEM

    if not username:
        return SYSTEM
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None or not user.is_active:
        raise click.ClickException(f"no active user {username}")
    return user


@metrics_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Only check the file and print the problems; write nothing.")
@click.option(
    "--accept-warnings",
    is_flag=True,
    help="Write even though there are warnings (overwrites, suspicious values). Errors always block.",
)
@click.option("--user", "username", help="Act as this user (default: the system account, which may write all).")
@click.option("--reason", default="", help="Correction reason (required when acting as a reviewer).")
def import_command(file: Path, dry_run: bool, accept_warnings: bool, username: str | None, reason: str) -> None:
    """Check FILE.xlsx like the import preview; print every problem; exit 1 when there are any (nothing written).

    Without --dry-run and with no problems (or only warnings and --accept-warnings), write every row in one
    transaction.
    """
    # openpyxl (under exchange and excel) is imported by the commands that read or write a spreadsheet only
    from . import exchange, importing
    from .excel import check_xlsx

    data = file.read_bytes()
    try:
        preview = exchange.build_preview(db.session, _actor(username), check_xlsx(data, file.name))
    except ValidationError as e:
        click.echo(f"[错误] 文件:{e}")
        raise SystemExit(1) from None
    for p in preview.problems:
        click.echo(str(p))
    blocking = preview.errors or (preview.warnings and not accept_warnings)
    click.echo(
        f"{len(preview.writes)} figures to write ({preview.inserts} new, {preview.updates} changed); "
        f"{len(preview.errors)} errors, {len(preview.warnings)} warnings"
    )
    if blocking or not preview.writes:
        db.session.rollback()
        raise SystemExit(1 if blocking else 0)
    if dry_run:
        db.session.rollback()
        click.echo("dry run: nothing written")
        return
    try:
        result = importing.apply_import(db.session, _actor(username), preview, reason, file.name)
        db.session.commit()
    except DomainError as e:
        db.session.rollback()
        click.echo(f"[错误] {e}")
        raise SystemExit(1) from None
    click.echo(f"written: {result.inserted} new, {result.updated} changed, {result.months} months")


@metrics_cli.command("export")
@click.option("--from", "start", required=True, help="First month, YYYY-MM.")
@click.option("--to", "end", required=True, help="Last month, YYYY-MM.")
@click.option(
    "-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path), help="The .xlsx file to write."
)
def export_command(start: str, end: str, output: Path) -> None:
    """Write every figure of the months FROM to TO to an .xlsx file in the import template's columns."""
    from . import workbooks

    try:
        a, b = Period.parse(start), Period.parse(end)
        data = workbooks.export_file(db.session, Period.month(a.year, a.first), Period.month(b.year, b.last))
    except ValidationError as e:
        raise click.ClickException(str(e)) from None
    output.write_bytes(data)
    click.echo(f"exported {a.code} to {b.code} to {output}")


def _json_value(v):
    """Counts as JSON integers; amounts, rates and percentages as decimal strings (exact)."""
    if v is None:
        return None
    return format(v, "f") if isinstance(v, Decimal) else v


def _comparison(c: service.Comparison) -> dict:
    return {
        "value": _json_value(c.value),
        "last_year": _json_value(c.last_year),
        "yoy_abs": _json_value(c.yoy_abs),
        "yoy_pct": _json_value(c.yoy_pct),
        "mom_abs": _json_value(c.mom_abs),
        "judged_by": c.judged_by,
        "improved": c.improved,
        "missing": _missing(c.missing),
        "mom_missing": _missing(c.mom_missing),
    }


def _missing(items) -> list[dict]:
    """Unit-months left out of a comparison, as [{"unit": "柳溪镇", "month": "2026-08"}]."""
    return [{"unit": unit, "month": month} for unit, month in items]


def summary_dict(s: service.Summary) -> dict:
    """The summary as plain JSON data."""
    return {
        "period": s.period.code,
        "label": s.period.label,
        "district": {code: _comparison(c) for code, c in s.district.items()},
        "two_down_two_up": s.two_down_two_up,
        "verdict": s.verdict,
        "missing": _missing(s.missing),
        "units": [
            {
                "unit": u.unit.name,
                **{code: _comparison(c) for code, c in u.comparisons.items()},
                "two_down_two_up": u.two_down_two_up,
                "verdict": u.verdict,
                "rank": u.rank,
            }
            for u in s.ranked()
        ],
    }


@metrics_cli.command("summary")
@click.option("--period", "period_text", required=True, help="2026-10, 2026-Q3, 2026 or 2026-YTD-10.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (amounts and percentages as strings).")
def summary_command(period_text: str, as_json: bool) -> None:
    """Print the district's and every town's figures, changes, 两降两升 verdicts and ranks for a span."""
    from . import service

    try:
        period = Period.parse(period_text)
    except ValidationError as e:
        raise click.ClickException(str(e)) from None
    s = service.summary(db.session, period)
    if as_json:
        click.echo(json.dumps(summary_dict(s), ensure_ascii=False, indent=1))
        return
    codes = [i.code for i in s.core]
    click.echo(f"{s.period.label}  全区两降两升:{service.VERDICT_LABELS[s.verdict]}")
    if s.missing:
        click.echo("  缺数据(同比只比较两期都有数据的单位和月份):" + "、".join(f"{u} {m}" for u, m in s.missing))
    for code in codes:
        c = s.district[code]
        click.echo(
            f"  {code:8} {_json_value(c.value)!s:>10}  去年同期 {_json_value(c.last_year)!s:>10}  "
            f"同比 {_json_value(c.yoy_abs)!s:>8} {('(' + format(c.yoy_pct, 'f') + '%)') if c.yoy_pct else ''}"
        )
    for u in s.ranked():
        marks = " ".join(f"{code}{u.comparisons[code].arrow}" for code in codes if code in u.comparisons)
        click.echo(f"  {u.rank:>2}. {u.unit.name:6} {service.VERDICT_LABELS[u.verdict]}  {marks}")
