"""The commands that belong to no area: seed, backup, restore, check-deploy, demo-data, `audit verify` and
`uploads cleanup` (the command line finds them, and every area's, through tracker/commands.py)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from . import db, uploads
from .db import database_label

# the services, models and the seed are imported by the commands that use them: a group's or a command's help
# imports none of them

audit_cli = AppGroup("audit", help="The audit trail.")
uploads_cli = AppGroup("uploads", help="Uploaded files waiting for their preview to be confirmed.")


@uploads_cli.command("cleanup")
def uploads_cleanup() -> None:
    """Delete pending uploads older than a preview's lifetime (2 hours); a scheduler can run this hourly."""
    swept = uploads.stash_for(current_app).sweep()
    click.echo(
        f"removed {swept.removed} file(s), {swept.removed_bytes} bytes; {swept.kept} pending, {swept.kept_bytes} bytes"
    )


@click.command("demo-data")
@with_appcontext
@click.option("--scale", type=click.IntRange(1, 100), default=1, help="How many times the demo district.")
@click.option("--years", type=click.IntRange(1, 20), default=10, help="Years of monthly history.")
def demo_data_command(scale: int, years: int) -> None:
    """Generate a plausible district SCALE times the demo (towns, years of reports, figures, meetings, cards)."""
    from .auth.system import SYSTEM
    from .scale import generate
    from .seed import load_base, load_demo

    load_base(db.session)
    load_demo(db.session, current_app.config["DEMO_PASSWORD"])
    result = generate(db.session, SYSTEM, scale, years)
    db.session.commit()
    click.echo(", ".join(f"{k}: {v}" for k, v in result.items()))


@click.command("backup")
@with_appcontext
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
def backup_command(target: Path) -> None:
    """Write a consistent backup of the live database to TARGET (SQLite backup API or pg_dump)."""
    from . import ops
    from .audit import anchors
    from .audit.service import head as audit_head
    from .evidence.blobs import store_for

    chain_head = audit_head(db.session)  # committed before the backup starts, so the backup holds it
    db.session.rollback()
    ops.backup(current_app.config["DATABASE_URL"], target)
    sidecar = ops.write_backup_head(target, database_label(current_app.config["DATABASE_URL"]), chain_head)
    anchors.write(
        current_app.config["AUDIT_ANCHORS"], database_label(current_app.config["DATABASE_URL"]), "backup", chain_head
    )
    files = ops.backup_evidence(store_for(current_app), target)
    counts = ops.row_counts(db.session)
    click.echo(f"backup written to {target}: {sum(counts.values())} rows in {len(counts)} tables")
    click.echo(f"{files} evidence file(s) copied to {ops.evidence_backup_path(target)}")
    if chain_head:
        click.echo(f"audit head #{chain_head.seq} {chain_head.mac} recorded in {sidecar} and the anchor file")


@click.command("restore")
@with_appcontext
@click.argument("source", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def restore_command(source: Path, yes: bool) -> None:
    """Replace the database's contents with the backup SOURCE, then verify the audit chain."""
    from . import ops
    from .audit import anchors
    from .audit.service import check
    from .evidence.blobs import store_for

    if not yes:
        click.confirm(f"Replace every row of the database with {source}?", abort=True)
    db.session.close()
    current_app.extensions["tracker.engine"].dispose()
    try:
        ops.restore(current_app.config["DATABASE_URL"], source)
    except (OSError, ValueError, RuntimeError) as e:
        raise click.ClickException(str(e)) from None
    counts = ops.row_counts(db.session)
    for name, n in counts.items():
        click.echo(f"{name}: {n}")
    # the anchors before this restore describe the history it replaced; the backup's own head is what must match
    label = database_label(current_app.config["DATABASE_URL"])
    expected = ops.read_backup_head(source, label)
    report = check(db.session, anchors=[expected] if expected else [])
    if not report.ok:
        for p in report.problems[:50]:
            click.echo(f"event {p.event_id}: {p.problem}")
        raise click.ClickException(f"restored, but the audit chain has {len(report.problems)} problem(s)")
    anchors.write(
        current_app.config["AUDIT_ANCHORS"], database_label(current_app.config["DATABASE_URL"]), "restore", report.head
    )
    # the 佐证材料 files: each checked against its name, then every attachment row against the store
    taken, problems = ops.restore_evidence(store_for(current_app), source, db.session)
    db.session.rollback()
    for p in problems[:50]:
        click.echo(p)
    if problems:
        raise click.ClickException(f"restored, but {len(problems)} evidence file problem(s)")
    click.echo(f"{taken} evidence file(s) restored, every attachment's file checked against its SHA-256")
    click.echo("restored; audit chain intact" + (" and matches the backup's recorded head" if expected else ""))


@click.command("check-deploy")
@with_appcontext
@click.option(
    "--workers",
    type=int,
    default=lambda: int(os.environ.get("WEB_CONCURRENCY", "2")),
    help="Worker processes the server runs (default $WEB_CONCURRENCY or 2).",
)
def check_deploy_command(workers: int) -> None:
    """List production misconfigurations; exit 1 when there are any."""
    from . import ops

    problems = ops.check_deploy(current_app.config, workers, current_app.instance_path)
    for p in problems:
        click.echo(f"[{p.key}] {p.message}")
    if problems:
        raise SystemExit(1)
    click.echo("configuration fit for production")


@click.command("seed")
@with_appcontext
@click.option("--demo", is_flag=True, help="Also add the fictional demo district, accounts and reports.")
def seed_command(demo: bool) -> None:
    """Load the seed plan and units (and with --demo the demo data). Running it twice changes nothing."""
    from .seed import load_base, load_demo

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
@click.option("--json", "as_json", is_flag=True, help='Print {"ok", "events", "head", "problems": [...]} as JSON.')
def audit_verify(as_json: bool) -> None:
    """Check the audit chain's MACs and its anchors; exit 1 if any event was edited, deleted (the newest too),
    inserted or reordered. An intact chain's head is appended to the anchor file."""
    from .audit import anchors
    from .audit.service import check
    from .audit.service import head as audit_head

    report = check(db.session)
    db.session.rollback()
    if report.ok:
        anchors.record_now(db.session, "verify", audit_head(db.session))
    if as_json:
        click.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=1))
    elif report.ok:
        head = report.head
        where = f"head #{head.seq} {head.mac}" if head else "no events"
        keyed = f"keyed from #{report.keyed_from}" if report.keyed_from else "not keyed yet (sealed at the next write)"
        click.echo(f"audit chain intact: {report.events} events, {where}, {keyed}, {report.anchors_checked} anchor(s)")
    else:
        for p in report.problems[:50]:
            click.echo(f"event {p.event_id}: {p.problem}")
        click.echo(f"{len(report.problems)} problem(s) in the audit chain")
    if not report.ok:
        raise SystemExit(1)
