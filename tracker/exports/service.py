"""Recording an export: every file written from a list is an audit event export.<list>, naming the filters and
how many rows it held."""

from __future__ import annotations

from sqlalchemy.orm import Session

from ..audit import service as audit

LISTS = {
    "reports": "报告列表",
    "grid": "填报总表",
    "decisions": "督办事项",
    "scores": "考评得分",
    "cards": "红黄牌",
    "meetings": "联席会议",
    "audit": "审计日志",
}


def record_export(session: Session, actor, name: str, filters: dict, rows: int) -> None:
    """Audit an export of the list `name` (one of LISTS) with the filters applied and the rows written."""
    if name not in LISTS:
        raise ValueError(f"unknown list {name!r}")
    shown = {k: v for k, v in filters.items() if v not in (None, "")}
    audit.record(
        session,
        actor,
        f"export.{name}",
        object_type="export",
        after={"list": name, "filters": shown, "rows": rows},
        summary=f"导出{LISTS[name]}Excel,{rows}行"
        + ("(" + ",".join(f"{k}={v}" for k, v in shown.items()) + ")" if shown else ""),
    )
