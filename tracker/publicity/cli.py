"""`flask --app tracker activities …`: the register's template, import, export and a period's summary."""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import select

from .. import db
from ..auth.system import SYSTEM
from ..errors import DomainError, ValidationError
from ..periods import Period

# the services and models are imported by the commands that use them: a group's or a command's help imports none

activities_cli = AppGroup("activities", help="宣传活动台账: Excel template, import, export, summary.")


def _actor(username: str | None):
    from ..auth.models import User

    if not username:
        return SYSTEM
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None or not user.is_active:
        raise click.ClickException(f"no active user {username}")
    return user


def _output():
    return click.option(
        "-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path), help="The .xlsx to write."
    )


@activities_cli.command("template")
@_output()
def template_command(output: Path) -> None:
    """Write the import template (the columns, and the lists' current entries on its 说明 sheet)."""
    from . import exchange

    output.write_bytes(exchange.template_file(db.session))
    click.echo(f"template written to {output}")


@activities_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Only check the file and print the problems; write nothing.")
@click.option("--user", "username", help="Act as this user (default: the system account, which records for all).")
def import_command(file: Path, dry_run: bool, username: str | None) -> None:
    """Check FILE.xlsx like the import preview and print every problem; with any, exit 1 and write nothing.
    Otherwise write every row in one transaction (not with --dry-run)."""
    from . import exchange

    data = file.read_bytes()
    actor = _actor(username)
    try:
        from ..metrics.excel import check_xlsx  # openpyxl only when a sheet is read

        # the check reads the sheet's rows in its own scan: no second parser reads the file
        preview = exchange.build_preview(db.session, actor, check_xlsx(data, file.name))
    except ValidationError as e:
        db.session.rollback()
        click.echo(f"[错误] 文件:{e}")
        raise SystemExit(1) from None
    for p in preview.problems:
        click.echo(str(p))
    click.echo(f"{len(preview.rows)} activities in the file; {len(preview.errors)} problems")
    if preview.errors or not preview.rows:
        db.session.rollback()
        raise SystemExit(1)
    if dry_run:
        db.session.rollback()
        click.echo("dry run: nothing written")
        return
    try:
        n = exchange.apply_import(db.session, actor, preview, file.name)
        db.session.commit()
    except DomainError as e:
        db.session.rollback()
        click.echo(f"[错误] {e}")
        raise SystemExit(1) from None
    click.echo(f"written: {n} activities")


@activities_cli.command("export")
@click.option("--from", "start", required=True, help="First month, YYYY-MM.")
@click.option("--to", "end", required=True, help="Last month, YYYY-MM.")
@_output()
def export_command(start: str, end: str, output: Path) -> None:
    """Write every activity held from the month FROM to the month TO, in the template's columns."""
    from . import exchange
    from .service import ActivityFilter

    try:
        a, b = Period.parse(start), Period.parse(end)
        if b.end < a.start:
            raise ValidationError("结束月份不能早于开始月份")
        f = ActivityFilter(start=Period.month(a.year, a.first).code, end=Period.month(b.year, b.last).code)
        data = exchange.export_file(db.session, SYSTEM, f)
    except ValidationError as e:
        raise click.ClickException(str(e)) from None
    output.write_bytes(data)
    click.echo(f"exported {a.code} to {b.code} to {output}")


@activities_cli.command("summary")
@click.option("--period", required=True, help="A month (2026-09), quarter (2026-Q3) or year (2026).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def summary_command(period: str, as_json: bool) -> None:
    """Activities and audience of the period: in total, per target group, per unit; the target groups (and each
    town's listed 村/社区) without an activity."""
    from .statistics import statistics

    try:
        p = Period.parse(period)
    except ValidationError as e:
        raise click.ClickException(str(e)) from None
    s = statistics(db.session, p)
    if as_json:
        click.echo(json.dumps(s.as_json(), ensure_ascii=False, indent=1))
        return
    click.echo(f"{p.label}: {s.total.activities} activities, {s.total.audience} audience")
    for name, t in s.by_unit.items():
        click.echo(f"  {name}: {t.activities} / {t.audience}")
    click.echo("uncovered target groups: " + ("、".join(s.uncovered_targets) or "none"))
    for town, names in s.uncovered_communities.items():
        if names:
            click.echo(f"  {town} 未覆盖: {'、'.join(names)}")
