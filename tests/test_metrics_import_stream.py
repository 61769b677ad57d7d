"""The figures import confirmed in one pass (import_stream): the file read and checked again while its new figures
are written. It writes exactly what the classic path (preview, compare, apply_import) writes, or nothing: on any
difference from the preview confirmed, an error, a refusal or a collision, it rolls back and hands over (None)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select, update

from tracker.audit import service as audit
from tracker.audit.models import AuditEvent
from tracker.errors import StaleEdit
from tracker.metrics import exchange, import_stream, importing, service
from tracker.metrics.excel import check_xlsx
from tracker.metrics.models import MetricValue
from tracker.periods import Period

from .conftest import get_user
from .metrics_util import NOW, put, xlsx

Q, L = "青石镇", "柳溪镇"


@pytest.fixture
def env(seeded, session, frozen):
    frozen(*NOW)
    return session


def _confirm(session, rows, actor="police", **kwargs):
    """The upload's preview of the rows (rolled back, as a request ends), then the one-pass confirm of it."""
    user = get_user(session, actor)
    data = xlsx(rows)
    preview = exchange.build_preview(session, user, check_xlsx(data, "f.xlsx"))
    confirm = {"months": preview.months, "digest": preview.digest, "accepted": True, **kwargs}
    session.rollback()
    return import_stream.write_confirmed(session, user, data, "f.xlsx", **confirm)


def _written(session) -> tuple[int, int]:
    return session.scalar(select(func.count()).select_from(MetricValue)), session.scalar(
        select(func.count()).select_from(AuditEvent)
    )


def _stored(session) -> dict:
    inds = {i.id: i.code for i in service.all_indicators(session)}
    units = {u.id: u.name for u in service.towns(session, include_inactive=True)}
    rows = session.scalars(select(MetricValue).where(MetricValue.month >= "2026-09"))
    return {(units[v.unit_id], v.month, inds[v.indicator_id]): (v.count, v.amount, v.source, v.version) for v in rows}


def test_one_pass_writes_what_the_preview_showed_and_the_audit_chain_verifies(env):
    put(env, "2026-09", {(Q, "cases"): 5})
    env.commit()
    rows = [[Q, "2026-09", 8, None, None, None], [Q, "2026-10", 6, "1.5", None, None], [L, "2026-10", None, None, 0, 3]]
    result = _confirm(env, rows)
    assert result is not None and (result.inserted, result.updated, result.months) == (4, 1, 2)
    env.commit()
    assert _stored(env) == {
        (Q, "2026-09", "cases"): (8, None, "import", 2),
        (Q, "2026-10", "cases"): (6, None, "import", 1),
        (Q, "2026-10", "losses"): (None, Decimal("1.50"), "import", 1),
        (L, "2026-10", "arrests"): (0, None, "import", 1),
        (L, "2026-10", "solved"): (3, None, "import", 1),
    }
    events = env.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(2)).all()[::-1]
    assert [(e.action, e.object_id) for e in events] == [("metrics.import", 202609), ("metrics.import", 202610)]
    assert events[1].after == {"青石镇/发案数": 6, "青石镇/损失金额": "1.50", "柳溪镇/抓获数": 0, "柳溪镇/破案数": 3}
    assert audit.verify(env) == []


def test_a_digest_that_differs_at_the_end_writes_nothing(env, monkeypatch):
    monkeypatch.setattr(importing, "BATCH", 1)  # on PostgreSQL every row is in the database before the comparison
    before = _written(env)
    assert _confirm(env, [[Q, "2026-10", 6, None, None, None], [L, "2026-10", 7, None, None, None]], digest="x") is None
    env.commit()
    assert _written(env) == before


def test_an_error_in_the_last_row_writes_nothing_of_the_rows_before(env, monkeypatch):
    monkeypatch.setattr(importing, "BATCH", 1)
    rows = [[Q, f"2026-{m:02d}", m, None, None, None] for m in range(1, 11)] + [[L, "2026-10", None, None, 5, None]]
    user, data = get_user(env, "police"), xlsx(rows[:-1] + [["无此镇", "2026-10", 1, None, None, None]])
    preview = exchange.build_preview(env, user, check_xlsx(xlsx(rows), "f.xlsx"))
    before = _written(env)
    env.rollback()
    assert import_stream.write_confirmed(env, user, data, "f.xlsx", preview.months, preview.digest, True) is None
    env.commit()
    assert _written(env) == before


def test_warnings_not_acknowledged_a_month_not_previewed_or_a_missing_reason_write_nothing(env):
    put(env, "2026-10", {(Q, "cases"): 5})
    env.commit()
    before = _written(env)
    assert _confirm(env, [[Q, "2026-10", 8, None, None, None]], accepted=False) is None  # overwriting: a warning
    assert _confirm(env, [[L, "2026-10", 8, None, None, None]], months=["2026-09", "2026-09"]) is None
    assert _confirm(env, [[L, "2026-10", 8, None, None, None]], months=None) is None
    assert _confirm(env, [[Q, "2026-10", 9, None, None, None]], actor="reviewer") is None  # a correction needs a reason
    env.commit()
    assert _written(env) == before
    assert _confirm(env, [[Q, "2026-10", 9, None, None, None]], actor="reviewer", reason="核对更正") is not None


def test_a_row_met_twice_in_the_batches_fails_the_whole_insert_as_stale(env, monkeypatch):
    """The batches' COPY runs in a thread of its own on PostgreSQL: its failure comes back to the caller as the
    same stale edit as the single COPY's, once the thread is done."""
    monkeypatch.setattr(importing, "BATCH", 1)
    ind = service.get_indicator(env, "cases")
    unit = next(u for u in service.towns(env) if u.name == Q)
    row = (ind.id, unit.id, "2026-10", 3, None, "import", "")
    before = _written(env)
    with pytest.raises(StaleEdit):
        importing.insert_overlapped(env.connection(), iter((row, row, row)), importing.clock.now(), None, lambda: 1)
    env.rollback()
    assert _written(env) == before


