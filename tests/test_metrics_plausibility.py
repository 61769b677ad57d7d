"""One plausibility check for the entry grid and the Excel import: the same figure gets the same warning in the
same words on both paths, and on both it is saved only once the user has confirmed it."""

from __future__ import annotations

import io
import re
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from tracker.audit.models import AuditEvent
from tracker.metrics import exchange, service
from tracker.metrics.excel import check_xlsx, read_sheet
from tracker.metrics.models import MetricValue

from .conftest import get_unit, get_user
from .metrics_util import NOW, put, series, xlsx

Q = "青石镇"
# 99,999,999,999 万元 typed where 元 were meant: 99999999999 元 ÷ 10000 = 9999999.9999 万元
HUGE = "99,999,999,999"
HUGE_WARNING = "99999999999.00 万元明显偏大,疑似按“元”填写(应以万元为单位,99999999999.00 元 = 9999999.9999 万元),请核对"


@pytest.fixture
def env(seeded, session, frozen):
    frozen(*NOW)
    return session


def _name(session, code: str, town: str) -> str:
    return f"{service.get_indicator(session, code).id}_{get_unit(session, town).id}"


def _form(html: str) -> dict:
    """Every input of the grid form as the browser would send it (values, versions, shown, warned)."""
    return dict(re.findall(r'name="([covw]_\d+_\d+)" value="([^"]*)"', html))


def _stored(session, code: str, month: str = "2026-10"):
    session.expire_all()
    ind = service.get_indicator(session, code)
    return session.scalar(
        select(MetricValue).where(
            MetricValue.indicator_id == ind.id,
            MetricValue.unit_id == get_unit(session, Q).id,
            MetricValue.month == month,
        )
    )


def _import_warnings(session, rows: list) -> list[str]:
    data = xlsx(rows)
    check_xlsx(data, "f.xlsx")
    preview = exchange.build_preview(session, get_user(session, "police"), read_sheet(data))
    return [p.message for p in preview.warnings]


def test_the_same_huge_loss_gets_the_same_warning_on_both_paths(env, client, auth):
    put(env, "2026-10", {(Q, "cases"): 5})  # saved before: must survive a refused save
    env.commit()
    # the import preview
    assert _import_warnings(env, [[Q, "2026-10", None, 99999999999, None, None]]) == [HUGE_WARNING]
    auth.login("police")
    upload = client.post(
        "/metrics/import",
        data={"file": (io.BytesIO(xlsx([[Q, "2026-10", None, 99999999999, None, None]])), "十月.xlsx")},
        content_type="multipart/form-data",
    )
    assert HUGE_WARNING in upload.get_data(as_text=True)

    # the entry grid: the same figure typed in, with a change of cases in the same save
    html = client.get("/metrics/entry?month=2026-10").get_data(as_text=True)
    data = _form(html)
    data[f"c_{_name(env, 'losses', Q)}"] = HUGE
    data[f"c_{_name(env, 'cases', Q)}"] = "6"
    refused = client.post("/metrics/entry?month=2026-10", data=data)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert HUGE_WARNING in page and "有1个数据需要核对" in page and "已核对,确认保存" in page
    assert f'value="{HUGE}"' in page and 'value="6"' in page  # what was typed is shown back
    assert _stored(env, "losses") is None and _stored(env, "cases").count == 5  # nothing saved, nothing lost

    # confirmed: saved as typed, with the other change
    again = _form(page)
    assert again[f"w_{_name(env, 'losses', Q)}"] == "99999999999.00"
    done = client.post("/metrics/entry?month=2026-10", data={**again, "accept_warnings": "y"})
    assert done.status_code == 302
    assert _stored(env, "losses").amount == Decimal("99999999999.00") and _stored(env, "cases").count == 6
    event = env.scalars(select(AuditEvent).where(AuditEvent.action == "metrics.save").order_by(AuditEvent.id)).all()[-1]
    assert event.after == {f"{Q}/发案数": 6, f"{Q}/损失金额": "99999999999.00"}


def test_confirming_one_figure_does_not_let_another_through(env, client, auth):
    auth.login("police")
    data = _form(client.get("/metrics/entry?month=2026-10").get_data(as_text=True))
    key = _name(env, "losses", Q)
    data[f"c_{key}"] = HUGE
    page = client.post("/metrics/entry?month=2026-10", data=data).get_data(as_text=True)
    again = _form(page)
    again[f"c_{key}"] = "88888888888"  # changed after the warning, then the box ticked
    refused = client.post("/metrics/entry?month=2026-10", data={**again, "accept_warnings": "y"})
    assert refused.status_code == 422
    assert "88888888888.00 万元明显偏大" in refused.get_data(as_text=True)
    assert _stored(env, "losses") is None


def test_a_jump_far_above_the_units_history_warns_alike_on_both_paths(env, client, auth):
    series(env, Q, "cases", "2025-10", [8, 9, 10, 7, 9, 11, 12, 8])  # highest of the last two years: 12
    env.commit()
    # 90 > 3 × 12 = 36, and 90 - 12 = 78 ≥ the small base of 10
    jump = "90起远超该单位近两年的最高值(12起),请核对"
    assert _import_warnings(env, [[Q, "2026-10", 90, None, None, None]]) == [jump]
    auth.login("police")
    data = _form(client.get("/metrics/entry?month=2026-10").get_data(as_text=True))
    data[f"c_{_name(env, 'cases', Q)}"] = "90"
    refused = client.post("/metrics/entry?month=2026-10", data=data)
    assert refused.status_code == 422 and jump in refused.get_data(as_text=True)
    assert _stored(env, "cases") is None
    # 36 is not above 3 × 12: saved without a question
    data[f"c_{_name(env, 'cases', Q)}"] = "36"
    assert client.post("/metrics/entry?month=2026-10", data=data).status_code == 302
    assert _stored(env, "cases").count == 36


def test_the_service_refuses_an_unconfirmed_implausible_figure(env):
    with pytest.raises(service.CellWarnings) as e:
        put(env, "2026-10", {(Q, "losses"): "10000"})  # 1 亿元 in one month for one town
    [(value, message)] = e.value.warnings.values()
    assert value == Decimal("10000.00") and message.startswith("10000.00 万元明显偏大")
    assert env.scalar(select(func.count()).select_from(MetricValue)) == 0
    ind, uid = service.get_indicator(env, "losses").id, get_unit(env, Q).id
    service.save_grid(
        env, get_user(env, "police"), "2026-10", {(ind, uid): ("10000", 0)}, confirmed={(ind, uid): "10000"}
    )
    assert _stored(env, "losses").amount == Decimal("10000.00")
    # 9999.99 万元 is under the threshold of 10 000 万元: no warning
    put(env, "2026-09", {(Q, "losses"): "9999.99"})
    assert _stored(env, "losses", "2026-09").amount == Decimal("9999.99")
