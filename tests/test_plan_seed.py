"""The seeded plan is the district plan (篇2) of the seed document, exactly."""

import os
import re

from sqlalchemy import select

from tracker.org.models import Unit
from tracker.plans.models import Assignment, Plan
from tracker.plans.service import active_plan, duties, load_tasks, unit_duties

SEED_DOC = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "seed", "000_f5148fdfe1428d2c.txt")
EXPECTED = {
    1: ("强化类案攻坚,提升严打惩治水平", "公安分局", {"办公室", "财政局", "经发局", "市场监管局"}),
    2: ("依法快诉快判,增强执法办案合力", "政法委", {"法院", "检察院", "公安分局"}),
    3: (
        "强化宣传教育,构筑全民反诈高地",
        "办公室",
        {"政法委", "城乡管理局", "公安分局", "建设局", "财政局", "市场监管局"},
    ),
    4: ("建强技术手段,全力预防堵控拦截", "公安分局", {"办公室"}),
    5: (
        "坚持关口前移,深化源头综合治理",
        "政法委",
        {"办公室", "经发局", "公安分局", "财政局", "市场监管局", "城乡管理局"},
    ),
    6: ("加强情报信息工作,做好重点人员管控", "公安分局", set()),
}
CN = "一二三四五六"


def _district_plan_text() -> str:
    path = SEED_DOC if os.path.exists(SEED_DOC) else os.path.join(os.path.dirname(__file__), "data", "seed_doc.txt")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    return text.split("学校防止网络诈骗实施方案 篇2\n")[1].split("学校防止网络诈骗实施方案 篇3")[0]


def test_six_tasks_with_titles_leads_and_member_sets(seeded, session):
    plan = active_plan(session)
    tasks = load_tasks(session, plan)
    assert [t.number for t in tasks] == [1, 2, 3, 4, 5, 6]
    townships = {u.name for u in session.scalars(select(Unit).where(Unit.kind == "township"))}
    assert len(townships) == 6
    by_task: dict[int, list] = {}
    for d in duties(session, plan, tasks):
        by_task.setdefault(d.task.number, []).append(d)
    for t in tasks:
        title, lead, members = EXPECTED[t.number]
        assert t.title == title
        ds = by_task[t.number]
        assert [d.unit.name for d in ds if d.role == "lead"] == [lead]
        member_names = [d.unit.name for d in ds if d.role == "member"]
        assert len(member_names) == len(set(member_names)), "a unit named twice counts once"
        assert set(member_names) == members | townships  # 各镇(街道) in every task of 篇2


def test_task_text_goals_and_requirements_are_the_seed_text_verbatim(seeded, session):
    doc = _district_plan_text()
    plan = session.scalar(select(Plan))
    for t in plan.tasks:
        paragraph = f"({CN[t.number - 1]}){t.title}。{t.body}"
        assert paragraph + "\n" + t.responsibility_text in doc
        assert "".join(m.text for m in t.measures) == t.body
    assert [g.title for g in plan.goals] == ["健全组织体系", "提升打防质效", "增强防范意识", "提高治理效能"]
    for g in plan.goals:
        assert f"{CN[g.number - 1]}是{g.title}。{g.body}" in doc
    assert plan.preamble in doc and plan.guiding_ideology in doc
    assert len(plan.requirement_items) == 3
    assert "两降两升" in plan.goals[1].body


def test_chengxiang_named_twice_in_task_three_counts_once(seeded, session):
    plan = active_plan(session)
    t3 = load_tasks(session, plan)[2]
    assert t3.responsibility_text.count("城乡管理局") == 2
    assert [a.unit.name for a in t3.assignments].count("城乡管理局") == 1


def test_plan_page_shows_townships_under_the_plans_words(seeded, auth, client):
    auth.login("reviewer")
    html = client.get("/plan").get_data(as_text=True)
    assert "各镇(街道)(6个)" in html
    assert "青石镇" in html and "强化类案攻坚,提升严打惩治水平" in html
    assert re.search(r"一是健全组织体系", html)


def test_plan_and_task_pages_link_a_units_name_only_for_those_who_may_open_it(seeded, auth, client, session):
    """Each name in the duties links to the unit's page for the reviewer; a town's officer gets a link to the own
    town only (the others' names as text), on every task that lists it, and on the task's own page."""
    units = {u.name: u.id for u in session.scalars(select(Unit))}
    mine, other = units["青石镇"], units["柳溪镇"]
    auth.login("reviewer")
    html = client.get("/plan").get_data(as_text=True)
    assert html.count(f'<a href="/units/{mine}">青石镇</a>') >= 2
    assert f'<a href="/units/{other}">柳溪镇</a>' in html
    auth.logout()
    auth.login("town1")  # 青石镇
    html = client.get("/plan").get_data(as_text=True)
    tasks_with_towns = html.count("各镇(街道)(6个)")
    assert tasks_with_towns >= 2
    assert html.count(f'<a href="/units/{mine}">青石镇</a>') == tasks_with_towns
    assert f'href="/units/{other}"' not in html and html.count("柳溪镇") >= tasks_with_towns
    task = load_tasks(session, active_plan(session))[0]
    page = client.get(f"/plan/tasks/{task.id}").get_data(as_text=True)
    assert f'<a href="/units/{mine}">青石镇</a>' in page and f'href="/units/{other}"' not in page


def test_seed_twice_changes_nothing(seeded, session):
    from tracker.audit.models import AuditEvent
    from tracker.seed import load_base, load_demo

    before = session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()))
    assert load_base(session) == {"units": 0, "plan": False}
    assert load_demo(session, "demo-2026")["skipped"] is True
    session.commit()
    assert session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc())) == before


def test_one_units_duties_are_its_share_of_the_plans_duties(seeded, session):
    """The to-do page reads one unit's duties on their own; they must be what the plan's duties give that unit:
    a town named as lead of a task that 各镇(街道) also reaches keeps 牵头 once, a deactivated unit has none."""
    plan = active_plan(session)
    tasks = load_tasks(session, plan)
    town = session.scalar(select(Unit).where(Unit.name == "青石镇"))
    session.add(Assignment(task_id=tasks[1].id, unit_id=town.id, role="lead"))
    gone = session.scalar(select(Unit).where(Unit.name == "柳溪镇"))
    gone.is_active = False
    session.flush()
    session.expire_all()
    plan_duties = duties(session, plan)
    units = list(session.scalars(select(Unit)))
    assert len(units) > 10
    for unit in units:
        share = [(d.task.number, d.role) for d in plan_duties if d.unit.id == unit.id]
        assert [(d.task.number, d.role) for d in unit_duties(session, plan, unit)] == share, unit.name
    assert [(d.task.number, d.role) for d in unit_duties(session, plan, town)] == [
        (1, "member"),
        (2, "lead"),
        (3, "member"),
        (4, "member"),
        (5, "member"),
        (6, "member"),
    ]
    assert unit_duties(session, plan, gone) == []
