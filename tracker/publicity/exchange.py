"""The register in Excel: the template, the import (checked like the figures import: the file checks and reader
of metrics.excel, a preview listing every problem in Chinese, then all rows written or none) and the export.

One sheet, 宣传活动, one activity a row, the columns below; the export writes the same columns, so an exported
file read back gives the list it came from.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import policy
from ..audit.service import record
from ..errors import PermissionDenied, ValidationError
from ..evidence import service as evidence
from ..org.models import KIND_TOWNSHIP, Unit
from ..plans.numerals import cn_number
from ..xlsx import DATE_FORMAT, Sheet, notes_sheet, workbook
from .models import FORM, FRAUD, TARGET, Activity

if TYPE_CHECKING:
    from ..metrics.excel import RawSheet
from .service import (
    ActivityFilter,
    ActivityValues,
    clean_activity,
    create_activity,
    default_task,
    list_activities,
    options,
    plan_tasks,
    sync_figures,
)

SHEET = "宣传活动"
DATE, UNIT, TOWN, COMMUNITY, PLACE = "活动日期", "开展单位", "所在镇(街道)", "村(社区)", "活动地点"
TARGET_H, FORM_H, FRAUD_H, AUDIENCE = "宣传对象", "宣传形式", "涉及诈骗类型", "覆盖人数"
MATERIALS, APPS, TASK, NOTES = "发放资料(份)", "现场注册反诈APP(人)", "服务任务", "备注"
PHOTOS = "照片与材料(个)"  # exported only: the import does not read it
HEADERS = [DATE, UNIT, TOWN, COMMUNITY, PLACE, TARGET_H, FORM_H, FRAUD_H, AUDIENCE, MATERIALS, APPS, TASK, NOTES]
REQUIRED = [DATE, UNIT, PLACE, TARGET_H, FORM_H, AUDIENCE]
WIDTHS = [12, 14, 14, 12, 24, 10, 14, 30, 10, 12, 16, 10, 30]
FRAUD_SPLIT = re.compile(r"[、,,;;\s]+")
ERROR, WARNING = "error", "warning"


@dataclass(frozen=True)
class Problem:
    row: int  # spreadsheet row; 0: the file as a whole
    column: str
    message: str
    level: str = ERROR

    @property
    def where(self) -> str:
        return (f"第{self.row}行" if self.row else "文件") + (f"“{self.column}”" if self.column else "")

    def __str__(self) -> str:
        return f"{self.where}:{self.message}"


@dataclass
class PreviewRow:
    row: int
    cells: dict[str, str]  # header -> the text shown
    values: ActivityValues | None = None


@dataclass
class Preview:
    rows: list[PreviewRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.level == ERROR]

    @property
    def can_confirm(self) -> bool:
        return not self.errors and bool(self.rows)

    @property
    def digest(self) -> str:
        """What the preview would write; confirming checks it again, so a changed file or list is seen."""
        text = "\n".join("|".join(r.cells.get(h, "") for h in HEADERS) for r in self.rows)
        return hashlib.sha256(text.encode()).hexdigest()[:32]


def _norm(text) -> str:
    return unicodedata.normalize("NFKC", "" if text is None else str(text)).strip()


def _text(value) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value == int(value):
        return str(int(value))
    return "" if value is None else str(value).strip()


_DATE_RE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")


def parse_date(value) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    m = _DATE_RE.match(_norm(value))
    if not m:
        raise ValidationError("日期格式不正确,应为 2026-09-15")
    try:
        return date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        raise ValidationError("日期不存在") from None


def _count(value, label: str) -> int | None:
    if value is None or _norm(value) == "":
        return None
    if isinstance(value, bool):
        raise ValidationError(f"{label}应为整数")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if value != int(value):
            raise ValidationError(f"{label}应为整数")
        return int(value)
    text = _norm(value).replace(",", "")
    if not re.fullmatch(r"-?\d+", text):
        raise ValidationError(f"{label}应为整数")
    return int(text)


def _unit_names(session: Session) -> dict[str, Unit]:
    """Every unit by its name and its aliases."""
    out: dict[str, Unit] = {}
    for u in session.scalars(select(Unit)):
        for alias in u.alias_list():
            out.setdefault(_norm(alias), u)
    for u in session.scalars(select(Unit)):
        out[_norm(u.name)] = u
    return out


def _tasks(session: Session) -> dict[str, int]:
    out = {}
    for t in plan_tasks(session):
        for key in (t.short_label, str(t.number), f"({cn_number(t.number)})", cn_number(t.number), t.title):
            out[_norm(key)] = t.id
    return out


@dataclass
class _Lists:
    """What every row is checked against: units by name, the lists, the plan's tasks, the activities on record."""

    units: dict[str, Unit]
    targets: dict[str, int]
    forms: dict[str, int]
    frauds: dict[str, int]
    tasks: dict[str, int]
    default_task_id: int | None
    existing: set[tuple]

    @classmethod
    def read(cls, session: Session) -> _Lists:
        units = _unit_names(session)
        task = default_task(session)
        ids = {u.id for u in units.values()}
        existing = {
            (a.held_on, a.unit_id, a.place, a.target_id)
            for a in session.scalars(select(Activity).where(Activity.unit_id.in_(ids)))
        }
        return cls(
            units=units,
            targets={o.name: o.id for o in options(session, TARGET)},
            forms={o.name: o.id for o in options(session, FORM)},
            frauds={o.name: o.id for o in options(session, FRAUD)},
            tasks=_tasks(session),
            default_task_id=task.id if task else None,
            existing=existing,
        )


