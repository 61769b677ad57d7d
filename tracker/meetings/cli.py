"""`flask --app tracker meetings …`: joint meetings and where their decisions stand."""

from __future__ import annotations

import json

import click
from flask.cli import AppGroup

from .. import clock, db
from ..errors import ValidationError

meetings_cli = AppGroup("meetings", help="Joint meetings (联席会议) and their supervised items.")


@meetings_cli.command("list")
@click.option("--period", default=None, help="Only meetings reviewing this period or one inside it (2026-Q3, 2026).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def list_command(period: str | None, as_json: bool) -> None:
    """List every meeting, upcoming first, with its decisions counted by state."""
    from . import service  # the service and its models are imported by the command, not by its help

    try:
        meetings = service.list_meetings(db.session, None, period)
    except ValidationError as e:
        raise click.ClickException(str(e)) from None
    today = clock.today()
    rows = []
    for m in meetings.upcoming + meetings.past:
        counts = service.status_counts(m.decisions, today)
        rows.append(
            {
                "id": m.id,
                "date": m.date.isoformat(),
                "title": m.title,
                "period": m.period,
                "status": m.status,
                "convener": m.convener,
                "units": [u.name for u in m.units],
                "decisions": len(m.decisions),
                "counts": counts,
            }
        )
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo("no meetings")
        return
    for r in rows:
        c = r["counts"]
        click.echo(
            f"{r['id']:>4}  {r['date']}  {r['status']:<9}  {r['period']}  {r['title']}  "
            f"decisions {r['decisions']} (open {c['open']}, answered {c['answered']}, "
            f"returned {c['returned']}, overdue {c['overdue']}, closed {c['closed']})"
        )
