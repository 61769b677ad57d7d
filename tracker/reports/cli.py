"""`flask --app tracker report …`: the briefing, the card report and a unit's scorecard as PDF files."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from .. import db
from ..errors import DomainError
from ..periods import Period

# the services, models and builders are imported by the commands that use them: a group's or a command's help
# imports none of them


@click.group("report", cls=AppGroup)
@click.pass_context
def report_cli(ctx: click.Context) -> None:
    """PDF reports (and their Word versions)."""
    from .pdf import collector_off_until_render, fewer_full_collections, freeze_at_exit

    # the cycle collector is held off until the render (what the command makes before it lives until it ends), the
    # report is rendered with its full passes held back, and the process, which ends with the command, skips the
    # collector's last passes over everything it made (reports/pdf.py)
    ctx.with_resource(collector_off_until_render())
    ctx.with_resource(fewer_full_collections())
    freeze_at_exit()


def _period(text: str) -> Period:
    try:
        return Period.parse(text)
    except DomainError as e:
        raise click.ClickException(str(e)) from None


FORMAT = click.option(
    "--format",
    "fmt",
    type=click.Choice(["pdf", "docx"]),
    default="pdf",
    show_default=True,
    help="docx: the Word version, a draft to edit (the archived PDF is the record).",
)


def _write(kind: str, data, out: Path, fmt: str = "pdf") -> None:
    from . import service
    from .pdf import FontMissing, start_render

    start_render()
    try:
        body = service.to_docx(kind, data) if fmt == "docx" else service.to_pdf(kind, data)
    except FontMissing as e:
        raise click.ClickException(str(e)) from None
    out.write_bytes(body)
    click.echo(f"{out}: {len(body)} bytes")


@report_cli.command("briefing")
@click.option("--period", required=True, help="2026-Q3, 2026-10 …")
@click.option("--meeting", "meeting_id", type=int, default=None, help="A meeting id: its archived PDF once held.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@FORMAT
def briefing_command(period: str, meeting_id: int | None, output: Path, fmt: str) -> None:
    """The joint-meeting briefing (通报) for a period or a meeting."""
    from ..meetings.models import Meeting
    from . import service

    meeting = None
    if meeting_id is not None:
        meeting = db.session.get(Meeting, meeting_id)
        if meeting is None:
            raise click.ClickException(f"会议 {meeting_id} 不存在")
        archive = service.current_archive(db.session, meeting.id) if fmt == "pdf" else None
        if archive is not None:
            output.write_bytes(archive.pdf)
            click.echo(f"{output}: archived version {archive.version}, sha256 {archive.sha256}")
            return
    p = service.meeting_period(meeting) if meeting else _period(period)
    _write("briefing", service.briefing_data(db.session, p, meeting), output, fmt)


@report_cli.command("cards")
@click.option("--period", required=True, help="A quarter such as 2026-Q3.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@FORMAT
def cards_command(period: str, output: Path, fmt: str) -> None:
    """The card assessment report (红黄牌考评通报) for a quarter."""
    from . import builders

    data = builders.card_report(db.session, _period(period), current_app.config["DISTRICT_NAME"])
    _write("cards", data, output, fmt)


@report_cli.command("scorecard")
@click.option("--unit", "unit_name", required=True, help="The unit's name, e.g. 青石镇.")
@click.option("--period", required=True, help="A quarter such as 2026-Q3.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@FORMAT
def scorecard_command(unit_name: str, period: str, output: Path, fmt: str) -> None:
    """A unit's scorecard for a quarter."""
    from sqlalchemy import select

    from ..org.models import Unit
    from ..plans.service import active_plan
    from . import builders

    unit = db.session.scalar(select(Unit).where(Unit.name == unit_name))
    if unit is None:
        raise click.ClickException(f"单位“{unit_name}”不存在")
    p = _period(period)
    if p.kind != "quarter":
        raise click.ClickException("记分卡按季度生成,请使用 2026-Q3 这样的季度")
    data = builders.scorecard(db.session, active_plan(db.session), unit, p, current_app.config["DISTRICT_NAME"])
    _write("scorecard", data, output, fmt)