class _RowCheck:
    """One row read with the lists: each cell checked in the order of the columns, every problem kept."""

    def __init__(self, number: int, get: dict, cells: dict[str, str], lists: _Lists) -> None:
        self.number, self.get, self.cells, self.lists = number, get, cells, lists
        self.problems: list[Problem] = []

    def bad(self, column: str, message: str) -> None:
        self.problems.append(Problem(self.number, column, message))

    def values(self, actor) -> ActivityValues | None:
        """The row's values when every cell reads (the form's rules are checked afterwards); else None."""
        get = self.get
        held_on = self._date()
        unit = self._unit(actor)
        town = self._town(unit)
        target_id = self._listed(TARGET_H, self.lists.targets, "宣传对象")
        form_id = self._listed(FORM_H, self.lists.forms, "宣传形式")
        fraud_ids = self._frauds()
        counts = self._counts()
        task_id = self._task()
        if self.problems:
            return None
        return ActivityValues(
            held_on=held_on,
            unit_id=unit.id,
            town_id=town.id if town else unit.id,
            place=_norm(get[PLACE]),
            target_id=target_id,
            form_id=form_id,
            fraud_ids=fraud_ids,
            audience=counts[AUDIENCE],
            materials=counts.get(MATERIALS),
            apps=counts.get(APPS),
            community=_norm(get.get(COMMUNITY)),
            task_id=task_id,
            notes=_text(get.get(NOTES)),
        )

    def _date(self) -> date | None:
        try:
            return parse_date(self.get[DATE])
        except ValidationError as e:
            self.bad(DATE, str(e))
            return None

    def _unit(self, actor) -> Unit | None:
        unit = self.lists.units.get(_norm(self.get[UNIT]))
        if unit is None:
            self.bad(UNIT, f"单位“{self.cells[UNIT]}”不存在" if self.cells[UNIT] else "请填写开展单位")
        elif not policy.can(actor, "activity.write", unit.id):
            self.bad(UNIT, f"您只能登记本单位的宣传活动,不能登记{unit.name}的")
            return None
        return unit

    def _town(self, unit: Unit | None) -> Unit | None:
        town = None
        town_text = _norm(self.get.get(TOWN))
        if town_text:
            town = self.lists.units.get(town_text)
            if town is None or town.kind != KIND_TOWNSHIP:
                self.bad(TOWN, f"“{self.cells[TOWN]}”不是镇(街道)")
        elif unit is not None and unit.kind != KIND_TOWNSHIP:
            self.bad(TOWN, "部门开展的活动须填写所在镇(街道)")
        if unit is not None and unit.kind == KIND_TOWNSHIP and town is not None and town.id != unit.id:
            self.bad(TOWN, f"镇(街道)开展的活动所在地应为本镇(街道){unit.name}")
        return town

    def _listed(self, column: str, names: dict[str, int], label: str) -> int | None:
        found = names.get(_norm(self.get[column]))
        if found is None:
            self.bad(column, f"{label}“{self.cells[column]}”不在名录中(可选:{'、'.join(names)})")
        return found

    def _frauds(self) -> list[int]:
        ids = []
        for name in FRAUD_SPLIT.split(_norm(self.get.get(FRAUD_H))):
            if not name:
                continue
            if name not in self.lists.frauds:
                self.bad(FRAUD_H, f"诈骗类型“{name}”不在名录中")
            else:
                ids.append(self.lists.frauds[name])
        return ids

    def _counts(self) -> dict[str, int | None]:
        counts = {}
        for header, label in ((AUDIENCE, "覆盖人数"), (MATERIALS, "发放资料份数"), (APPS, "现场注册反诈APP人数")):
            try:
                counts[header] = _count(self.get.get(header), label)
            except ValidationError as e:
                self.bad(header, str(e))
        return counts

    def _task(self) -> int | None:
        task_text = _norm(self.get.get(TASK))
        if not task_text:
            return self.lists.default_task_id
        task_id = self.lists.tasks.get(task_text)
        if task_id is None:
            self.bad(TASK, f"方案中没有“{self.cells[TASK]}”")
        return task_id

    def clean(self, session: Session, actor, values: ActivityValues, seen: dict[tuple, int]) -> bool:
        """The form's rules, then no second activity of the same unit, day, place and target group (in the file
        or on record); True when the row may be written."""
        try:
            clean_activity(session, actor, values)
        except PermissionDenied:
            unit = session.get(Unit, values.unit_id)
            self.bad(UNIT, f"您只能登记本单位的宣传活动,不能登记{unit.name}的")
            return False
        except ValidationError as e:
            named = next(iter(getattr(e, "fields", {})), "")
            self.bad(_FIELD_COLUMNS.get(named, ""), str(e))
            return False
        key = (values.held_on, values.unit_id, values.place, values.target_id)
        if key in seen:
            self.bad("", f"与第{seen[key]}行重复(同一单位、日期、地点、宣传对象)")
        elif key in self.lists.existing:
            self.bad("", "台账中已有同一单位、日期、地点、宣传对象的活动")
        seen.setdefault(key, self.number)
        return not self.problems


