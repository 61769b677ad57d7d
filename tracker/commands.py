"""The command line's table: `flask --app tracker COMMAND`, each command imported by name when it is used.

`flask --app tracker --help` lists every command with its short help from COMMANDS, without importing the modules
that define them (nor the services and models those import). A command's module is imported when the command is run
or its own help is asked for (`flask --app tracker report --help`). Running it assembles nothing by itself: the
models are imported by its first database session, the pages and URL rules by its first URL or template
(`TrackerApp.assemble`). `tests/test_commands.py` checks the table against the
commands themselves, so the names and help texts cannot drift apart.
"""

from __future__ import annotations

import functools
import importlib

import click
from flask.cli import AppGroup

# name -> ("module:attribute", the first paragraph of the command's help, on one line)
COMMANDS: dict[str, tuple[str, str]] = {
    "activities": ("tracker.publicity.cli:activities_cli", "宣传活动台账: Excel template, import, export, summary."),
    "assess": (
        "tracker.assessment.cli:assess_command",
        "Print each unit's score, rank and breakdown for a quarter (published scores when published); "
        "`assess publish` and `assess reopen` freeze and re-open a quarter.",
    ),
    "audit": ("tracker.cli:audit_cli", "The audit trail."),
    "backup": (
        "tracker.cli:backup_command",
        "Write a consistent backup of the live database to TARGET (SQLite backup API or pg_dump).",
    ),
    "cards": ("tracker.assessment.cli:cards_cli", "Red and yellow cards."),
    "check-deploy": (
        "tracker.cli:check_deploy_command",
        "List production misconfigurations; exit 1 when there are any.",
    ),
    "demo-data": (
        "tracker.cli:demo_data_command",
        "Generate a plausible district SCALE times the demo (towns, years of reports, figures, meetings, cards).",
    ),
    "evidence": ("tracker.evidence.cli:evidence_cli", "佐证材料: check the stored files."),
    "export": (
        "tracker.exports.cli:export_cli",
        "Every list as an .xlsx file, as its page's 导出Excel button writes it.",
    ),
    "meetings": ("tracker.meetings.cli:meetings_cli", "Joint meetings (联席会议) and their supervised items."),
    "metrics": ("tracker.metrics.cli:metrics_cli", "两降两升 figures: spreadsheet import and export, summaries."),
    "notify": ("tracker.notify.cli:notify_cli", "Reminders, notification channels and message delivery."),
    "plan": ("tracker.plans.cli:plan_cli", "Implementation plans."),
    "report": ("tracker.reports.cli:report_cli", "PDF reports (and their Word versions)."),
    "restore": (
        "tracker.cli:restore_command",
        "Replace the database's contents with the backup SOURCE, then verify the audit chain.",
    ),
    "seed": (
        "tracker.cli:seed_command",
        "Load the seed plan and units (and with --demo the demo data). Running it twice changes nothing.",
    ),
    "uploads": ("tracker.cli:uploads_cli", "Uploaded files waiting for their preview to be confirmed."),
    "worker": (
        "tracker.notify.cli:worker_command",
        "Run the job queue's consumer (Huey) with the periodic tasks: reminders at 08:30 China time, cards escalate, "
        "uploads cleanup, and every minute the new notifications and the messages due.",
    ),
}


def load(target: str) -> click.Command:
    """The command a table entry names ("module:attribute")."""
    module, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module), attribute)


class LazyCommand(click.Command):
    """A command of the table before it is used: its name and help for the list of commands; parsing its arguments
    (its own --help included) and running it go to the real command, imported then."""

    def __init__(self, name: str, target: str, help_text: str) -> None:
        super().__init__(name, help=help_text)
        self.target = target

    @functools.cached_property
    def command(self) -> click.Command:
        return load(self.target)

    def make_context(self, info_name, args, parent=None, **extra) -> click.Context:
        # the context is the real command's, so the group invokes the real command
        return self.command.make_context(info_name, args, parent=parent, **extra)

    def invoke(self, ctx: click.Context):
        return self.command.invoke(ctx)


class CommandTable(AppGroup):
    """`app.cli`: the commands of COMMANDS, by name, plus any added to it directly."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMANDS})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        command = super().get_command(ctx, name)
        if command is None and name in COMMANDS:
            command = LazyCommand(name, *COMMANDS[name])
            self.add_command(command)
        return command
