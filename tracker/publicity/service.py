"""The publicity-activity register: the lists, recording and editing activities, the lists of activities, the
statistics and coverage of a period, a town's 村/社区, and the 宣传场次/覆盖人次 figures counted from it.

Rules (README, "Rules the product applies"):
- An officer records and edits the activities of the officer's own unit; reviewers and administrators see all.
- An activity takes place in one town or street: a town's own activities in itself, a department's in the town
  it names. 宣传场次 of a town in a month is the number of activities held in it that month, 覆盖人次 their
  audience; both are stored as the month's figures (source 宣传台账) on every write and never typed.
- Coverage of a period: every active target group without an activity, and for each town that lists its 村/社区,
  every listed one without an activity held there.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.attributes import flag_modified

from .. import clock, policy
from ..audit.service import record
from ..errors import NotFound, StaleEdit, ValidationError
from ..evidence import service as evidence
from ..metrics.service import set_register_values
from ..org.models import KIND_TOWNSHIP, Unit
from ..periods import Period
from ..plans.models import Task
from ..plans.service import active_plan
from .models import FORM, FRAUD, OPTION_KIND_LABELS, TARGET, Activity, CommunityList, OptionKind, PublicityOption

MAX_PLACE = 100
MAX_COMMUNITY = 64
MAX_NOTES = 1000
MAX_OPTION = 32
MAX_OPTIONS = 60
MAX_COUNT = 1_000_000
DEFAULT_TASK_NUMBER = 3  # 任务三: 强化宣传教育,构筑全民反诈高地
EARLIEST = date(2000, 1, 1)
# the catch-all entry of a list: never reported as a target group left uncovered
CATCH_ALL = "其他"


# -- the lists ------------------------------------------------------------------


def options(session: Session, kind: str, include_inactive: bool = False) -> list[PublicityOption]:
    q = select(PublicityOption).where(PublicityOption.kind == kind)
    if not include_inactive:
        q = q.where(PublicityOption.is_active.is_(True))
    return list(session.scalars(q.order_by(PublicityOption.sort_order, PublicityOption.id)))


def options_token(session: Session) -> str:
    """A fingerprint of the three lists as they stand: the lists page sends it back, so saving over lists someone
    else changed meanwhile is a stale edit."""
    names = [
        f"{o.kind}:{o.name}:{int(o.is_active)}:{o.sort_order}"
        for o in session.scalars(select(PublicityOption).order_by(PublicityOption.kind, PublicityOption.id))
    ]
    return hashlib.sha256("\n".join(names).encode()).hexdigest()[:16]


def _clean_lines(kind: str, text: str) -> list[str]:
    label = OPTION_KIND_LABELS[OptionKind(kind)]
    names: list[str] = []
    for line in (text or "").replace("\r", "").split("\n"):
        name = line.strip()
        if not name:
            continue
        if len(name) > MAX_OPTION:
            raise ValidationError(f"{label}“{name[:10]}…”超过{MAX_OPTION}字")
        if name in names:
            raise ValidationError(f"{label}“{name}”重复")
        names.append(name)
    if not names:
        raise ValidationError(f"{label}至少保留一项")
    if len(names) > MAX_OPTIONS:
        raise ValidationError(f"{label}不能超过{MAX_OPTIONS}项")
    return names


def _set_list(session: Session, kind: str, names: list[str]) -> tuple[list[str], list[str]]:
    """Make the active entries of a list exactly `names`, in that order; returns (added, switched off)."""
    existing = {o.name: o for o in options(session, kind, include_inactive=True)}
    added, removed = [], []
    for i, name in enumerate(names, 1):
        o = existing.get(name)
        if o is None:
            session.add(PublicityOption(kind=kind, name=name, sort_order=i, is_active=True))
            added.append(name)
        else:
            if not o.is_active:
                added.append(name)
            o.is_active, o.sort_order = True, i
    for name, o in existing.items():
        if name not in names and o.is_active:
            o.is_active = False
            removed.append(name)
    return added, removed


def save_options(session: Session, actor, token: str, lists: dict[str, str]) -> None:
    """Replace the three lists (one name a line). An entry taken off is switched off: past activities keep it."""
    policy.require(actor, "publicity.options")
    if token != options_token(session):
        raise StaleEdit("名录已被他人修改,请核对后重新保存。您填写的内容已保留在下方。")
    cleaned = {kind: _clean_lines(kind, lists.get(kind, "")) for kind in (TARGET, FORM, FRAUD)}
    before = {kind: [o.name for o in options(session, kind)] for kind in cleaned}
    changes = []
    for kind, names in cleaned.items():
        added, removed = _set_list(session, kind, names)
        label = OPTION_KIND_LABELS[OptionKind(kind)]
        if added:
            changes.append(f"{label}增加{'、'.join(added)}")
        if removed:
            changes.append(f"{label}停用{'、'.join(removed)}")
    session.flush()
    record(
        session,
        actor,
        "publicity.options",
        object_type="PublicityOption",
        before=before,
        after=cleaned,
        summary="修改宣传台账名录:" + (";".join(changes) or "仅调整顺序"),
    )


def load_options(session: Session, actor, data: dict) -> int:
    """The seed's default lists, for a list that has no entry yet; never overwrites an administrator's lists."""
    created = 0
    for kind in (TARGET, FORM, FRAUD):
        if session.scalar(select(func.count(PublicityOption.id)).where(PublicityOption.kind == kind)):
            continue
        for i, name in enumerate(data.get(kind, []), 1):
            session.add(PublicityOption(kind=kind, name=name, sort_order=i))
            created += 1
    if created:
        session.flush()
        record(
            session, actor, "publicity.options", object_type="PublicityOption", summary=f"载入宣传台账名录{created}项"
        )
    return created


# -- a town's 村/社区 -------------------------------------------------------------


def communities(session: Session, unit_id: int) -> list[str]:
    row = session.get(CommunityList, unit_id)
    return row.name_list() if row else []


def community_lists(session: Session) -> dict[int, list[str]]:
    return {row.unit_id: row.name_list() for row in session.scalars(select(CommunityList))}


def save_communities(session: Session, actor, unit_id: int, version: int | None, text: str) -> CommunityList:
    """A town's 村/社区, one a line (version 0 or None: the first list)."""
    unit = session.get(Unit, unit_id)
    if unit is None:
        raise NotFound("单位不存在")
    policy.require(actor, "publicity.communities", unit)
    if unit.kind != KIND_TOWNSHIP:
        raise ValidationError("只有镇(街道)登记所辖村(社区)")
    names: list[str] = []
    for line in (text or "").replace("\r", "").replace("、", "\n").split("\n"):
        name = line.strip()
        if not name:
            continue
        if len(name) > MAX_COMMUNITY:
            raise ValidationError(f"村(社区)名称“{name[:10]}…”超过{MAX_COMMUNITY}字")
        if name not in names:
            names.append(name)
    if len(names) > 500:
        raise ValidationError("村(社区)不能超过500个")
    row = session.get(CommunityList, unit_id)
    if (row.version if row else 0) != (version or 0):
        raise StaleEdit()
    before = row.name_list() if row else []
    if row is None:
        row = CommunityList(unit_id=unit_id, names="")
        session.add(row)
    row.names, row.updated_at = "\n".join(names), clock.now()
    session.flush()
    record(
        session,
        actor,
        "publicity.communities",
        object_type="Unit",
        object_id=unit_id,
        before={"names": before},
        after={"names": names},
        summary=f"{unit.name}登记村(社区){len(names)}个",
    )
    return row


