"""Importing a plan from its document: matching the names it uses to units, the preview, and the one-step creation.

Nothing is written before `import_plan`; it creates the confirmed new units (through the unit service) and the
plan (through `load_plan`) in the caller's transaction. Between the preview and the confirmation the recognised
structure travels as a signed token (`dump_state` / `load_state`), never stored on the server.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import policy
from ..audit.service import record
from ..errors import ValidationError
from ..org.models import KIND_DEPARTMENT, KIND_LABELS, KIND_TOWNSHIP, Unit
from ..org.service import create_unit
from . import importer
from .documents import ImportTextError, read_document
from .models import Plan
from .numerals import task_label
from .review import apply_review, review_warnings
from .service import load_plan

STATE_SALT = "tracker.plan-import"
STATE_MAX_AGE = 6 * 3600  # seconds a preview stays valid
# Prefixes documents put before a unit's own name: 区公安分局, 区委政法委, 开发区财政局 …
NAME_PREFIXES = ("开发区", "区委", "区政府", "全区", "区")
DECISION_SKIP = "skip"
# A unit's name is a name: brackets or punctuation in it mean the responsibility line was misread (各镇(街道)】).
NOT_IN_A_NAME = re.compile(r"[()（）【】\[\]〔〕{}<>《》「」『』“”\"'‘’,，、;；:：。.!！?？/\\|]")


def bad_unit_name(name: str) -> bool:
    """Whether `name` holds brackets or punctuation, so it cannot be created as a unit."""
    return bool(NOT_IN_A_NAME.search(name or ""))


class UnitIndex:
    """Finds the unit a document means: by name, by another name (aliases), or with a prefix like 区/区委 removed."""

    def __init__(self, units: list[Unit], district: str = ""):
        self.prefixes = tuple(p for p in (district, *NAME_PREFIXES) if p)
        self.exact: dict[str, Unit] = {}
        self.loose: dict[str, set[int]] = {}
        self.by_id = {u.id: u for u in units}
        for u in sorted(units, key=lambda u: (not u.is_active, u.id)):
            self.exact.setdefault(_norm(u.name), u)
        for u in sorted(units, key=lambda u: (not u.is_active, u.id)):
            for alias in u.alias_list():
                self.exact.setdefault(_norm(alias), u)
            if u.is_active:
                for n in (u.name, *u.alias_list()):
                    for key in self._keys(n):
                        self.loose.setdefault(key, set()).add(u.id)

    def _keys(self, name: str) -> list[str]:
        n = _norm(name)
        keys = [n]
        for p in self.prefixes:
            if n.startswith(p) and len(n) - len(p) >= 2:
                keys.append(n[len(p) :])
        return keys

    def match(self, name: str) -> Unit | None:
        keys = self._keys(name)
        for k in keys:
            if k in self.exact:
                return self.exact[k]
        for k in keys:
            ids = self.loose.get(k, set())
            if len(ids) == 1:  # a short form shared by two units matches neither
                return self.by_id[next(iter(ids))]
        return None


def _norm(name: str) -> str:
    return re.sub(r"\s+", "", (name or "").replace("（", "(").replace("）", ")"))


def unit_index(session: Session, district: str = "") -> UnitIndex:
    return UnitIndex(list(session.scalars(select(Unit))), district)


def names_in(data: dict) -> list[str]:
    """Every unit name the plan's tasks use, in order of first appearance."""
    names: dict[str, None] = {}
    for t in data.get("tasks", []):
        for n in [*t.get("lead_units", []), *t.get("member_units", [])]:
            names.setdefault(n, None)
    return list(names)


