"""`flask --app tracker evidence check`: every attachment's file and thumbnail against its SHA-256."""

from __future__ import annotations

import json

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from .. import db

evidence_cli = AppGroup("evidence", help="佐证材料: check the stored files.")


@evidence_cli.command("check")
@click.option("--json", "as_json", is_flag=True, help='Print {"ok", "attachments", "files", "problems", "unused"}.')
def check_command(as_json: bool) -> None:
    """Check every attachment's file and thumbnail against its SHA-256; exit 1 on any problem. Files no attachment
    names (removed attachments, refused uploads) are counted, not deleted: a backup may still name them."""
    # the store and the model are imported by the command, not by its help
    from .blobs import store_for
    from .models import Attachment

    blobs = store_for(current_app)
    named: set[str] = set()
    problems = []
    rows = db.session.execute(
        select(Attachment.id, Attachment.name, Attachment.sha256, Attachment.thumb_sha256).order_by(Attachment.id)
    ).all()
    for att_id, name, sha, thumb in rows:
        for digest, what in ((sha, "文件"), (thumb, "缩略图")):
            if not digest:
                continue
            named.add(digest)
            wrong = blobs.check(digest)
            if wrong:
                problems.append({"attachment": att_id, "name": name, "sha256": digest, "problem": f"{what}{wrong}"})
    stored = blobs.shas()
    unused = len(set(stored) - named)
    if as_json:
        out = {"ok": not problems, "attachments": len(rows), "files": len(stored), "problems": problems}
        click.echo(json.dumps(out | {"unused": unused}, ensure_ascii=False))
    else:
        for p in problems:
            click.echo(f"佐证材料 #{p['attachment']}“{p['name']}”:{p['problem']}({p['sha256']})")
        click.echo(f"{len(rows)} attachment(s), {len(stored)} stored file(s), {unused} not named by any attachment")
    if problems:
        raise SystemExit(1)
