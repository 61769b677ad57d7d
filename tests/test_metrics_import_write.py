"""The import's write: new figures go in by COPY on PostgreSQL and by one prepared statement on SQLite, without
SQLAlchemy handling each row; stored figures are updated at the version the preview read. Both must store exactly
what the row-by-row write stored (values, source, note, version, who, when) and record the same audit events."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from tracker.audit.models import AuditEvent
from tracker.errors import StaleEdit
from tracker.metrics import exchange, service
from tracker.metrics.excel import check_xlsx
from tracker.metrics.models import MetricValue

from .conftest import get_user
from .metrics_util import NOW, put, xlsx

Q, L = "青石镇", "柳溪镇"


@pytest.fixture
def env(seeded, session, frozen):
    frozen(*NOW)
    return session


def _preview(session, rows, actor="police"):
    return exchange.build_preview(session, get_user(session, actor), check_xlsx(xlsx(rows), "f.xlsx"))


def _stored(session, month: str) -> dict:
    inds = {i.id: i.code for i in service.all_indicators(session)}
    units = {u.id: u.name for u in service.towns(session, include_inactive=True)}
    return {
        (units[v.unit_id], inds[v.indicator_id]): (v.count, v.amount, v.source, v.note, v.version, v.updated_by_id)
        for v in session.scalars(select(MetricValue).where(MetricValue.month == month))
    }


def test_inserts_and_updates_store_what_the_preview_showed_with_one_audit_event_per_month(env):
    police = get_user(env, "police")
    put(env, "2026-09", {(Q, "cases"): 5})  # stored at version 1
    first_event = env.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1))
    preview = _preview(
        env,
        [
            [Q, "2026-09", 8, None, None, None],  # 5 -> 8: an update, version 1 -> 2
            [Q, "2026-10", 6, "1.5", None, None],  # two new figures; 1.5 万元 is stored with two decimals
            [L, "2026-10", None, None, 0, 3],  # two new figures, one of them zero
        ],
    )
    assert (preview.inserts, preview.updates) == (4, 1)
    result = exchange.apply_import(env, police, preview, filename="f.xlsx")
    assert (result.inserted, result.updated, result.months) == (4, 1, 2)
    env.expire_all()
    assert _stored(env, "2026-09") == {(Q, "cases"): (8, None, "import", "", 2, police.id)}
    assert _stored(env, "2026-10") == {
        (Q, "cases"): (6, None, "import", "", 1, police.id),
        (Q, "losses"): (None, Decimal("1.50"), "import", "", 1, police.id),
        (L, "arrests"): (0, None, "import", "", 1, police.id),
        (L, "solved"): (3, None, "import", "", 1, police.id),
    }
    # written at the frozen clock: 2026-11-28 10:00 China time is 02:00 UTC
    when = {v.updated_at for v in env.scalars(select(MetricValue).where(MetricValue.month >= "2026-09"))}
    assert when == {datetime(2026, 11, 28, 2, tzinfo=UTC)}
    events = env.scalars(select(AuditEvent).where(AuditEvent.id > first_event).order_by(AuditEvent.id)).all()
    assert [(e.action, e.object_id) for e in events] == [("metrics.import", 202609), ("metrics.import", 202610)]
    assert (events[0].before, events[0].after) == ({"青石镇/发案数": 5}, {"青石镇/发案数": 8})
    assert events[1].before == {
        "青石镇/发案数": None,
        "青石镇/损失金额": None,
        "柳溪镇/抓获数": None,
        "柳溪镇/破案数": None,
    }
    assert events[1].after == {"青石镇/发案数": 6, "青石镇/损失金额": "1.50", "柳溪镇/抓获数": 0, "柳溪镇/破案数": 3}
    assert events[1].summary.endswith("导入 2026年10月 两降两升数据 4 项(文件 f.xlsx)")


def test_a_correction_stores_its_reason_on_every_row(env):
    reviewer = get_user(env, "reviewer")
    preview = _preview(env, [[Q, "2026-10", 6, None, None, None], [L, "2026-10", 2, None, None, None]], "reviewer")
    exchange.apply_import(env, reviewer, preview, reason="补录十月")
    env.expire_all()
    assert _stored(env, "2026-10") == {
        (Q, "cases"): (6, None, "correction", "补录十月", 1, reviewer.id),
        (L, "cases"): (2, None, "correction", "补录十月", 1, reviewer.id),
    }
    event = env.scalar(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1))
    assert event.action == "metrics.correct" and event.after["更正原因"] == "补录十月"


def test_a_figure_inserted_by_someone_else_since_the_preview_fails_the_whole_import(env):
    # the preview would insert both towns' October cases; then 青石镇's is entered on the grid
    preview = _preview(env, [[Q, "2026-10", 6, None, None, None], [L, "2026-10", 7, None, None, None]])
    assert preview.inserts == 2
    put(env, "2026-10", {(Q, "cases"): 9})
    with pytest.raises(StaleEdit, match="预览后有数据被他人修改"), env.begin_nested():
        exchange.apply_import(env, get_user(env, "police"), preview)
    env.expire_all()
    # 青石镇 keeps the grid's 9, and 柳溪镇's 7 was not written either
    assert {k: v[0] for k, v in _stored(env, "2026-10").items()} == {(Q, "cases"): 9}
