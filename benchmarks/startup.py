"""Start-up benchmark: CPU seconds of a `flask --app tracker …` command before it does anything, against a bare
`python -c "import flask, sqlalchemy"` measured in the same run, and which heavy libraries the command imported.

For a help, the whole process. For a command that runs (`routes`, `uploads cleanup`), also the CPU the process had
spent when the command's own function was called ("to body": what it paid before doing anything), beside the whole.

Each command runs --repeat times in turn (bare, then each tracker command), so a busy machine slows both sides
alike; the figure to compare across runs is the ratio. The load average is printed beside it.

    .venv/bin/python benchmarks/startup.py [--repeat 7] [--root DIR ...]

--root runs the commands of another checkout (e.g. an older commit unpacked with `git archive`) with this venv;
given more than once, the checkouts are measured in turn in the same run (before against after).

--parts instead splits `flask --app tracker --help` and the app's first use (what a command that runs or a server pays
on top) into their steps, each run in turn in one process (so a step is charged only for what the steps before it
did not already import), and prints each step's CPU seconds, the median over --repeat processes.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("weasyprint", "openpyxl", "docx", "fontTools", "PIL", "pypdf", "lxml.html", "huey", "redis", "psycopg")
PROBE = (
    "import sys, runpy, time, click\n"
    # the CPU spent when the command's own function is called: the deepest Context.invoke of a plain callback (Flask's
    # with_appcontext calls the command's function from inside its own)
    "entered, depth, invoke = [], [0], click.Context.invoke\n"
    "def probe(self, callback, *args, **kwargs):\n"
    "    depth[0] += 1\n"
    "    if not isinstance(callback, click.Command):\n"
    "        entered.append((depth[0], time.process_time()))\n"
    "    try:\n        return invoke(self, callback, *args, **kwargs)\n"
    "    finally:\n        depth[0] -= 1\n"
    "click.Context.invoke = probe\n"
    "sys.argv = ['flask'] + sys.argv[1:]\n"
    "try:\n    runpy.run_module('flask', run_name='__main__')\n"
    "except SystemExit:\n    pass\n"
    "if entered:\n"
    "    deepest = max(d for d, _t in entered)\n"
    "    print('BODY:' + str(next(t for d, t in entered if d == deepest)), file=sys.stderr)\n"
    f"print('HEAVY:' + ','.join(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)\n"
    "print(f'MODULES:{len(sys.modules)}', file=sys.stderr)\n"
)


# the steps of `flask --app tracker --help` (the app made, its command table listed), then those of the app's first
# use (an app context, a request or a command that runs: TrackerApp.assemble), in the order they first import what
# they need
PARTS = """
import sys, time
steps = []
def step(label, fn):
    t = time.process_time(); fn(); steps.append((label, time.process_time() - t))
step("bare: import flask, sqlalchemy", lambda: __import__("sqlalchemy") and __import__("flask"))
def flask_cli():
    from flask.cli import FlaskGroup
    FlaskGroup()._load_plugin_commands()
step("Flask's command line and its plugins (flask limiter)", flask_cli)
step("Flask-WTF, Flask-Login", lambda: __import__("flask_wtf.csrf") and __import__("flask_login"))
apps = []
def make():
    import tracker
    apps.append(tracker.create_app())
step("create_app: configuration, extensions, the command table", make)
def listing():
    import click
    from flask.cli import FlaskGroup, ScriptInfo
    group = FlaskGroup(create_app=lambda: apps[0])
    with click.Context(group, obj=ScriptInfo(create_app=lambda: apps[0])) as ctx:
        group.format_commands(ctx, click.HelpFormatter())
step("listing the commands", listing)
steps.append(("  = flask --app tracker --help, in all", sum(cpu for _label, cpu in steps)))
step("first use: sqlalchemy.orm", lambda: __import__("sqlalchemy.orm"))
step("first use: the PostgreSQL dialect (an index's options)", lambda: __import__("sqlalchemy.dialects.postgresql"))
step("first use: the models", lambda: __import__("tracker.models"))
def services():
    import importlib
    for m in ("cli", "assessment.cli", "evidence.cli", "reports.cli", "exports.cli", "notify.cli"):
        importlib.import_module("tracker." + m)
step("first use: services and command modules", services)
step("first use: views and the desk", lambda: __import__("tracker.desk"))
def assemble():
    from werkzeug.routing import Map
    add, spent = Map.add, []
    def timed_add(self, rule):
        t = time.process_time(); add(self, rule); spent.append(time.process_time() - t)
    Map.add = timed_add
    apps[0].assemble()
    Map.add = add
    steps.append((f"  of which Werkzeug compiling {len(spent)} URL rules", sum(spent)))
step("first use: assemble (blueprints, URL rules, error pages)", assemble)
steps.append(steps.pop(-2))  # the URL rules under the assembly
for label, cpu in steps:
    print(f"{cpu:.4f}\t{label}")
