"""`flask --app tracker assess` and `flask --app tracker cards …`."""

from __future__ import annotations

import json
from datetime import date

import click
from flask.cli import AppGroup, with_appcontext

from .. import clock, db
from ..errors import DomainError
from ..periods import Period
from ..plans.service import active_plan
from ..seed import SYSTEM
from . import cards as card_service
from . import scoring

cards_cli = AppGroup("cards", help="Red and yellow cards.")


def _plan():
    plan = active_plan(db.session)
    if plan is None:
        raise click.ClickException("尚未载入实施方案")
    return plan


def _period(text: str) -> Period:
    try:
        return Period.parse(text)
    except DomainError as e:
        raise click.ClickException(str(e)) from None


@click.command("assess")
@with_appcontext
@click.option("--period", required=True, help="A quarter such as 2026-Q3, or a year such as 2026 (mean of quarters).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def assess_command(period: str, as_json: bool) -> None:
    """Print each unit's score, rank and breakdown for a quarter (published scores when published)."""
    p = _period(period)
    if p.kind == "year":
        data = scoring.year_scores(db.session, _plan(), p.year)
    elif p.kind == "quarter":
        data, pub = scoring.results(db.session, _plan(), p)
        data = {**data, "published": pub is not None}
    else:
        raise click.ClickException("考评按季度或年度计算,请使用 2026-Q3 或 2026")
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=1))
        return
    for kind, rows in data["groups"].items():
        click.echo(f"== {kind}")
        for r in rows:
            click.echo(f"{r['rank']:>3}  {r['unit']}  {r.get('total', r.get('mean'))}")


@cards_cli.command("recommend")
@click.option("--period", required=True, help="A quarter such as 2026-Q3.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def recommend_command(period: str, as_json: bool) -> None:
    """Print what the card rules recommend for a quarter, with the rule and the figures (nothing is written)."""
    try:
        findings = card_service.evaluate(db.session, _plan(), _period(period))
    except DomainError as e:
        raise click.ClickException(str(e)) from None
    rows = [
        {
            "unit": f.unit.name,
            "colour": f.colour,
            "rule": f.rule.code,
            "rule_name": f.rule.name,
            "reason": f.reason,
            "figures": f.figures,
            "escalates_card_id": f.escalates_card_id,
        }
        for f in findings
    ]
    if as_json:
        click.echo(json.dumps({"period": period, "recommendations": rows}, ensure_ascii=False, indent=1))
        return
    for r in rows:
        click.echo(f"{r['colour']:<6} {r['unit']}  {r['rule']} {r['reason']}")
    click.echo(f"{len(rows)} recommendation(s)")


@cards_cli.command("escalate")
@click.option("--today", "today_text", default=None, help="The date to check against, YYYY-MM-DD (default today).")
def escalate_command(today_text: str | None) -> None:
    """Turn yellow cards past their deadline into red-card recommendations (for a daily cron job)."""
    try:
        today = date.fromisoformat(today_text) if today_text else clock.today()
    except ValueError:
        raise click.ClickException("日期格式应为 YYYY-MM-DD") from None
    made = card_service.escalate_overdue(db.session, SYSTEM, today)
    db.session.commit()
    for r in made:
        click.echo(f"yellow card #{r.escalates_card_id} ({r.unit.name}) overdue: red-card recommendation #{r.id}")
    click.echo(f"{len(made)} escalation(s) on {today}")
