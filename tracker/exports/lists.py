"""Each list as sheets: the rows its page shows, turned into plain values in the page's order and words.

Every function takes what the page's own query gave (report rows, the month's grid, decisions, the visible score
rows, the card board, the meeting list, audit events), so the page and its file cannot disagree.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date
from decimal import Decimal, InvalidOperation

from .. import clock
from ..assessment.cards import card_state
from ..assessment.models import Card
from ..audit.models import AuditEvent
from ..errors import ValidationError
from ..meetings.models import DECISION_LABELS, Decision
from ..meetings.service import MeetingList, decision_state
from ..periods import Period
from ..progress.models import STATE_LABELS, STATE_ORDER
from ..progress.service import Grid, ReportRow
from ..xlsx import Sheet

NO_SCORE = "无适用考核项"
NOT_APPLICABLE = "不适用"
RANK_LATER = "发布后公布"
NOT_RANKED = "不排名"
GROUP_LABELS = {"township": "镇(街道)", "department": "部门"}
MAX_CELL = 32_000  # Excel keeps at most 32,767 characters a cell


def _text(value: str | None) -> str | None:
    if not value:
        return None
    return value if len(value) <= MAX_CELL else value[: MAX_CELL - 1] + "…"


def _number(text) -> float | None:
    """A figure as the snapshot keeps it ("72.50") as a number; None stays empty."""
    if text is None:
        return None
    try:
        return float(Decimal(str(text)))
    except InvalidOperation:
        return None


# -- reports and the grid -----------------------------------------------------------------------------------------


def reports_sheet(rows: Iterable[ReportRow]) -> Sheet:
    """The report list: month, task, unit, state (逾期未报(草稿已存) included), 迟报, submitted at."""
    return Sheet(
        "报告列表",
        ["月份", "任务编号", "任务", "单位", "状态", "迟报", "报送时间"],
        [
            [r.period, r.task.short_label, r.task.title, r.unit.name, r.status_label, "迟报" if r.is_late else None]
            + [r.submitted_at]
            for r in rows
        ],
    )


def _grid_cell(c) -> str | None:
    if c is None:
        return None
    text = STATE_LABELS[c.state]
    marks = (["牵头"] if c.role == "lead" else []) + (["迟报"] if c.is_late else [])
    marks += [f"已催办{c.urges}次"] if c.urges else []
    return f"{text}({'、'.join(marks)})" if marks else text


def grid_sheets(g: Grid) -> list[Sheet]:
    """The task × unit grid of a month (its last row each unit's 逾期未报) and the month's count per state."""
    label = g.period.label
    if not g.in_plan:
        return [Sheet(f"{label}填报情况", ["任务编号", "任务"], [])]
    cells = [[t.short_label, t.title] + [_grid_cell(g.cell(t.id, u.id)) for u in g.units] for t in g.tasks]
    cells.append(["逾期未报", "各单位本月逾期未报份数"] + [g.unit_count(u.id, "overdue") for u in g.units])
    return [
        Sheet(f"{label}填报情况", ["任务编号", "任务"] + [u.name for u in g.units], cells),
        Sheet(f"{label}各状态数量", ["状态", "数量"], [[STATE_LABELS[s], g.counts.get(s, 0)] for s in STATE_ORDER]),
    ]


# -- decisions and meetings ---------------------------------------------------------------------------------------


def decisions_sheet(rows: Iterable[Decision], today: date | None = None) -> Sheet:
    """The supervised items: meeting, number, text (whole), lead and supporting units, deadline, state (逾期 and
    逾期销号 spelled out), the latest feedback and the closing time."""
    today = today or clock.today()
    return Sheet(
        "督办事项",
        ["会议日期", "会议", "序号", "议定事项", "牵头单位", "配合单位", "办结期限", "状态", "最近反馈时间"]
        + ["销号时间", "审核意见"],
        [
            [
                d.meeting.date,
                d.meeting.title,
                d.number,
                _text(d.text),
                d.lead_unit.name,
                "、".join(u.name for u in d.supporting_units) or None,
                d.deadline,
                decision_state(d, today)[1],
                d.answered_at,
                d.closed_at,
                _text(d.review_comment),
            ]
            for d in rows
        ],
    )


def _counts_line(counts: dict[str, int]) -> str | None:
    """落实情况 as the list shows it: "未反馈 2、已销号 1" (states with none left out)."""
    states = ("open", "answered", "returned", "overdue", "closed")
    return "、".join(f"{DECISION_LABELS[s]} {counts[s]}" for s in states if counts.get(s)) or None


def _period_label(code: str) -> str:
    try:
        return Period.parse(code).label
    except ValidationError:
        return code


def meetings_sheet(meetings: MeetingList) -> Sheet:
    """The meetings as the list shows them: the ones to hold (nearest first), then those held (newest first)."""
    rows = []
    for m in meetings.upcoming + meetings.past:
        rows.append(
            [
                m.date,
                m.title,
                _period_label(m.period),
                m.convener,
                len(m.units),
                "、".join(u.name for u in m.units) or None,
                m.location or None,
                m.status_label,
                len(m.decisions),
                _counts_line(meetings.counts[m.id]),
            ]
        )
    return Sheet(
        "联席会议",
        ["会议日期", "会议名称", "研究期间", "召集人", "参会单位数", "参会单位", "地点", "状态", "议定事项数"]
        + ["落实情况"],
        rows,
    )


# -- scores -------------------------------------------------------------------------------------------------------


def _rank(row: dict):
    if row.get("rank") is not None:
        return row["rank"]
    return RANK_LATER if row.get("rank_hidden") else NOT_RANKED


def _adjustment(row: dict) -> float | None:
    if not row.get("adjustments"):
        return None
    return float(sum(Decimal(str(a["points"])) for a in row["adjustments"]))


def scores_sheets(label: str, groups: dict[str, list[dict]], show_ranks: bool) -> list[Sheet]:
    """One sheet per group of units (towns, departments) as the ranking page's tables, and the breakdown: every
    item of every unit shown with its weight, points, facts and note, and the deductions and bonuses."""
    sheets = []
    breakdown = []
    for kind, rows in groups.items():
        group = GROUP_LABELS.get(kind, kind)
        items = rows[0]["items"] if rows else []
        headers = (["名次"] if show_ranks else []) + ["单位", "总分", "适用满分"]
        headers += [f"{it['name']}(满分{it['weight']})" for it in items] + ["扣分/加分"]
        table = []
        for r in rows:
            total = _number(r["total"]) if r["total"] is not None else NO_SCORE
            points = [_number(it["points"]) if it["points"] is not None else NOT_APPLICABLE for it in r["items"]]
            table.append(
                ([_rank(r)] if show_ranks else []) + [r["unit"], total, _number(r["max"])] + points + [_adjustment(r)]
            )
            for it in r["items"]:
                facts = ";".join(f"{f['label']}:{f['value']}" for f in it.get("facts", []))
                breakdown.append(
                    [group, r["unit"], it["name"], it.get("formula_label")]
                    + [_number(it["weight"]), "是" if it.get("applicable", True) else "否"]
                    + [_number(it["points"]) if it["points"] is not None else NOT_APPLICABLE, facts or None]
                    + [it.get("note") or None]
                )
            for a in r.get("adjustments", []):
                breakdown.append(
                    [group, r["unit"], a["name"], f"{a['event_label']} × {a['count']}", None, "是"]
                    + [_number(a["points"]), None, None]
                )
        sheets.append(Sheet(f"{group}{'排名' if show_ranks else '得分'}", headers, table))
    sheets.append(
        Sheet(
            f"{label}得分明细",
            ["分组", "单位", "考评项目", "计分方法", "满分", "适用", "得分", "依据", "说明"],
            breakdown,
        )
    )
    return sheets


# -- cards --------------------------------------------------------------------------------------------------------


def cards_sheets(cards: Iterable[Card], monthly: dict | None = None, today: date | None = None) -> list[Sheet]:
    """The cards in the board's order and each one's rectification material (plans and reports, with review)."""
    today = today or clock.today()
    monthly = monthly or {}
    rows, material = [], []
    for c in cards:
        overdue = getattr(monthly.get(c.id), "overdue", 0) or None
        rows.append(
            [
                c.id,
                c.colour_label,
                c.unit.name,
                c.rule.name if c.rule else "审核员提出",
                c.period,
                _text(c.reason),
                c.issued_at,
                c.plan_due,
                c.deadline,
                card_state(c, today)[1],
                overdue,
                c.closed_at,
                _text(c.close_note),
            ]
        )
        for r in c.rectifications:
            material.append(
                [c.id, c.unit.name, r.kind_label, r.submitted_at, _text(r.text), r.status_label]
                + [_text(r.review_comment), r.reviewed_at]
            )
    return [
        Sheet(
            "红黄牌",
            ["编号", "牌色", "单位", "规则", "所属期间", "理由", "发牌时间", "整改方案期限", "整改期限", "状态"]
            + ["整改报告逾期(份)", "摘牌/升级时间", "摘牌/升级说明"],
            rows,
        ),
        Sheet(
            "整改材料", ["红黄牌编号", "单位", "材料", "报送时间", "内容", "审核状态", "审核意见", "审核时间"], material
        ),
    ]


def board_order(data: dict) -> list[Card]:
    """The board's cards in its order: active red, active yellow, then the history."""
    return data["red"] + data["yellow"] + data["history"]


# -- the audit log ------------------------------------------------------------------------------------------------


def _json(value) -> str | None:
    if not value:
        return None
    return _text(json.dumps(value, ensure_ascii=False, indent=1, sort_keys=True))


def audit_sheet(events: Iterable[AuditEvent]) -> Sheet:
    """The audit events, newest first: time, who, action, object, summary, before and after."""
    return Sheet(
        "审计日志",
        ["序号", "时间", "操作人", "操作", "对象", "摘要", "修改前", "修改后"],
        [
            [
                e.id,
                e.at,
                e.actor_name,
                e.action,
                f"{e.object_type} #{e.object_id}" if e.object_id else (e.object_type or None),
                e.summary or None,
                _json(e.before),
                _json(e.after),
            ]
            for e in events
        ],
    )