def test_the_confirm_page_writes_in_one_pass_on_postgresql_after_the_preview_on_sqlite(env, client, auth, monkeypatch):
    from .test_metrics_import import _preview_form

    classic = []
    original = importing.apply_import
    monkeypatch.setattr(importing, "apply_import", lambda *a, **k: classic.append(1) or original(*a, **k))
    auth.login("police")
    form = _preview_form(client)
    assert client.post("/metrics/import/confirm", data=form).status_code == 302
    assert bool(classic) == (env.get_bind().dialect.name != "postgresql")
    env.expire_all()
    unit_id = next(u.id for u in service.towns(env) if u.name == Q)
    assert service.value(env, "cases", unit_id, Period.parse("2026-10")) == 6


# two towns a month, in month order
IN_MONTH_ORDER = [
    [Q, "2026-08", 8, None, None, None],
    [L, "2026-08", 2, "0.5", None, None],
    [Q, "2026-09", 6, "1.5", None, None],
    [L, "2026-09", None, None, 0, 3],
    [Q, "2026-10", 1, None, None, None],
]
IN_UNIT_ORDER = [IN_MONTH_ORDER[i] for i in (0, 2, 4, 1, 3)]


def _months_written(monkeypatch) -> list[list[str]]:
    """The months of each write_months call of the one-pass confirm, in their order."""
    calls: list[list[str]] = []
    original = import_stream.write_months

    def spy(session, actor, built, *args):
        calls.append([month for month, _ in built])
        return original(session, actor, built, *args)

    monkeypatch.setattr(import_stream, "write_months", spy)
    return calls


def _events_since(session, last_id: int) -> list[tuple]:
    events = session.scalars(select(AuditEvent).where(AuditEvent.id > last_id).order_by(AuditEvent.id))
    return [(e.action, e.object_type, e.object_id, e.actor_id, e.summary, e.before, e.after) for e in events]


def _last_event_id(session) -> int:
    return session.scalar(select(func.max(AuditEvent.id))) or 0


def _figures(session) -> dict:
    rows = session.scalars(select(MetricValue).where(MetricValue.month >= "2026-08"))
    return {(v.indicator_id, v.unit_id, v.month): (v.count, v.amount, v.source, v.note, v.version) for v in rows}


@pytest.mark.parametrize("rows", [IN_MONTH_ORDER, IN_UNIT_ORDER], ids=["month order", "unit order"])
@pytest.mark.parametrize("batch", [1, 5_000])
def test_each_month_is_written_after_the_last_row_with_the_events_of_the_classic_path(env, monkeypatch, batch, rows):
    """The months' changed figures and audit events, encoded by the reading thread and recorded one month at a
    time after the last batch, are what apply_import writes: the same figures, the same events in month order
    (a correction's reason included), and the chain verifies."""
    monkeypatch.setattr(importing, "BATCH", batch)
    put(env, "2026-08", {(Q, "cases"): 5})
    put(env, "2026-09", {(L, "solved"): 1}, actor=get_user(env, "reviewer"), reason="首次更正")
    env.commit()
    first = _last_event_id(env)
    calls = _months_written(monkeypatch)
    result = _confirm(env, rows, actor="reviewer", reason="核对更正 ")
    assert result is not None and (result.inserted, result.updated, result.months) == (6, 2, 3)
    assert calls == [["2026-08"], ["2026-09"], ["2026-10"]]
    one_pass = (_events_since(env, first), _figures(env))
    assert audit.verify(env) == []
    env.rollback()

    user = get_user(env, "reviewer")
    preview = exchange.build_preview(env, user, check_xlsx(xlsx(rows), "f.xlsx"))
    importing.apply_import(env, user, preview, "核对更正 ", filename="f.xlsx")
    assert (_events_since(env, first), _figures(env)) == one_pass
    assert [e[0] for e in one_pass[0]] == ["metrics.correct"] * 3
    assert [e[2] for e in one_pass[0]] == [202608, 202609, 202610]
    assert one_pass[0][0][6]["更正原因"] == "核对更正"


def test_a_figure_changed_before_its_month_is_written_writes_nothing(env, monkeypatch):
    put(env, "2026-08", {(Q, "cases"): 5})
    env.commit()
    before = _written(env)
    original = import_stream.write_months

    def changed_first(session, actor, built, *args):
        """Someone saves 青石镇's August figure after the confirm read it, before its month is written."""
        session.execute(
            update(MetricValue).where(MetricValue.month == "2026-08").values(version=MetricValue.version + 1)
        )
        return original(session, actor, built, *args)

    monkeypatch.setattr(import_stream, "write_months", changed_first)
    assert _confirm(env, IN_MONTH_ORDER) is None
    env.commit()
    assert _written(env) == before


def test_steps_among_the_rows_run_in_their_order_once_the_rows_before_them_are_written(env, monkeypatch):
    monkeypatch.setattr(importing, "BATCH", 2)
    ind = service.get_indicator(env, "cases")
    units = [u.id for u in service.towns(env)]
    seen: list[int] = []

    def count() -> None:
        env.flush()
        seen.append(env.scalar(select(func.count()).select_from(MetricValue)))

    rows = [(ind.id, uid, "2026-10", 3, None, "import", "") for uid in units[:3]]
    before = _written(env)[0]
    steps = iter([rows[0], count, rows[1], rows[2], count])
    assert importing.insert_overlapped(env.connection(), steps, importing.clock.now(), None, lambda: "done") == "done"
    assert seen == [before + 1, before + 3]
    env.rollback()