# the column a refusal of the form's rules names, by the field it names
_FIELD_COLUMNS = {
    "held_on": DATE,
    "place": PLACE,
    "community": COMMUNITY,
    "apps": APPS,
    "notes": NOTES,
    "audience": AUDIENCE,
}


def _columns(headers: list) -> dict[str, int]:
    """Each known header's column (the first, when one is repeated)."""
    index: dict[str, int] = {}
    for i, h in enumerate(headers):
        name = _norm(h)
        if name in HEADERS and name not in index:
            index[name] = i
    return index


def build_preview(session: Session, actor, sheet: RawSheet) -> Preview:
    """Every row checked with the rules of the form; nothing written."""
    preview = Preview()
    index = _columns(sheet.headers)
    missing = [h for h in REQUIRED if h not in index]
    if missing:
        preview.problems.append(Problem(0, "", f"缺少列:{'、'.join(missing)}(请使用下载的模板)"))
        return preview
    if not sheet.rows:
        preview.problems.append(Problem(0, "", "文件中没有活动数据"))
        return preview
    lists = _Lists.read(session)
    seen: dict[tuple, int] = {}
    for number, raw in sheet.rows:
        get = {h: raw[i] for h, i in index.items()}
        row = PreviewRow(number, {h: _text(get.get(h)) for h in HEADERS})
        preview.rows.append(row)
        check = _RowCheck(number, get, row.cells, lists)
        values = check.values(actor)
        if values is not None and check.clean(session, actor, values, seen):
            row.values = values
        preview.problems.extend(check.problems)
    return preview


