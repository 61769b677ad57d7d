"""`flask --app tracker export LIST --period P -o FILE.xlsx`: the lists' Excel files from the command line.

The files are the pages' files as an administrator reads them (the system actor): the same service queries, the same
sheets. A bad period or option is refused with exit code 2 and a message in Chinese and English.
"""

from __future__ import annotations

from importlib import import_module
from pathlib import Path

import click
from flask.cli import AppGroup

from .. import db
from ..auth.system import SYSTEM
from ..errors import ValidationError
from ..periods import Period

# the services, models and the spreadsheet writer are imported by the commands that use them: the group's help, and
# a command's, import none of them (a --status option reads its states when it is shown or given)

export_cli = AppGroup("export", help="Every list as an .xlsx file, as its page's 导出Excel button writes it.")
REPORT_LIMIT = 100_000  # rows of one month's report list; the page shows 500


class _States(click.Choice):
    """The states a list's page filters by, read from the area's module when first needed (its help or the option)."""

    def __init__(self, module: str, attribute: str) -> None:
        self.case_sensitive = True
        self._source = (module, attribute)
        self._choices: tuple[str, ...] | None = None

    @property
    def choices(self) -> tuple[str, ...]:
        if self._choices is None:
            module, attribute = self._source
            self._choices = tuple(str(s) for s in getattr(import_module(module, __package__), attribute))
        return self._choices


def _output(f):
    return click.option(
        "-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path), help="The .xlsx to write."
    )(f)


def _period(text: str | None, kinds: tuple[str, ...], required: bool = True) -> Period | None:
    """The --period given, of one of the kinds (month, quarter, year); refused with exit code 2 otherwise."""
    if not text:
        if required:
            raise click.BadParameter("请给出期间 / a period is required, e.g. 2026-Q3", param_hint="--period")
        return None
    try:
        p = Period.parse(text)
    except ValidationError as e:
        raise click.BadParameter(
            f"{e} / not a period: {text!r} (use 2026-09, 2026-Q3 or 2026)", param_hint="--period"
        ) from None
    if p.kind not in kinds:
        names = {"month": "月份 2026-09", "quarter": "季度 2026-Q3", "year": "年度 2026"}
        allowed = "、".join(names[k] for k in kinds)
        raise click.BadParameter(f"此列表只接受{allowed} / this list takes {', '.join(kinds)}", param_hint="--period")
    return p


def _unit_id(name: str | None) -> int | None:
    from sqlalchemy import select

    from ..org.models import Unit

    if not name:
        return None
    unit = db.session.scalar(select(Unit).where(Unit.name == name))
    if unit is None:
        raise click.BadParameter(f"没有名为“{name}”的单位 / no unit named {name!r}", param_hint="--unit")
    return unit.id


def _plan():
    from ..plans.service import active_plan

    plan = active_plan(db.session)
    if plan is None:
        raise click.ClickException("尚未载入实施方案 / no plan loaded: run `flask --app tracker seed` first")
    return plan


def _write(name: str, sheets: list, rows: int, filters: dict, output: Path) -> None:
    from ..xlsx import workbook
    from .service import record_export

    output.write_bytes(workbook(sheets))
    record_export(db.session, SYSTEM, name, filters, rows)
    db.session.commit()
    click.echo(f"wrote {rows} row(s) to {output}")


@export_cli.command("reports")
@click.option("--period", help="A month (2026-09), or a quarter or year: its months, newest first.")
@click.option("--unit", help="Only this unit (its name).")
@click.option("--status", type=_States("..progress.lists", "LIST_STATES"), help="Only reports in this state.")
@_output
def reports_command(period: str | None, unit: str | None, status: str | None, output: Path) -> None:
    """The report list (报告列表): every saved report and every overdue month with nothing saved."""
    from ..progress import service as progress_service
    from . import lists

    p = _period(period, ("month", "quarter", "year"), required=False)
    query = dict(unit_id=_unit_id(unit), status=status, limit=REPORT_LIMIT)
    if p is None:
        rows = progress_service.list_reports(db.session, SYSTEM, **query)
    else:
        rows = [
            r
            for m in reversed(p.months())
            for r in progress_service.list_reports(db.session, SYSTEM, period=m.code, **query)
        ]
    filters = {"period": p.code if p else None, "unit": unit, "status": status}
    _write("reports", [lists.reports_sheet(rows)], len(rows), filters, output)


