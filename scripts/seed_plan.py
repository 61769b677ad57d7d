"""Regenerate seed/plan.json from the district plan (篇2) of the seed document, with the plan importer.

    .venv/bin/python scripts/seed_plan.py            # rewrite seed/plan.json
    .venv/bin/python scripts/seed_plan.py --check    # exit 1 when seed/plan.json is not the importer's output

The document names no title, year or district for 篇2; they are given here. The same recognition is available
on a running installation as `flask --app tracker plan import tests/data/seed_doc.txt --section 篇2 --json`,
which adds how each unit name matches the units in that database.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tracker.plans.importer import parse_plan  # noqa: E402

SEED_DOC = ROOT / "tests" / "data" / "seed_doc.txt"
TARGET = ROOT / "seed" / "plan.json"
SECTION = "篇2"
TITLE = "开发区打击治理电信网络诈骗犯罪实施方案"
YEAR = 2026
DISTRICT = "开发区"


def build() -> str:
    plan = parse_plan(SEED_DOC.read_text(encoding="utf-8"), section=SECTION, title=TITLE, year=YEAR,
                      district=DISTRICT)
    if plan.warnings:
        raise SystemExit("importer warnings on the seed document: " + "; ".join(plan.warnings))
    return json.dumps(plan.to_data(), ensure_ascii=False, indent=1) + "\n"


def main(argv: list[str]) -> int:
    text = build()
    if "--check" in argv:
        same = json.loads(TARGET.read_text(encoding="utf-8")) == json.loads(text)
        print("seed/plan.json " + ("is" if same else "differs from") + " the importer's output")
        return 0 if same else 1
    TARGET.write_text(text, encoding="utf-8")
    print(f"wrote {TARGET.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
