"""Before a quarter is published a unit's rank is derived from other units' unpublished scores: its officer sees
the unit's own score and no rank on any page or PDF, reviewers and administrators see the ranks marked 未发布;
after publication everyone sees them."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from pypdf import PdfReader

from tracker.assessment import cards, publishing, scheme
from tracker.assessment.models import SchemeItem
from tracker.errors import WorkflowError
from tracker.meetings import service as meetings
from tracker.periods import Period
from tracker.plans.service import active_plan

from .assess_helpers import put_figures
from .conftest import get_unit, get_user

Q3 = Period.parse("2026-Q3")
RANK = re.compile(r"第\s*\d+\s*名|排名第|名次")


def _flat(text: str) -> str:
    return re.sub(r"\s+", "", re.sub(r"<[^>]+>", "", text))


def _pdf_text(data: bytes) -> str:
    return _flat("\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages))


@pytest.fixture
def quarter(seeded, session, frozen):
    """Q3 2026 scored on 20 October, not yet published. For towns the scheme weighs 两降两升成效 30 and a rank item
    两降两升综合排名 10 (moved from the outcome's 40 in one save). July's cases, 20 each a year before: 柳溪镇 10,
    云岭镇 12, 白沙镇 14, 东湖街道 16, 南山街道 18, 青石镇 30.

    Each town: outcome 30 × 1/1 when its cases fell, else 0; rank 10 × (6 − rank)/5 (两降两升 ranks 1 … 6 in the
    order above); member reports 15 × 0/18; lead tasks, decisions and cards not applicable: maximum 55; 18 reports
    overdue, −10 (capped):
      柳溪镇 30 + 10 = 40 → 100 × 40/55 = 72.73 − 10 = 62.73, 1st      云岭镇 38 → 69.09 − 10 = 59.09, 2nd
      白沙镇 36 → 65.45 − 10 = 55.45, 3rd                               东湖街道 34 → 61.82 − 10 = 51.82, 4th
      南山街道 32 → 58.18 − 10 = 48.18, 5th                              青石镇 0 + 0 = 0 → 0.00, 6th
    """
    frozen(2026, 10, 20, 9)
    session.add(
        SchemeItem(
            code="rank",
            name="两降两升综合排名",
            formula="rank",
            weight_township=0,
            weight_department=0,
            params={},
            sort_order=2,
            is_active=False,
        )
    )
    session.commit()
    edits = []
    for it in scheme.items(session):
        weight = {"outcome": 30, "rank": 10}.get(it.code, it.weight_township)
        edits.append(scheme.ItemEdit(it.id, it.version, it.name, weight, it.weight_department, True))
    scheme.update_items(session, get_user(session, "admin"), edits)
    session.commit()
    for town, cases in (
        ("柳溪镇", 10),
        ("云岭镇", 12),
        ("白沙镇", 14),
        ("东湖街道", 16),
        ("南山街道", 18),
        ("青石镇", 30),
    ):
        put_figures(session, "2025-07", town, cases=20)
        put_figures(session, "2026-07", town, cases=cases)
    plan = active_plan(session)
    reviewer = get_user(session, "reviewer")
    town = get_unit(session, "青石镇")
    recs = cards.refresh_recommendations(session, reviewer, plan, Q3)
    meeting = meetings.schedule_meeting(
        session,
        reviewer,
        title="第三季度联席会议",
        meeting_date=date(2026, 10, 28),
        convener="区委政法委",
        unit_ids=[town.id],
        period="2026-Q3",
    )
    # a card of another rule, so the cards pages have something of the unit's to show
    card = cards.issue_card(session, reviewer, unit_id=town.id, colour="yellow", reason="宣传滞后", period="2026-Q3")
    session.commit()
    y1 = next(r for r in recs if r.unit_id == town.id and r.rule.kind == "rank_bottom")
    return {"plan": plan, "town": town, "meeting": meeting, "y1": y1, "card": card}


def _officer_pages(client, town, quarter) -> dict[str, str]:
    q = "period=2026-Q3"
    pages = {
        "工作台": "/progress/todo",
        "首页": "/",
        "考评": f"/assessment/?{q}",
        "本单位得分": f"/assessment/units/{town.id}?{q}",
        "记分卡": f"/reports/scorecard?{q}",
        "单位": f"/units/{town.id}",
        "红黄牌": f"/cards/?{q}",
        "红黄牌详情": f"/cards/{quarter['card'].id}",
        "联席会议": f"/meetings/{quarter['meeting'].id}",
    }
    out = {}
    for name, url in pages.items():
        resp = client.get(url, follow_redirects=True)
        assert resp.status_code == 200, (name, resp.status_code)
        out[name] = _flat(resp.get_data(as_text=True))
    resp = client.get(f"/reports/scorecard.pdf?{q}")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    out["记分卡PDF"] = _pdf_text(resp.data)
    return out


def test_an_officer_sees_the_own_score_and_no_rank_before_publication(quarter, session, client, auth):
    town = quarter["town"]
    auth.login("town1")
    pages = _officer_pages(client, town, quarter)
    for name, text in pages.items():
        assert not RANK.search(text), f"{name}: {RANK.search(text).group(0)}"
    # the own score, said to be unpublished, with the rank promised after publication
    assert "总分0.00分" in pages["本单位得分"] and "排名在考评结果发布后公布" in pages["本单位得分"]
    assert "未发布" in pages["本单位得分"]
    assert "总分0.00分" in pages["记分卡"] and "排名在考评结果发布后公布" in pages["记分卡PDF"]
    assert "青石镇0.00分" in pages["考评"] and "柳溪镇" not in pages["考评"]
    # the rank item tells nothing of the rank either (its facts would read 第6名/共6个)
    for name in ("本单位得分", "记分卡", "记分卡PDF"):
        assert "排名:考评结果发布后公布" in pages[name], name
        assert "共6个" not in pages[name] and "(6-6)" not in pages[name]
    # the meeting material leaves out the recommendation on the ranking, which quotes the rank
    assert "季度考评排名后3位" not in pages["联席会议"]


def test_reviewers_see_ranks_marked_unpublished(quarter, session, client, auth):
    town = quarter["town"]
    auth.login("reviewer")
    html = _flat(client.get(f"/assessment/units/{town.id}?period=2026-Q3").get_data(as_text=True))
    assert "在镇(街道)中排名第6名·未发布(实时计算)" in html
    assert "两降两升综合排名:第6名/共6个" in html
    html = _flat(client.get("/assessment/?period=2026-Q3").get_data(as_text=True))
    assert "未发布(实时计算)" in html and "名次" in html
    assert "1柳溪镇62.73分" in html and "2云岭镇59.09分" in html and "6青石镇0.00分" in html
    html = _flat(client.get(f"/meetings/{quarter['meeting'].id}").get_data(as_text=True))
    assert "季度考评排名后3位" in html and "在6个镇(街道)中排名第6" in html


def test_a_card_on_the_ranking_waits_for_publication_then_everyone_sees_the_rank(quarter, session, client, auth):
    town, y1 = quarter["town"], quarter["y1"]
    reviewer = get_user(session, "reviewer")
    with pytest.raises(WorkflowError, match="尚未发布.*发布后发牌"):
        cards.issue_recommended(session, reviewer, y1.id, y1.version)
    session.rollback()

    publishing.publish(session, reviewer, quarter["plan"], Q3)
    session.commit()
    y1 = session.merge(y1)
    card = cards.issue_recommended(session, reviewer, y1.id, y1.version)
    session.commit()
    assert "排名第6" in card.reason

    auth.login("town1")
    unit_page = _flat(client.get(f"/assessment/units/{town.id}?period=2026-Q3").get_data(as_text=True))
    assert "总分0.00分" in unit_page and "在镇(街道)中排名第6名·已发布" in unit_page
    assert "两降两升综合排名:第6名/共6个" in unit_page
    ranking = _flat(client.get("/assessment/?period=2026-Q3").get_data(as_text=True))
    assert "名次" in ranking and "1柳溪镇62.73分" in ranking and "6青石镇0.00分" in ranking
    pdf = _pdf_text(client.get("/reports/scorecard.pdf?period=2026-Q3").data)
    assert "排名第6名" in pdf
    assert "排名第6" in _flat(client.get(f"/cards/{card.id}").get_data(as_text=True))