@dataclass
class Preview:
    """What the administrator reviews: the plan's data, what to look at, and how each unit name was matched."""

    data: dict
    parse_warnings: list[str]
    source: str
    text: str
    section: str = ""
    matches: dict[str, str] = field(default_factory=dict)  # name as written → unit name, when they differ
    unknown: list[str] = field(default_factory=list)  # names that match no unit
    inactive: list[str] = field(default_factory=list)  # names of units that are switched off
    township_count: int = 0

    @property
    def warnings(self) -> list[str]:
        return [
            *self.parse_warnings,
            *review_warnings(self.data),
            *(f"单位“{n}”已停用,导入后该单位的任务分工不生效。" for n in self.inactive),
            *(
                f"“{n}”含有括号或标点,不像单位名称(可能是责任单位行没有读对),不能新建为单位,请在任务"
                f"{self.where_named(n)}的单位中改正。"
                for n in self.unknown
                if bad_unit_name(n)
            ),
        ]

    def where_named(self, name: str) -> str:
        return "、".join(
            task_label(t["number"]) for t in self.data["tasks"] if name in t["lead_units"] or name in t["member_units"]
        )

    @property
    def names(self) -> list[str]:
        return names_in(self.data)

    @property
    def matched_count(self) -> int:
        return len(self.names) - len(self.unknown)

    def label(self, number: int) -> str:
        return task_label(number)

    def undecided(self, decisions: dict[str, str]) -> list[str]:
        return [n for n in self.unknown if not decisions.get(n)]

    def form_data(self, decisions: dict[str, str] | None = None) -> dict:
        """The review form's initial values: unit lists as text, every measure kept, new names made departments."""
        decisions = decisions or {}
        return {
            "title": self.data.get("title") or "",
            "year": self.data.get("year"),
            "district": self.data.get("district") or "",
            "tasks": [
                {
                    "title": t["title"],
                    "lead_units": "、".join(t["lead_units"]),
                    "member_units": "、".join(t["member_units"]),
                    "includes_townships": t["includes_townships"],
                    "measures": ["keep"] * len(t["measures"]),
                }
                for t in self.data["tasks"]
            ],
            "units": [{"name": n, "choice": decisions.get(n) or f"new:{KIND_DEPARTMENT}"} for n in self.unknown],
        }

    def state(self) -> dict:
        return {
            "v": 1,
            "data": self.data,
            "warnings": self.parse_warnings,
            "source": self.source,
            "text": self.text,
            "section": self.section,
        }

    def json(self) -> dict:
        """The recognised structure with the unit matching, as `flask plan import --json` prints it."""
        return {**self.data, "unknown_units": self.unknown, "unit_matches": self.matches, "warnings": self.warnings}


def read_source(text: str | None, upload) -> tuple[str, str]:
    """The plan's text and where it came from: an uploaded file (werkzeug FileStorage) or pasted text."""
    if upload is not None and getattr(upload, "filename", ""):
        try:
            return read_document(upload.filename, upload.read()), upload.filename
        except ImportTextError as e:
            raise ValidationError(str(e)) from e
    if text and text.strip():
        return text, "粘贴的文本"
    raise ValidationError("请粘贴实施方案全文,或上传 .txt / .docx 文件。")


def preview(
    session: Session,
    text: str,
    *,
    section: str | None = None,
    title: str | None = None,
    year: int | None = None,
    district: str = "",
    source: str = "",
) -> Preview:
    """Recognise the plan in `text` and match its unit names. Writes nothing."""
    try:
        parsed = importer.parse_plan(text, section=section or None, title=title, year=year, district=district)
    except ImportTextError as e:
        raise ValidationError(str(e)) from e
    p = _matched(session, parsed.to_data(), parsed.warnings, source, text)
    p.section = section or ""
    return p


def review(session: Session, state: dict, *, title: str, year: int | None, district: str, tasks: list[dict]) -> Preview:
    """The preview again, with the administrator's edits applied (see plans.review.apply_review)."""
    data = apply_review(state["data"], title=title, year=year, district=district, tasks=tasks)
    p = _matched(session, data, state.get("warnings", []), state.get("source", ""), state.get("text", ""))
    p.section = state.get("section", "")
    return p


def _matched(session: Session, data: dict, warnings: list[str], source: str, text: str) -> Preview:
    index = unit_index(session, data.get("district") or "")
    p = Preview(data=data, parse_warnings=list(warnings), source=source, text=text)
    for name in names_in(data):
        unit = index.match(name)
        if unit is None:
            p.unknown.append(name)
            continue
        if unit.name != name:
            p.matches[name] = unit.name
        if not unit.is_active and unit.name not in p.inactive:
            p.inactive.append(unit.name)
    p.township_count = (
        session.scalar(select(func.count(Unit.id)).where(Unit.kind == KIND_TOWNSHIP, Unit.is_active.is_(True))) or 0
    )
    return p


def decision_choices(session: Session) -> list[tuple[str, str]]:
    """What can be done with a name that matches no unit: create it, take it as an existing unit, or leave it out."""
    choices = [(f"new:{KIND_DEPARTMENT}", "新建单位(部门)"), (f"new:{KIND_TOWNSHIP}", "新建单位(镇、街道)")]
    for u in session.scalars(
        select(Unit).where(Unit.is_active.is_(True)).order_by(Unit.kind, Unit.sort_order, Unit.id)
    ):
        choices.append((f"unit:{u.id}", f"即已有单位:{u.name}"))
    choices.append((DECISION_SKIP, "不导入此单位"))
    return choices


@dataclass
class ImportResult:
    plan: Plan
    new_units: list[Unit]
    skipped: list[str]

    @property
    def message(self) -> str:
        new = f";新建单位{len(self.new_units)}个:" + "、".join(u.name for u in self.new_units) if self.new_units else ""
        return f"已导入实施方案“{self.plan.title}”({self.plan.year}年):{len(self.plan.tasks)}项任务{new}。"