# -- activities -------------------------------------------------------------------


def default_task(session: Session) -> Task | None:
    plan = active_plan(session)
    if plan is None:
        return None
    return next((t for t in plan.tasks if t.number == DEFAULT_TASK_NUMBER), None)


def plan_tasks(session: Session) -> list[Task]:
    plan = active_plan(session)
    return list(plan.tasks) if plan else []


def get_activity(session: Session, activity_id: int) -> Activity:
    a = session.get(Activity, activity_id)
    if a is None:
        raise NotFound("宣传活动不存在")
    return a


def _count(value, label: str, field_name: str) -> int:
    if value is None or value == "":
        if field_name == "audience":
            raise ValidationError(f"请填写{label}", {field_name: f"请填写{label}"})
        return 0
    if isinstance(value, bool):
        raise ValidationError(f"{label}应为整数", {field_name: f"{label}应为整数"})
    try:
        n = int(str(value).strip()) if not isinstance(value, int | float) else int(value)
        if isinstance(value, float) and value != int(value):
            raise ValueError
    except (TypeError, ValueError):
        raise ValidationError(f"{label}应为整数", {field_name: f"{label}应为整数"}) from None
    if n < 0 or n > MAX_COUNT:
        raise ValidationError(f"{label}应在0到{MAX_COUNT}之间", {field_name: f"{label}应在0到{MAX_COUNT}之间"})
    return n


