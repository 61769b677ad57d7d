"""The administrator's review of an imported plan before it is created: what to look at, and the edits applied."""

from __future__ import annotations

from .numerals import task_label
from .responsibility import split_units


def review_warnings(data: dict) -> list[str]:
    """What an administrator should look at before confirming: missing title, year, units or measures."""
    out: list[str] = []
    if not (data.get("title") or "").strip():
        out.append("文中没有方案标题,请在下方填写。")
    if not data.get("year"):
        out.append("没有识别出方案年度,请在下方填写。")
    for t in data.get("tasks", []):
        label = task_label(t["number"])
        if (
            not t.get("responsibility_text")
            and not t.get("lead_units")
            and not t.get("member_units")
            and not t.get("includes_townships")
        ):
            out.append(f"任务{label}没有责任单位行,未推测责任单位,请填写牵头单位和成员单位。")
        elif not t.get("lead_units"):
            out.append(f"任务{label}没有牵头单位,请填写。")
        if not t.get("measures"):
            out.append(f"任务{label}没有具体措施。")
    return out


def apply_review(data: dict, *, title: str, year: int | None, district: str, tasks: list[dict]) -> dict:
    """The data with an administrator's edits: titles, unit lists, 各镇(街道), and measures kept, merged or dropped.

    Each entry of `tasks` has title, lead_units and member_units (text lists), includes_townships and
    measures (one of "keep", "merge", "drop" per measure; "merge" joins a measure to the one before it).
    """
    out = dict(data, title=(title or "").strip(), year=year, district=(district or "").strip())
    new_tasks = []
    for t, edit in zip(data["tasks"], tasks, strict=False):
        leads, lead_t = split_units(edit.get("lead_units", ""))
        members, member_t = split_units(edit.get("member_units", ""))
        measures: list[str] = []
        actions = list(edit.get("measures") or [])
        for i, text in enumerate(t["measures"]):
            action = actions[i] if i < len(actions) else "keep"
            if action == "drop":
                continue
            if action == "merge" and measures:
                measures[-1] += text
            else:
                measures.append(text)
        new_tasks.append(
            dict(
                t,
                title=(edit.get("title") or "").strip() or t["title"],
                lead_units=leads,
                member_units=[n for n in members if n not in leads],
                includes_townships=bool(edit.get("includes_townships") or lead_t or member_t),
                measures=measures,
            )
        )
    out["tasks"] = new_tasks + data["tasks"][len(new_tasks) :]
    return out