"""


def parts(repeat: int) -> None:
    """Each step's CPU seconds in one process, median over `repeat` processes (after one warm-up)."""
    python = str(ROOT / ".venv" / "bin" / "python")
    rows: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "TRACKER_INSTANCE_PATH": tmp, "TRACKER_DATABASE_URL": f"sqlite:///{tmp}/bench.db"}
        env["PYTHONPATH"] = str(ROOT)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        for i in range(repeat + 1):
            out = subprocess.run([python, "-c", PARTS], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
            for line in out.stdout.splitlines():
                cpu, label = line.split("\t")
                if i:
                    rows.setdefault(label, []).append(float(cpu))
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; {repeat} processes, medians")
    total = sum(statistics.median(v) for label, v in rows.items() if not label.startswith(" "))
    for label, values in rows.items():
        print(f"{statistics.median(values):>8.3f} s  {label}")
    print(f"{total:>8.3f} s  in all")


def cpu_of(argv: list[str], cwd: Path, env: dict) -> tuple[float, float, str]:
    """CPU seconds (user + system) and wall seconds of one child process, and its stderr."""
    before = os.times()
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    _out, err = proc.communicate()
    wall = time.perf_counter() - t0
    after = os.times()
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    return cpu, wall, err


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--root", type=Path, action="append", help="a checkout whose commands are measured (repeatable)")
    ap.add_argument("--parts", action="store_true", help="the CPU of each step of `--help` in one process")
    args = ap.parse_args()
    if args.parts:
        return parts(args.repeat)
    roots = args.root or [ROOT]
    python = str(ROOT / ".venv" / "bin" / "python")
    bare = 'python -c "import flask, sqlalchemy"'
    commands = {
        bare: ["-c", "import flask, sqlalchemy"],
        "flask --app tracker --help": ["-c", PROBE, "--app", "tracker", "--help"],
        "flask --app tracker report --help": ["-c", PROBE, "--app", "tracker", "report", "--help"],
        "flask --app tracker metrics summary --help": ["-c", PROBE, "--app", "tracker", "metrics", "summary", "--help"],
        "flask --app tracker routes": ["-c", PROBE, "--app", "tracker", "routes"],
        "flask --app tracker uploads cleanup": ["-c", PROBE, "--app", "tracker", "uploads", "cleanup"],
    }
    samples: dict[tuple, list[tuple[float, float]]] = {(r, c): [] for r in roots for c in commands}
    bodies: dict[tuple, list[float]] = {}
    heavy: dict[tuple, str] = {}
    modules: dict[tuple, str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        envs = {
            root: {
                **os.environ,
                "TRACKER_INSTANCE_PATH": tmp,
                "TRACKER_DATABASE_URL": f"sqlite:///{tmp}/bench.db",
                "PYTHONPATH": str(root),
            }
            for root in roots
        }
        for env in envs.values():
            # as deployed: the warm-up round writes the bytecode the counted rounds read (with this variable set,
            # every run would compile the app's sources again)
            env.pop("PYTHONDONTWRITEBYTECODE", None)
        for i in range(args.repeat + 1):  # the first round warms the file cache and the bytecode, and is dropped
            for root in roots:
                for label, argv in commands.items():
                    cpu, wall, err = cpu_of([python, *argv], root, envs[root])
                    samples[(root, label)].append((cpu, wall))
                    for line in err.splitlines():
                        if line.startswith("HEAVY:"):
                            heavy[(root, label)] = line[6:] or "none"
                        elif line.startswith("MODULES:"):
                            modules[(root, label)] = line[8:]
                        elif line.startswith("BODY:") and i:
                            bodies.setdefault((root, label), []).append(float(line[5:]))
    report(roots, commands, bare, samples, bodies, heavy, modules, args.repeat)


def report(roots, commands, bare, samples, bodies, heavy, modules, repeat) -> None:
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; {repeat} runs each, medians")
    for root in roots:
        base = statistics.median(c for c, _w in samples[(root, bare)][1:])
        print(f"\n{root}")
        print(
            f"{'command':<44}{'CPU s':>8}{'wall s':>8}{'× bare':>8}{'to body':>9}{'× bare':>8}{'modules':>9}"
            "  heavy libraries imported"
        )
        for label in commands:
            rows = samples[(root, label)][1:]
            cpu = statistics.median(c for c, _w in rows)
            wall = statistics.median(w for _c, w in rows)
            mods = modules.get((root, label), "-")
            body = bodies.get((root, label))
            to_body = f"{statistics.median(body):>9.2f}{statistics.median(body) / base:>8.2f}" if body else " " * 17
            print(
                f"{label:<44}{cpu:>8.2f}{wall:>8.2f}{cpu / base:>8.2f}{to_body}{mods:>9}"
                f"  {heavy.get((root, label), '-')}"
            )


if __name__ == "__main__":
    sys.exit(main())
