"""Start-up benchmark: CPU seconds of a `flask --app tracker …` command before it does anything, against a bare
`python -c "import flask, sqlalchemy"` measured in the same run, and which heavy libraries the command imported.

Each command runs --repeat times in turn (bare, then each tracker command), so a busy machine slows both sides
alike; the figure to compare across runs is the ratio. The load average is printed beside it.

    .venv/bin/python benchmarks/startup.py [--repeat 7] [--root DIR]

--root runs the commands of another checkout (e.g. an older commit unpacked with `git archive`) with this venv.
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
HEAVY = ("weasyprint", "openpyxl", "docx", "fontTools", "PIL", "pypdf", "lxml.html")
PROBE = (
    "import sys, runpy; sys.argv = ['flask'] + sys.argv[1:]\n"
    "try:\n    runpy.run_module('flask', run_name='__main__')\n"
    "except SystemExit:\n    pass\n"
    f"print('HEAVY:' + ','.join(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)\n"
)


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
    ap.add_argument("--root", type=Path, default=ROOT, help="the checkout whose commands are measured")
    args = ap.parse_args()
    python = str(ROOT / ".venv" / "bin" / "python")
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "TRACKER_INSTANCE_PATH": tmp,
            "TRACKER_DATABASE_URL": f"sqlite:///{tmp}/bench.db",
            "PYTHONPATH": str(args.root),
            "PYTHONDONTWRITEBYTECODE": "",
        }
        commands = {
            'python -c "import flask, sqlalchemy"': [python, "-c", "import flask, sqlalchemy"],
            "flask --app tracker --help": [python, "-c", PROBE, "--app", "tracker", "--help"],
            "flask --app tracker report --help": [python, "-c", PROBE, "--app", "tracker", "report", "--help"],
            "flask --app tracker metrics summary --help": [
                python,
                "-c",
                PROBE,
                "--app",
                "tracker",
                "metrics",
                "summary",
                "--help",
            ],
        }
        for argv in commands.values():  # warm the file cache and the bytecode
            cpu_of(argv, args.root, env)
        samples: dict[str, list[tuple[float, float]]] = {label: [] for label in commands}
        heavy: dict[str, str] = {}
        for _ in range(args.repeat):
            for label, argv in commands.items():
                cpu, wall, err = cpu_of(argv, args.root, env)
                samples[label].append((cpu, wall))
                for line in err.splitlines():
                    if line.startswith("HEAVY:"):
                        heavy[label] = line[6:] or "none"
    load = os.getloadavg()
    base = statistics.median(c for c, _w in samples['python -c "import flask, sqlalchemy"'])
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; root {args.root}; {args.repeat} runs each")
    print(f"{'command':<44}{'CPU s':>8}{'wall s':>8}{'× bare':>8}  heavy libraries imported")
    for label, rows in samples.items():
        cpu = statistics.median(c for c, _w in rows)
        wall = statistics.median(w for _c, w in rows)
        print(f"{label:<44}{cpu:>8.2f}{wall:>8.2f}{cpu / base:>8.2f}  {heavy.get(label, '-')}")


if __name__ == "__main__":
    sys.exit(main())