@export_cli.command("grid")
@click.option("--period", required=True, help="A month (2026-09), or a quarter: one grid per month.")
@_output
def grid_command(period: str, output: Path) -> None:
    """The task × unit grid (填报总表) of a month, with each unit's 逾期未报 and the count per state."""
    from ..progress import service as progress_service
    from . import lists

    p = _period(period, ("month", "quarter"))
    plan = _plan()
    sheets, rows = [], 0
    for m in p.months():
        g = progress_service.build_grid(db.session, plan, m)
        sheets += lists.grid_sheets(g)
        rows += len(g.tasks)
    _write("grid", sheets, rows, {"period": p.code}, output)


@export_cli.command("decisions")
@click.option("--period", help="Only items whose deadline falls in this month, quarter or year.")
@click.option("--status", type=_States("..meetings.decisions", "FILTERS"), help="Only items in this state.")
@click.option("--unit", help="Only items this unit leads (its name).")
@_output
def decisions_command(period: str | None, status: str | None, unit: str | None, output: Path) -> None:
    """The supervised items (督办事项), earliest deadline first."""
    from ..meetings import service as meetings_service
    from . import lists

    p = _period(period, ("month", "quarter", "year"), required=False)
    rows = meetings_service.list_decisions(db.session, SYSTEM, unit_id=_unit_id(unit), status=status, due_in=p)
    filters = {"due": p.code if p else None, "status": status, "unit": unit}
    _write("decisions", [lists.decisions_sheet(rows)], len(rows), filters, output)


@export_cli.command("scores")
@click.option("--period", required=True, help="A quarter (2026-Q3); a month stands for its quarter.")
@_output
def scores_command(period: str, output: Path) -> None:
    """Scores and ranks (考评) of a quarter, with every unit's breakdown; before publication ranks say 未发布."""
    from .. import policy
    from ..assessment import results
    from . import lists

    p = _period(period, ("month", "quarter"))
    p = p.in_quarter if p.kind == "month" else p
    res = results.quarter_results(db.session, _plan(), p, changes=False)
    groups = res.snapshot["groups"]
    show_ranks = policy.can(SYSTEM, "assessment.view_ranks", res)
    if res.publication is None:
        click.echo(f"{p.label}尚未发布:排名未发布 / {p.code} is not published: ranks are provisional")
    rows = sum(len(r) for r in groups.values())
    _write("scores", lists.scores_sheets(p.label, groups, show_ranks), rows, {"period": p.code}, output)


def _overlaps(code: str, p: Period) -> bool:
    try:
        q = Period.parse(code)
    except ValidationError:
        return False
    return q.start <= p.end and p.start <= q.end


@export_cli.command("cards")
@click.option("--period", help="Only cards whose period (所属期间) overlaps this month, quarter or year.")
@_output
def cards_command(period: str | None, output: Path) -> None:
    """Red and yellow cards (红黄牌) in the board's order, and their rectification material."""
    from ..assessment import card_board
    from . import lists

    p = _period(period, ("month", "quarter", "year"), required=False)
    data = card_board.board(db.session)
    shown = [c for c in lists.board_order(data) if p is None or _overlaps(c.period, p)]
    _write("cards", lists.cards_sheets(shown, data["monthly"]), len(shown), {"period": p.code if p else None}, output)


@export_cli.command("meetings")
@click.option("--period", help="Only meetings reviewing this period or one inside it (2026-Q3, 2026).")
@_output
def meetings_command(period: str | None, output: Path) -> None:
    """Joint meetings (联席会议): those to hold, then those held, with their decisions counted by state."""
    from ..meetings import service as meetings_service
    from . import lists

    p = _period(period, ("month", "quarter", "year"), required=False)
    found = meetings_service.list_meetings(db.session, SYSTEM, p.code if p else None)
    rows = len(found.upcoming) + len(found.past)
    _write("meetings", [lists.meetings_sheet(found)], rows, {"period": p.code if p else None}, output)


@export_cli.command("audit")
@click.option("--action", default="", help="Only events whose action starts with this (e.g. report.).")
@_output
def audit_command(action: str, output: Path) -> None:
    """The audit log (审计日志), newest first (at most the newest 50,000 events)."""
    from ..audit.views import events_query
    from . import lists
    from .views import AUDIT_LIMIT

    events = db.session.scalars(events_query(action.strip()).limit(AUDIT_LIMIT)).all()
    _write("audit", [lists.audit_sheet(events)], len(events), {"action": action.strip()}, output)