def import_plan(session: Session, actor, data: dict, decisions: dict[str, str], source: str = "") -> ImportResult:
    """Create the reviewed plan, and the units confirmed as new, in the caller's transaction.

    `decisions` says for each name that matches no unit: "new:department", "new:township", "unit:<id>" or
    "skip". A plan of the same title and year is refused, never merged.
    """
    policy.require(actor, "plan.manage")
    title, year = _check_plan(session, data)
    index = unit_index(session, data.get("district") or "")
    _check_new_names(data, decisions, index)
    resolved: dict[str, str | None] = {}
    new_units: list[Unit] = []
    skipped: list[str] = []
    for name in names_in(data):
        unit = index.match(name)
        if unit is None:
            unit = _decide(session, actor, name, decisions.get(name))
            if unit is None:
                skipped.append(name)
            elif unit.id not in index.by_id:
                new_units.append(unit)
        resolved[name] = unit.name if unit else None

    plan_data = dict(data, title=title, tasks=[])
    for t in data["tasks"]:
        leads = list(dict.fromkeys(n for n in (resolved[x] for x in t["lead_units"]) if n))
        members = [n for n in dict.fromkeys(resolved[x] for x in t["member_units"]) if n and n not in leads]
        plan_data["tasks"].append(dict(t, lead_units=leads, member_units=members))
    plan, _created = load_plan(session, actor, plan_data)
    record(
        session,
        actor,
        "plan.import",
        plan,
        after={
            "title": plan.title,
            "year": plan.year,
            "source": source,
            "tasks": len(plan_data["tasks"]),
            "new_units": [u.name for u in new_units],
            "skipped_names": skipped,
        },
        summary=f"从文本导入实施方案 {plan.title}:{len(plan_data['tasks'])}项任务,新建单位{len(new_units)}个",
    )
    session.flush()
    return ImportResult(plan, new_units, skipped)


def _check_plan(session: Session, data: dict) -> tuple[str, int]:
    """The plan's title and year, once the title, year and tasks are valid and no plan of that title and year exists."""
    title = (data.get("title") or "").strip()
    year = data.get("year")
    if not title:
        raise ValidationError("请填写方案标题。")
    if len(title) > 200:
        raise ValidationError("方案标题不能超过200字。")
    if not isinstance(year, int) or not 2000 <= year <= 2100:
        raise ValidationError("请填写方案年度(2000至2100年)。")
    if not data.get("tasks"):
        raise ValidationError("方案没有主要任务,不能导入。")
    for t in data["tasks"]:
        if not (t.get("title") or "").strip():
            raise ValidationError(f"任务{task_label(t['number'])}没有标题。")
    if session.scalar(select(Plan.id).where(Plan.title == title, Plan.year == year)):
        raise ValidationError(f"已有{year}年度的“{title}”,不能重复导入。如要导入新的方案,请修改方案标题或年度。")
    return title, year


def _check_new_names(data: dict, decisions: dict[str, str], index) -> None:
    """A name to be created as a unit may hold no brackets or punctuation (a misread responsibility line)."""
    bad = [
        n
        for n in names_in(data)
        if bad_unit_name(n) and index.match(n) is None and (decisions.get(n) or "").startswith("new:")
    ]
    if bad:
        raise ValidationError(
            "以下名称含有括号或标点,不能新建为单位:"
            + "、".join(f"“{n}”" for n in bad)
            + "。请改正名称(或对应已有单位、不导入)后再导入。"
        )


def _decide(session: Session, actor, name: str, decision: str | None) -> Unit | None:
    if not decision:
        raise ValidationError(f"单位“{name}”尚未登记,请选择新建、对应已有单位或不导入。")
    if decision == DECISION_SKIP:
        return None
    if decision.startswith("new:") and decision[4:] in KIND_LABELS:
        return create_unit(session, actor, name=name, kind=decision[4:])
    if decision.startswith("unit:") and decision[5:].isdigit():
        unit = session.get(Unit, int(decision[5:]))
        if unit is not None:
            return unit
    raise ValidationError(f"单位“{name}”的处理方式无效,请重新选择。")


def dump_state(secret: str, p: Preview) -> str:
    """The preview's state as a signed, compressed token for a hidden form field."""
    return URLSafeTimedSerializer(secret, salt=STATE_SALT).dumps(p.state())


def load_state(secret: str, token: str | None) -> dict:
    """The state a preview page carried; refuses a token that was altered or is too old."""
    if not token:
        raise ValidationError("没有可确认的导入内容,请重新识别方案文本。")
    try:
        state = URLSafeTimedSerializer(secret, salt=STATE_SALT).loads(token, max_age=STATE_MAX_AGE)
    except SignatureExpired as e:
        raise ValidationError("核对页面已过期,请重新识别方案文本。") from e
    except BadSignature as e:
        raise ValidationError("导入内容校验失败,请重新识别方案文本。") from e
    if not isinstance(state, dict) or state.get("v") != 1 or not isinstance(state.get("data"), dict):
        raise ValidationError("导入内容校验失败,请重新识别方案文本。")
    return state
