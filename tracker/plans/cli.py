"""`flask --app tracker plan …`: importing a plan from its document on the command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click
from flask import current_app
from flask.cli import AppGroup

from .. import db
from ..auth.system import SYSTEM
from ..errors import DomainError

if TYPE_CHECKING:
    from . import import_service

# the services and models are imported by the commands that use them: a group's or a command's help imports none

plan_cli = AppGroup("plan", help="Implementation plans.")


def _fail(message: str) -> None:
    click.echo(message, err=True)
    raise click.exceptions.Exit(1)


@plan_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--section", help="In a file holding several documents, the one to import, e.g. 篇2.")
@click.option("--title", help="The plan's title, when the text has no title line.")
@click.option("--year", type=int, help="The plan's year, when the title does not say it.")
@click.option("--district", help="The district the plan is for (default: DISTRICT_NAME).")
@click.option("--dry-run", is_flag=True, help="Recognise and report; write nothing.")
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print the recognised structure (the seed/plan.json form plus unknown_units) and write nothing.",
)
@click.option("--create-units", is_flag=True, help="Create names that match no unit as new departments.")
def import_command(
    file: Path,
    section: str | None,
    title: str | None,
    year: int | None,
    district: str | None,
    dry_run: bool,
    as_json: bool,
    create_units: bool,
) -> None:
    """Import a plan (实施方案) from its text, .txt or .docx: parts, tasks, lead and member units, measures.

    Exits 1 with a message when the text is not a plan, names units that do not exist (without --create-units),
    or a plan of the same title and year is already there.
    """
    from ..org.models import KIND_DEPARTMENT
    from . import import_service
    from .documents import ImportTextError, read_document

    try:
        text = read_document(file.name, file.read_bytes())
    except ImportTextError as e:
        _fail(str(e))
    district = district if district is not None else current_app.config["DISTRICT_NAME"]
    s = db.session
    try:
        preview = import_service.preview(
            s, text, section=section, title=title, year=year, district=district, source=file.name
        )
    except DomainError as e:
        _fail(str(e))
    if as_json:
        click.echo(json.dumps(preview.json(), ensure_ascii=False, indent=1))
        return
    _summary(preview)
    if dry_run:
        click.echo("试运行:未写入任何内容。")
        return
    if preview.unknown and not create_units:
        _fail(
            "以下单位尚未登记:" + "、".join(preview.unknown) + "。请先在“单位管理”中添加(或为已有单位补充其他名称),"
            "或加 --create-units 将其新建为部门。"
        )
    decisions = {n: f"new:{KIND_DEPARTMENT}" for n in preview.unknown}
    try:
        result = import_service.import_plan(s, SYSTEM, preview.data, decisions, source=file.name)
    except DomainError as e:
        s.rollback()
        _fail(str(e))
    s.commit()
    click.echo(f"已导入实施方案“{result.plan.title}”({result.plan.year}年),新建单位{len(result.new_units)}个。")


def _summary(p: import_service.Preview) -> None:
    d = p.data
    click.echo(f"方案:{d.get('title') or '(无标题)'}({d.get('year') or '年度未知'})")
    click.echo(f"工作目标{len(d['goals'])}项,主要任务{len(d['tasks'])}项,工作要求{len(d['requirements'])}项")
    for t in d["tasks"]:
        members = list(t["member_units"]) + (["各镇(街道)"] if t["includes_townships"] else [])
        click.echo(
            f"{p.label(t['number'])}{t['title']}  牵头:{'、'.join(t['lead_units']) or '—'}  "
            f"成员:{'、'.join(members) or '—'}  措施{len(t['measures'])}条"
        )
    for name, unit in p.matches.items():
        click.echo(f"单位“{name}”即“{unit}”")
    if p.unknown:
        click.echo("未登记的单位:" + "、".join(p.unknown))
    for w in p.warnings:
        click.echo(f"提示:{w}")
