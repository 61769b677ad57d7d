"""Command-line tools: `flask --app tracker COMMAND`."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from . import db
from .audit.service import verify
from .seed import load_base, load_demo

audit_cli = AppGroup("audit", help="The audit trail.")


@click.command("seed")
@click.option("--demo", is_flag=True, help="Also add the fictional demo district, accounts and reports.")
def seed_command(demo: bool) -> None:
    """Load the seed plan and units (and with --demo the demo data). Running it twice changes nothing."""
    s = db.session
    base = load_base(s)
    s.commit()
    click.echo(f"units added: {base['units']}; plan {'loaded' if base['plan'] else 'already present'}")
    if demo:
        result = load_demo(s, current_app.config["DEMO_PASSWORD"])
        s.commit()
        if result["skipped"]:
            click.echo("demo data already present")
        else:
            click.echo(f"demo: {result['users']} accounts, {result['reports']} reports")


@audit_cli.command("verify")
def audit_verify() -> None:
    """Check the audit trail's hash chain; exit 1 if any event was edited, deleted, inserted or reordered."""
    problems = verify(db.session)
    if problems:
        for p in problems[:50]:
            click.echo(f"event {p.event_id}: {p.problem}")
        click.echo(f"{len(problems)} problem(s) in the audit chain")
        raise SystemExit(1)
    click.echo("audit chain intact")


def register(app) -> None:
    app.cli.add_command(seed_command)
    app.cli.add_command(audit_cli)
