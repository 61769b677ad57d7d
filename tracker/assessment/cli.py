"""`flask --app tracker assess` and `flask --app tracker cards …`."""

from __future__ import annotations

import json
from datetime import date

import click
from flask.cli import AppGroup, with_appcontext

from .. import clock, db
from ..auth.system import SYSTEM
from ..errors import DomainError
from ..periods import Period

# the services and models are imported by the commands that use them: a group's or a command's help imports none

cards_cli = AppGroup("cards", help="Red and yellow cards.")


def _plan():
    from ..plans.service import active_plan

    plan = active_plan(db.session)
    if plan is None:
        raise click.ClickException("尚未载入实施方案")
    return plan


def _period(text: str) -> Period:
    try:
        return Period.parse(text)
    except DomainError as e:
        raise click.ClickException(str(e)) from None


@click.group("assess", cls=AppGroup, invoke_without_command=True)
@with_appcontext
@click.option("--period", help="A quarter such as 2026-Q3, or a year such as 2026 (mean of quarters).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def assess_command(ctx: click.Context, period: str | None, as_json: bool) -> None:
    """Print each unit's score, rank and breakdown for a quarter (published scores when published);
    `assess publish` and `assess reopen` freeze and re-open a quarter."""
    from . import results, scoring

    if ctx.invoked_subcommand is not None:
        return
    if not period:
        raise click.UsageError("请用 --period 指定季度(如 2026-Q3)或年度(如 2026)")
    p = _period(period)
    if p.kind == "year":
        data = results.year_scores(db.session, _plan(), p.year)
    elif p.kind == "quarter":
        r = results.quarter_results(db.session, _plan(), p)
        data = {**r.snapshot, "published": r.published, "changed_since_publication": [str(c) for c in r.changes]}
    else:
        raise click.ClickException("考评按季度或年度计算,请使用 2026-Q3 或 2026")
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=1))
        return
    for kind, rows in data["groups"].items():
        click.echo(f"== {kind}")
        for r in rows:
            rank = "—" if r["rank"] is None else r["rank"]
            total = r.get("total", r.get("mean"))
            click.echo(f"{rank:>3}  {r['unit']}  {scoring.NO_SCORE if total is None else total}")
    if data.get("changed_since_publication"):
        click.echo("发布后数据有更新(以上为发布时冻结的结果):")
        for line in data["changed_since_publication"]:
            click.echo(f"  {line}")


@assess_command.command("publish")
@click.option("--period", required=True, help="An ended quarter such as 2026-Q2.")
@click.option("--reason", default="", help="A note for the audit trail (optional).")
def publish_command(period: str, reason: str) -> None:
    """Publish (freeze) a quarter's scores, ranks and the figures used, as the system actor; audited."""
    from . import publishing

    p = _period(period)
    try:
        pub = publishing.publish(db.session, SYSTEM, _plan(), p, reason=reason)
        db.session.commit()
    except DomainError as e:
        db.session.rollback()
        raise click.ClickException(str(e)) from None
    click.echo(f"{p.label}考评结果已发布(#{pub.id})")


@assess_command.command("reopen")
@click.option("--period", required=True, help="A published quarter such as 2026-Q2.")
@click.option("--reason", default="", help="Why the quarter is re-opened (required, at least 4 characters).")
def reopen_command(period: str, reason: str) -> None:
    """Re-open a published quarter with a reason, as the system actor; scores are live until published again."""
    from . import publishing

    p = _period(period)
    try:
        publishing.reopen(db.session, SYSTEM, p, reason, plan=_plan())
        db.session.commit()
    except DomainError as e:
        db.session.rollback()
        raise click.ClickException(str(e)) from None
    click.echo(f"{p.label}已重新开放,得分按最新数据计算")


@cards_cli.command("recommend")
@click.option("--period", required=True, help="A quarter such as 2026-Q3.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def recommend_command(period: str, as_json: bool) -> None:
    """Print what the card rules recommend for a quarter, with the rule and the figures (nothing is written)."""
    from . import card_rules

    try:
        findings = card_rules.evaluate(db.session, _plan(), _period(period))
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
    from . import cards as card_service

    try:
        today = date.fromisoformat(today_text) if today_text else clock.today()
    except ValueError:
        raise click.ClickException("日期格式应为 YYYY-MM-DD") from None
    made = card_service.escalate_overdue(db.session, SYSTEM, today)
    db.session.commit()
    for r in made:
        click.echo(f"yellow card #{r.escalates_card_id} ({r.unit.name}) overdue: red-card recommendation #{r.id}")
    click.echo(f"{len(made)} escalation(s) on {today}")
