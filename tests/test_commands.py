"""The command line's table (tracker/commands.py) lists what the commands themselves say, and every command still runs:
listed without importing it, imported when its help is asked for, the app assembled when it runs."""

from __future__ import annotations

import importlib
import os
import re
import subprocess
import sys
from pathlib import Path

import click
from click.testing import CliRunner
from flask.cli import FlaskGroup

from tracker.commands import COMMANDS, LazyCommand

ROOT = Path(__file__).resolve().parent.parent


def _first_paragraph(command: click.Command) -> str:
    return " ".join((command.help or "").split("\n\n")[0].split())


def _top_level_commands() -> dict[str, click.Command]:
    """Every command defined in tracker/cli.py and the areas' cli.py that is no group's subcommand."""
    modules = ["tracker.cli"] + [f"tracker.{p.parent.name}.cli" for p in sorted((ROOT / "tracker").glob("*/cli.py"))]
    defined = [
        value
        for name in modules
        for value in vars(importlib.import_module(name)).values()
        if isinstance(value, click.Command)
    ]
    nested = {id(sub) for cmd in defined for sub in getattr(cmd, "commands", {}).values()}
    return {cmd.name: cmd for cmd in defined if id(cmd) not in nested}


def test_the_table_names_every_command_with_its_own_help():
    real = _top_level_commands()
    assert sorted(COMMANDS) == sorted(real)
    for name, (target, help_text) in COMMANDS.items():
        module, _, attribute = target.partition(":")
        command = getattr(importlib.import_module(module), attribute)
        assert command is real[name] and command.name == name
        assert help_text == _first_paragraph(command), name
        listed = LazyCommand(name, target, help_text)
        for width in (30, 45, 80):
            assert listed.get_short_help_str(width) == command.get_short_help_str(width), (name, width)


def test_listing_or_asking_for_help_assembles_nothing_and_a_command_assembles_what_it_uses(app, monkeypatch):
    monkeypatch.setenv("FLASK_RUN_FROM_CLI", "true")  # Flask's command line sets it; restored after the test
    cli = FlaskGroup(create_app=lambda: app)
    runner = CliRunner()

    listed = runner.invoke(cli, ["--help"])
    assert listed.exit_code == 0, listed.output
    for name in COMMANDS:
        assert re.search(rf"^  {re.escape(name)}\s", listed.output, re.M), name
    assert "Red and yellow cards." in listed.output
    group_help = runner.invoke(cli, ["report", "--help"])
    assert "briefing" in group_help.output and "scorecard" in group_help.output
    leaf_help = runner.invoke(cli, ["metrics", "summary", "--help"])
    assert "--period" in leaf_help.output
    assert app.assembled == set()

    # a command that runs reaches its body with nothing assembled: this one touches neither the database nor a page
    cleanup = runner.invoke(cli, ["uploads", "cleanup"])
    assert cleanup.exit_code == 0, cleanup.output
    assert cleanup.output.startswith("removed 0 file(s)")
    assert app.assembled == set()
    # its first database session assembles the models, not the pages
    verify = runner.invoke(cli, ["audit", "verify"])
    assert verify.exit_code == 0, verify.output
    assert app.assembled == {"data"}
    # listing the URL rules assembles the pages
    routes = runner.invoke(cli, ["routes"])
    assert routes.exit_code == 0, routes.output
    assert "progress.todo" in routes.output and "meetings.hold" in routes.output
    assert app.assembled == {"data", "templates", "pages"}


def _flask(tmp_path: Path, db_url: str, *args: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "TRACKER_INSTANCE_PATH": str(tmp_path),
        "TRACKER_DATABASE_URL": db_url,
        "PYTHONPATH": str(ROOT),
    }
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "tracker", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_command_line_runs_routes_and_real_commands(app, db_url, tmp_path):
    with app.app_context():
        rules = sum(1 for _ in app.url_map.iter_rules())
    routes = _flask(tmp_path, db_url, "routes")
    assert routes.returncode == 0, routes.stderr
    # a header, its underline, then one line per URL rule
    assert len(routes.stdout.splitlines()) == 2 + rules
    assert rules > 100
    cleanup = _flask(tmp_path, db_url, "uploads", "cleanup")
    assert cleanup.returncode == 0, cleanup.stderr
    assert cleanup.stdout.strip() == "removed 0 file(s), 0 bytes; 0 pending, 0 bytes"
    # reads the seeded database through the models: its first session imports them all
    verify = _flask(tmp_path, db_url, "audit", "verify")
    assert verify.returncode == 0, verify.stderr
    assert verify.stdout.startswith("audit chain intact: ")
    meetings = _flask(tmp_path, db_url, "meetings", "--help")
    assert meetings.returncode == 0 and "list" in meetings.stdout
