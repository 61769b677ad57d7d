"""Items with nothing due for a unit are not applicable: no points, their weight leaves the unit's maximum, and the
total is rescaled to 100 over the applicable weights (then deductions); the scheme's setting can score them in
full or as zero instead. A unit with no applicable item has no score and no rank."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest
from sqlalchemy import select

from tracker.assessment import publishing, results, scheme, scoring
from tracker.assessment.models import SchemeItem
from tracker.audit.models import AuditEvent
from tracker.org import service as org
from tracker.periods import Period
from tracker.plans.service import active_plan

from .assess_helpers import put_figures
from .conftest import get_unit, get_user

Q3 = Period.parse("2026-Q3")


def _flat(html: str) -> str:
    return re.sub(r"\s+", "", re.sub(r"<[^>]+>", "", html))


def _item(score, code):
    return next(i for i in score.items if i.code == code)


@pytest.fixture
def abc(seeded, session, frozen):
    """The example of the rule, on the seed scheme: for towns A = 牵头任务 (20, no town leads a task: not
    applicable), B = 破案数达标 (30, a target of 50 solved cases) and C = 抓获数达标 (50, a target of 10 arrests);
    the other seed items weigh 0 for towns. The two new items are switched on, and the weights moved, in one
    save of the scheme."""
    frozen(2026, 10, 20, 9)
    for code, name, indicator, target, order in (
        ("solved_t", "破案数达标", "solved", "50", 90),
        ("arrests_t", "抓获数达标", "arrests", "10", 91),
    ):
        session.add(
            SchemeItem(
                code=code,
                name=name,
                formula="target",
                weight_township=Decimal(0),
                weight_department=Decimal(0),
                params={"indicator": indicator, "target": target},
                sort_order=order,
                is_active=False,
            )
        )
    session.commit()
    township = {"outcome": 0, "lead_reports": 20, "member_reports": 0, "decisions": 0, "rectification": 0}
    township.update({"solved_t": 30, "arrests_t": 50})
    edits = [
        scheme.ItemEdit(it.id, it.version, it.name, township[it.code], it.weight_department, True, None)
        for it in scheme.items(session)
    ]
    scheme.update_items(session, get_user(session, "admin"), edits)
    session.commit()
    # 青石镇 in July: 30 solved cases (B: 30 × 30/50 = 18.00), 8 arrests (C: 50 × 8/10 = 40.00)
    put_figures(session, "2026-07", "青石镇", solved=30, arrests=8)
    return active_plan(session)


def test_a_not_applicable_item_leaves_the_maximum_and_the_total_is_rescaled(abc, session, app, client, auth):
    s = next(x for x in scoring.compute(session, abc, Q3) if x.unit.name == "青石镇")
    lead = _item(s, "lead_reports")
    assert (lead.applicable, lead.points, lead.note) == (False, None, "本期无应报报告,不适用")
    assert _item(s, "solved_t").points == Decimal("18.00")  # 30 × 30/50
    assert _item(s, "arrests_t").points == Decimal("40.00")  # 50 × 8/10
    # max 30 + 50 = 80 (A's 20 left out); 100 × (18 + 40)/80 = 72.50; then 18 member reports overdue (6 tasks ×
    # 3 months, none sent): −1 each, capped at −10 → 62.50
    assert (s.max, s.subtotal, s.scaled, s.total) == (
        Decimal("80.00"),
        Decimal("58.00"),
        Decimal("72.50"),
        Decimal("62.50"),
    )

    # assess --json: the item says not applicable with no points; the unit carries its maximum
    result = app.test_cli_runner().invoke(args=["assess", "--period", "2026-Q3", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["not_applicable"] == "rescale"
    row = next(r for r in data["groups"]["township"] if r["unit"] == "青石镇")
    assert (row["max"], row["subtotal"], row["scaled"], row["total"], row["rank"]) == (
        "80.00",
        "58.00",
        "72.50",
        "62.50",
        1,  # the other five: B and C 0 of 80 → 0.00, rank 2
    )
    item = next(i for i in row["items"] if i["code"] == "lead_reports")
    assert (item["applicable"], item["points"], item["weight"]) == (False, None, "20.00")
    assert next(i for i in row["items"] if i["code"] == "solved_t")["applicable"] is True

    # the unit's page says why, and how the total is made
    auth.login("town1")
    html = _flat(client.get(f"/assessment/units/{s.unit.id}?period=2026-Q3").get_data(as_text=True))
    assert "本期无应报报告,不适用" in html and "20.00不适用" in html  # 满分 20.00, 得分 不适用
    assert "总分62.50分(适用项目满分80.00分,得分58.00分,折算为百分制100×58.00÷80.00=72.50分,再计扣分加分)" in html
    assert "逾期未报扣分逾期未报一份×18-10.00" in html


def test_the_setting_scores_not_applicable_items_in_full_or_as_zero(abc, session, client, auth):
    town = get_unit(session, "青石镇")

    def total():
        return next(x for x in scoring.compute(session, abc, Q3) if x.unit.id == town.id).total

    auth.login("admin")
    html = client.get("/assessment/scheme").get_data(as_text=True)
    assert 'value="rescale" checked' in html
    version = scheme.settings(session).version
    assert (
        client.post("/assessment/scheme/settings", data={"version": version, "not_applicable": "full"}).status_code
        == 302
    )
    session.expire_all()
    # A counts in full: 20 + 18 + 40 = 78 of 100 → 78.00 − 10 = 68.00
    assert total() == Decimal("68.00")
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "scheme.settings"))
    assert event.before == {"not_applicable": "rescale"} and event.after == {"not_applicable": "full"}

    # a stale form (the version it was loaded with) is refused and changes nothing
    resp = client.post("/assessment/scheme/settings", data={"version": version, "not_applicable": "zero"})
    assert "已被他人修改" in client.get(resp.location).get_data(as_text=True)
    session.expire_all()
    assert scheme.settings(session).not_applicable == "full"

    client.post("/assessment/scheme/settings", data={"version": version + 1, "not_applicable": "zero"})
    session.expire_all()
    # A counts as 0: 0 + 18 + 40 = 58 of 100 → 58.00 − 10 = 48.00
    assert total() == Decimal("48.00")
    html = _flat(client.get(f"/assessment/units/{town.id}?period=2026-Q3").get_data(as_text=True))
    assert "本期无应报报告,按0分计" in html

    # an officer may not change it
    auth.logout()
    auth.login("town1")
    assert (
        client.post("/assessment/scheme/settings", data={"version": version + 2, "not_applicable": "full"}).status_code
        == 403
    )


def test_a_published_quarter_keeps_what_applied_and_prints_the_same(abc, session, client, auth):
    reviewer, admin = get_user(session, "reviewer"), get_user(session, "admin")
    publishing.publish(session, reviewer, abc, Q3)
    session.commit()
    town = get_unit(session, "青石镇")
    auth.login("reviewer")
    before = _flat(client.get(f"/assessment/units/{town.id}?period=2026-Q3").get_data(as_text=True))
    assert "100×58.00÷80.00=72.50" in before and "本期无应报报告,不适用" in before
    # the administrator switches to full marks afterwards: the frozen quarter does not move
    scheme.update_settings(session, admin, scheme.settings(session).version, not_applicable="full")
    session.commit()
    after = _flat(client.get(f"/assessment/units/{town.id}?period=2026-Q3").get_data(as_text=True))
    assert "总分62.50分" in after and "100×58.00÷80.00=72.50" in after and "本期无应报报告,不适用" in after
    # what today's setting would give is only named apart: 62.50 frozen, 68.00 live
    assert "青石镇得分冻结62.50分/现为68.00分" in after
    row = results.quarter_results(session, abc, Q3, changes=False).row(town.id)
    lead = next(i for i in row["items"] if i["code"] == "lead_reports")
    assert (row["max"], lead["applicable"], lead["points"]) == ("80.00", False, None)


def test_a_unit_with_no_applicable_item_has_no_score_and_no_rank(seeded, session, frozen, client, auth):
    frozen(2026, 10, 20, 9)
    admin = get_user(session, "admin")
    unit = org.create_unit(session, admin, name="统计局", kind="department")
    session.commit()
    plan = active_plan(session)
    s = next(x for x in scoring.compute(session, plan, Q3) if x.unit.id == unit.id)
    # leads no task, member of none, no decision, no card: lead 50, member 20, decisions 15, cards 15 all left out
    assert all(not i.applicable and i.points is None for i in s.items)
    assert (s.max, s.total, s.rank) == (Decimal(0), None, None)
    result = results.quarter_results(session, plan, Q3, changes=False)
    depts = result.snapshot["groups"]["department"]
    assert depts[-1]["unit"] == "统计局" and (depts[-1]["total"], depts[-1]["rank"]) == (None, None)
    auth.login("reviewer")
    html = _flat(client.get("/assessment/?period=2026-Q3").get_data(as_text=True))
    assert "不排名统计局无适用考核项0.00" in html
    html = _flat(client.get(f"/assessment/units/{unit.id}?period=2026-Q3").get_data(as_text=True))
    assert "无适用考核项,不计分、不排名" in html
    # the year's mean leaves such a quarter out: no quarter scored, no yearly score
    frozen(2027, 1, 5, 9)
    year = results.year_scores(session, plan, 2026)
    assert "统计局" not in {r["unit"] for r in year["groups"]["department"]}


def test_no_card_means_the_rectification_item_does_not_apply(seeded, session, frozen):
    from tracker.assessment import cards

    frozen(2026, 7, 1, 9)
    town = get_unit(session, "青石镇")
    cards.issue_card(
        session, get_user(session, "reviewer"), unit_id=town.id, colour="yellow", reason="宣传滞后", period="2026-Q2"
    )
    session.commit()
    frozen(2026, 10, 20, 9)
    scores = {s.unit.name: s for s in scoring.compute(session, active_plan(session), Q3)}
    # 青石镇's card: no plan by its due date, deadline passed, not lifted: 10 × 0/1 = 0.00, applicable
    rect = _item(scores["青石镇"], "rectification")
    assert (rect.applicable, rect.points) == (True, Decimal("0.00"))
    # 柳溪镇 has no card: nothing to rectify is not a rectification done
    rect = _item(scores["柳溪镇"], "rectification")
    assert (rect.applicable, rect.points, rect.note) == (False, None, "本期无红黄牌,不适用")


@pytest.fixture
def demo(app, session, frozen, demo_districts):
    """The demo district as `flask --app tracker seed --demo` loads it on 3 December 2026 (seeded once per run)."""
    demo_districts.install(app, (2026, 12, 3, 9))
    frozen(2026, 12, 3, 9)
    return app


def test_lead_units_no_longer_rank_last_for_carrying_the_work(demo, session, client, auth):
    """The fourth quarter of the demo as the reviewer's ranking page shows it on 3 December (October and November
    due). Before, every department leading nothing got 50/50 and most got 15 + 15 for no decision and no card,
    so 公安分局 (74.97 today) ranked 10th of 10 and 政法委 8th."""
    auth.login("reviewer")
    html = _flat(client.get("/assessment/?period=2026-Q4").get_data(as_text=True))
    # 办公室: lead 50 × 2/2 = 50, member 20 × 5/6 = 16.67, decisions and cards not applicable:
    #   100 × 66.67/70 = 95.24
    assert "2办公室95.24分70.00" in html
    # 政法委: lead 50 × 3/4 = 37.50, member 20 × 2/2 = 20: 100 × 57.50/70 = 82.14, one overdue −1 = 81.14
    assert "3政法委81.14分70.00" in html
    # 公安分局: lead 50 × 4/6 = 33.33, member 20 × 5/6 = 16.67, decisions 15 × 1/1 = 15:
    #   100 × 65.00/85 = 76.47, three late −1.50 = 74.97; behind 建设局 (member 2/2: 100) and 经发局
    #   (member 3/4: 100 × 15/20 = 75.00)
    assert "5公安分局74.97分85.00" in html
    assert "1建设局100.00分20.00" in html and "4经发局75.00分20.00" in html
    police = get_unit(session, "公安分局")
    html = _flat(client.get(f"/assessment/units/{police.id}?period=2026-Q4").get_data(as_text=True))
    assert "本期无红黄牌,不适用" in html and "100×65.00÷85.00=76.47" in html and "排名第5名" in html


def test_scores_without_facts_have_the_same_points_totals_and_ranks(demo, session):
    """The note 发布后数据有更新 compares totals and ranks only, so it scores without the items' facts: every item's
    points, note and applicability, every adjustment, total and rank are those of the full scores, under each
    policy for items with nothing due, in a quarter with cards, decisions and figures (Q3) and one under way (Q4)."""
    plan, admin = active_plan(session), get_user(session, "admin")
    compared = 0
    for policy in ("rescale", "full", "zero"):
        if scheme.settings(session).not_applicable != policy:
            scheme.update_settings(session, admin, scheme.settings(session).version, not_applicable=policy)
            session.commit()
        for period in (Q3, Period.parse("2026-Q4")):
            full, _ = scoring.compute_with_summary(session, plan, period)
            lean, _ = scoring.compute_with_summary(session, plan, period, facts=False)
            assert [s.unit.id for s in lean] == [s.unit.id for s in full]
            assert any(i.facts for s in full for i in s.items)
            for a, b in zip(full, lean, strict=True):
                assert (b.total, b.rank, b.overdue, b.adjustments) == (a.total, a.rank, a.overdue, a.adjustments)
                assert [(i.code, i.points, i.note, i.applicable, i.weight) for i in b.items] == [
                    (i.code, i.points, i.note, i.applicable, i.weight) for i in a.items
                ]
                assert all(not i.facts for i in b.items)
                compared += 1
    assert compared == 3 * 2 * len(full) and any(s.total is not None for s in full)