def _option(session: Session, kind: str, option_id, field_name: str, current_id: int | None) -> PublicityOption:
    label = OPTION_KIND_LABELS[OptionKind(kind)]
    o = session.get(PublicityOption, option_id) if isinstance(option_id, int) else None
    # an entry switched off stays valid on the activity that already has it
    if o is None or o.kind != kind or (not o.is_active and o.id != current_id):
        raise ValidationError(f"请选择{label}", {field_name: f"请选择{label}"})
    return o


@dataclass
class ActivityValues:
    """What a form or a spreadsheet row gives for one activity (ids of units, options and the task)."""

    held_on: date | None
    unit_id: int | None
    town_id: int | None
    place: str
    target_id: int | None
    form_id: int | None
    fraud_ids: list[int] = field(default_factory=list)
    audience: object = None
    materials: object = None
    apps: object = None
    community: str = ""
    task_id: int | None = None
    notes: str = ""


def clean_activity(session: Session, actor, v: ActivityValues, current: Activity | None = None) -> dict:
    """Check every rule of an activity; the plain values to store. Raises ValidationError naming the field."""
    _check_date(v.held_on)
    unit, town = _unit_and_town(session, actor, v, current)
    community = _community(session, v.community, town)
    place = (v.place or "").strip()
    if not place:
        raise ValidationError("请填写活动地点", {"place": "请填写活动地点"})
    if len(place) > MAX_PLACE:
        raise ValidationError(f"活动地点不能超过{MAX_PLACE}字", {"place": f"不能超过{MAX_PLACE}字"})
    target = _option(session, TARGET, v.target_id, "target_id", current.target_id if current else None)
    form = _option(session, FORM, v.form_id, "form_id", current.form_id if current else None)
    frauds = _fraud_types(session, v.fraud_ids, current)
    audience = _count(v.audience, "覆盖人数", "audience")
    materials = _count(v.materials, "发放资料份数", "materials")
    apps = _count(v.apps, "现场注册反诈APP人数", "apps")
    if apps > audience:
        msg = f"现场注册反诈APP人数({apps})不能超过覆盖人数({audience})"
        raise ValidationError(msg, {"apps": msg})
    task_id = _task_id(session, v.task_id, current)
    notes = (v.notes or "").strip()
    if len(notes) > MAX_NOTES:
        raise ValidationError(f"备注不能超过{MAX_NOTES}字", {"notes": f"不能超过{MAX_NOTES}字"})
    return dict(
        held_on=v.held_on,
        unit_id=unit.id,
        town_id=town.id,
        community=community,
        place=place,
        target_id=target.id,
        form_id=form.id,
        fraud_types=frauds,
        audience=audience,
        materials=materials,
        apps=apps,
        task_id=task_id,
        notes=notes,
    )