def apply_import(session: Session, actor, preview: Preview, filename: str = "") -> int:
    """Write every row of a checked preview in the caller's transaction, or none; the number written."""
    if preview.errors:
        raise ValidationError(f"预览中有{len(preview.errors)}个问题,不能导入,请修改文件后重新上传")
    if not preview.rows:
        raise ValidationError("文件中没有活动数据")
    created = [create_activity(session, actor, r.values, sync=False) for r in preview.rows]
    sync_figures(session, actor, [(a.town_id, a.month) for a in created])
    record(
        session,
        actor,
        "activity.import",
        object_type="Activity",
        after={"file": filename[:100], "rows": len(created), "ids": [a.id for a in created]},
        summary=f"导入宣传活动{len(created)}条" + (f"({filename[:100]})" if filename else ""),
    )
    return len(created)


# -- writing workbooks --------------------------------------------------------------------


def _workbook(rows: list[list], notes: list[str], headers: list[str] = HEADERS) -> bytes:
    formats = [DATE_FORMAT if h == DATE else "0" if h in (AUDIENCE, MATERIALS, APPS, PHOTOS) else None for h in headers]
    return workbook([Sheet(SHEET, headers, rows, widths=WIDTHS, formats=formats), notes_sheet(notes)])


def row_of(a: Activity) -> list:
    return [
        a.held_on,
        a.unit.name,
        a.town.name,
        a.community,
        a.place,
        a.target.name,
        a.form.name,
        a.fraud_label,
        a.audience,
        a.materials,
        a.apps,
        a.task.short_label if a.task else "",
        a.notes,
    ]


def template_file(session: Session) -> bytes:
    notes = [
        "每行一场宣传活动;带 * 的列必填:活动日期*、开展单位*、活动地点*、宣传对象*、宣传形式*、覆盖人数*。",
        "活动日期写作 2026-09-15;开展单位、所在镇(街道)写单位全称;镇(街道)开展的活动所在镇(街道)可不填。",
        "部门开展的活动须填写所在镇(街道);村(社区)填写该镇(街道)登记的村(社区)名称,可不填。",
        "宣传对象可选:" + "、".join(o.name for o in options(session, TARGET)),
        "宣传形式可选:" + "、".join(o.name for o in options(session, FORM)),
        "涉及诈骗类型(可多个,用“、”分隔):" + "、".join(o.name for o in options(session, FRAUD)),
        "服务任务写作 任务三;不填即为任务三(强化宣传教育)。",
        "导入前先预览:所有问题逐条列出,有问题的文件一条也不写入。",
    ]
    return _workbook([], notes)


def export_file(session: Session, actor, f: ActivityFilter) -> bytes:
    activities = list_activities(session, actor, f)
    activities.sort(key=lambda a: (a.held_on, a.id))
    photos = evidence.counts(session, "activity", [a.id for a in activities])
    notes = [
        f"宣传活动台账导出,共{len(activities)}场,覆盖{sum(a.audience for a in activities)}人次。",
        f"“{PHOTOS}”列为活动所附照片与材料的个数(文件本身在系统中查看);导入时该列不读取。",
    ]
    rows = [row_of(a) + [photos.get(a.id, 0)] for a in activities]
    return _workbook(rows, notes, HEADERS + [PHOTOS])