def _check_date(held_on: date | None) -> None:
    if held_on is None:
        raise ValidationError("请填写活动日期", {"held_on": "请填写活动日期"})
    if held_on > clock.today():
        raise ValidationError("活动日期不能晚于今天", {"held_on": "活动日期不能晚于今天"})
    if held_on < EARLIEST:
        raise ValidationError("活动日期不能早于2000年", {"held_on": "活动日期不能早于2000年"})


def _unit_and_town(session: Session, actor, v: ActivityValues, current: Activity | None) -> tuple[Unit, Unit]:
    """The unit that held the activity (one the actor may write for) and the town it was held in: a town's own
    activity is in the town; a department names the town."""
    unit = session.get(Unit, v.unit_id) if v.unit_id else None
    if unit is None or (not unit.is_active and (current is None or current.unit_id != unit.id)):
        raise ValidationError("请选择开展单位", {"unit_id": "请选择开展单位"})
    policy.require(actor, "activity.write", unit.id)
    if unit.kind == KIND_TOWNSHIP:
        return unit, unit
    town = session.get(Unit, v.town_id) if v.town_id else None
    if town is None or town.kind != KIND_TOWNSHIP:
        raise ValidationError("请选择活动所在镇(街道)", {"town_id": "请选择活动所在镇(街道)"})
    return unit, town


def _community(session: Session, text: str | None, town: Unit) -> str:
    """The 村/社区, one of those the town lists when it lists any."""
    community = (text or "").strip()
    if len(community) > MAX_COMMUNITY:
        raise ValidationError(f"村(社区)不能超过{MAX_COMMUNITY}字", {"community": f"不能超过{MAX_COMMUNITY}字"})
    listed = communities(session, town.id)
    if community and listed and community not in listed:
        msg = f"“{community}”不在{town.name}登记的村(社区)中"
        raise ValidationError(msg, {"community": msg})
    return community


def _fraud_types(session: Session, ids: list | None, current: Activity | None) -> list[PublicityOption]:
    """The fraud types named, each once: active ones, or ones the activity already had."""
    had = {o.id for o in current.fraud_types} if current else set()
    frauds = []
    for fid in dict.fromkeys(ids or []):
        o = session.get(PublicityOption, fid) if isinstance(fid, int) else None
        if o is None or o.kind != FRAUD or (not o.is_active and o.id not in had):
            raise ValidationError("涉及诈骗类型无效", {"fraud_ids": "涉及诈骗类型无效"})
        frauds.append(o)
    return frauds


def _task_id(session: Session, task_id: int | None, current: Activity | None) -> int | None:
    """The plan task served: a new activity naming none serves 任务三; a named one must be the active plan's
    (or the one the activity already served)."""
    if task_id is None and current is None:
        task = default_task(session)
        return task.id if task else None
    if task_id is not None:
        task = session.get(Task, task_id)
        plan = active_plan(session)
        if task is None or plan is None or task.plan_id != plan.id:
            if current is None or current.task_id != task_id:
                raise ValidationError("服务的方案任务无效", {"task_id": "服务的方案任务无效"})
    return task_id


def sync_figures(session: Session, actor, keys: Iterable[tuple[int, str]]) -> None:
    """Count 宣传场次 and 覆盖人次 of each (town id, YYYY-MM) from the register and store them as the figures."""
    session.flush()
    # Callers count after recording the write's audit event: appending to the audit chain holds a transaction lock
    # until commit (PostgreSQL; SQLite writers queue anyway), so of two saves for one town at the same moment the
    # second counts here only once the first is committed, and its count includes the first's activity.
    for town_id, month in sorted(set(keys)):
        p = Period.parse(month)
        n, audience = session.execute(
            select(func.count(Activity.id), func.coalesce(func.sum(Activity.audience), 0)).where(
                Activity.town_id == town_id, Activity.held_on >= p.start, Activity.held_on <= p.end
            )
        ).one()
        set_register_values(session, actor, town_id, month, {"events": int(n), "reach": int(audience)})


def _summary(a: Activity) -> str:
    return f"{a.held_on.isoformat()} {a.unit.name} {a.place}({a.target.name},{a.audience}人)"


def create_activity(session: Session, actor, values: ActivityValues, sync: bool = True) -> Activity:
    policy.require(actor, "activity.record")
    clean = clean_activity(session, actor, values)
    now = clock.now()
    a = Activity(created_by_id=getattr(actor, "id", None), created_at=now, updated_at=now, **clean)
    session.add(a)
    session.flush()
    record(session, actor, "activity.create", a, summary=f"登记宣传活动 {_summary(a)}")
    if sync:
        sync_figures(session, actor, [(a.town_id, a.month)])
    return a


def update_activity(session: Session, actor, activity_id: int, version: int | None, values: ActivityValues) -> Activity:
    a = get_activity(session, activity_id)
    policy.require(actor, "activity.write", a)
    if version is None or a.version != version:
        raise StaleEdit()
    clean = clean_activity(session, actor, values, current=a)
    before = a.snapshot()
    old_key = (a.town_id, a.month)
    for k, v in clean.items():
        setattr(a, k, v)
    a.updated_at = clock.now()
    flag_modified(a, "updated_at")  # always an UPDATE, so the version moves even when only the fraud types changed
    session.flush()
    record(session, actor, "activity.update", a, before=before, summary=f"修改宣传活动 {_summary(a)}")
    sync_figures(session, actor, [old_key, (a.town_id, a.month)])
    return a


def delete_activity(session: Session, actor, activity_id: int, version: int | None) -> None:
    a = get_activity(session, activity_id)
    policy.require(actor, "activity.write", a)
    if version is None or a.version != version:
        raise StaleEdit()
    key = (a.town_id, a.month)
    photos = evidence.for_owner(session, "activity", a.id)  # its photos and files go with it
    before = a.snapshot() | {"attachments": [f"{p.name} ({p.sha256[:12]})" for p in photos]}
    record(session, actor, "activity.delete", a, before=before, after={}, summary=f"删除宣传活动 {_summary(a)}")
    for p in photos:
        session.delete(p)
    session.delete(a)
    sync_figures(session, actor, [key])


@dataclass(frozen=True)
class ActivityFilter:
    unit_id: int | None = None
    month: str | None = None  # YYYY-MM
    start: str | None = None  # YYYY-MM, with end: a span of months
    end: str | None = None
    target_id: int | None = None
    fraud_id: int | None = None


def _span(f: ActivityFilter) -> tuple[date | None, date | None]:
    if f.month:
        p = Period.parse(f.month)
        return p.start, p.end
    start = Period.parse(f.start).start if f.start else None
    end = Period.parse(f.end).end if f.end else None
    return start, end


def list_activities(session: Session, actor, f: ActivityFilter = ActivityFilter()) -> list[Activity]:
    """The activities the actor may see (an officer: the unit's own), filtered, newest first."""
    q = select(Activity).options(
        selectinload(Activity.fraud_types),
        selectinload(Activity.unit),
        selectinload(Activity.town),
        selectinload(Activity.target),
        selectinload(Activity.form),
        selectinload(Activity.task),
    )
    if not policy.can(actor, "activity.list_all"):
        if actor.unit_id is None:
            return []
        q = q.where(Activity.unit_id == actor.unit_id)
    if f.unit_id is not None:
        q = q.where(Activity.unit_id == f.unit_id)
    start, end = _span(f)
    if start is not None:
        q = q.where(Activity.held_on >= start)
    if end is not None:
        q = q.where(Activity.held_on <= end)
    if f.target_id is not None:
        q = q.where(Activity.target_id == f.target_id)
    if f.fraud_id is not None:
        q = q.where(Activity.fraud_types.any(PublicityOption.id == f.fraud_id))
    return list(session.scalars(q.order_by(Activity.held_on.desc(), Activity.id.desc())))
