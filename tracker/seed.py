"""Loading the seed plan and the demo district through the same services users go through."""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime, time, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import clock
from .assessment import demo as cards_demo
from .assessment.scheme import load_seed as load_scheme
from .audit.service import record
from .auth import service as auth_service
from .auth.models import User
from .auth.system import SYSTEM
from .meetings import demo as meetings_demo
from .meetings.models import HELD, Meeting
from .metrics import demo as metrics_demo
from .metrics.service import load_indicators
from .org.models import KIND_DEPARTMENT, KIND_TOWNSHIP, Unit
from .periods import Period
from .plans.service import active_plan, due_date, duties, load_plan, update_period
from .progress import service as progress
from .publicity import demo as publicity_demo
from .publicity.service import load_options
from .reports.archive_job import queue_archive

SEED_DIR = Path(__file__).resolve().parent.parent / "seed"


def read_json(name: str) -> dict:
    return json.loads((SEED_DIR / name).read_text(encoding="utf-8"))


def _ensure_unit(session: Session, name: str, kind: str, aliases: str, order: int) -> bool:
    if session.scalar(select(Unit.id).where(Unit.name == name)):
        return False
    unit = Unit(name=name, kind=kind, aliases=aliases, sort_order=order)
    session.add(unit)
    record(session, SYSTEM, "unit.create", unit, summary=f"载入单位 {name}")
    return True


def load_base(session: Session) -> dict:
    """The district's departments and the seed plan. Running it again changes nothing."""
    units = read_json("units.json")
    created = 0
    for i, u in enumerate(units["departments"], 1):
        created += _ensure_unit(session, u["name"], KIND_DEPARTMENT, u.get("aliases", ""), i)
    for i, u in enumerate(units.get("townships", []), 1):
        created += _ensure_unit(session, u["name"], KIND_TOWNSHIP, u.get("aliases", ""), i)
    session.flush()
    _plan, plan_created = load_plan(session, SYSTEM, read_json("plan.json"))
    load_indicators(session, SYSTEM, read_json("indicators.json"))
    load_options(session, SYSTEM, read_json("publicity.json"))
    load_scheme(session, SYSTEM, read_json("assessment.json"), read_json("cards.json"), read_json("holidays.json"))
    return {"units": created, "plan": plan_created}


# -- demo ------------------------------------------------------------------

_TEXTS = {
    1: (
        "开展“断卡”专项行动,核查涉案手机卡{a}张、银行卡{b}张,打掉收贩卡团伙{c}个。",
        "本月专项打击任务完成{p}%,移送起诉{c}人。",
        "跨部门信息共享仍有延迟,资金查控需提速。",
        "继续推进集群战役,下月开展一次全链条打击行动。",
    ),
    2: (
        "联合办案机制运转正常,本月受理电诈案件{c}件,快诉快判{a}件。",
        "审查逮捕平均用时缩短{c}天,完成率{p}%。",
        "部分案件证据标准不统一。",
        "召开一次办案指引培训会。",
    ),
    3: (
        "张贴防骗宣传海报{a}张,覆盖图书馆、食堂、公寓等人员密集场所;开展反诈讲座{c}场,听众{b}人次。",
        "推广国家反诈中心APP注册{b}人,建立反诈宣传微信群{c}个(含辅导员、班长联络员)。",
        "老年群体覆盖仍不足,部分工地宣传未到位。",
        "下月进社区、进工地各开展宣传两次,月底前报送宣传台账。",
    ),
    4: (
        "拦截诈骗电话{b}个、短信{a}条,预警劝阻潜在受害人{c}人次。",
        "资金拦截对接银行{c}家,完成率{p}%。",
        "高危人员劝阻回访率偏低。",
        "升级技术拦截模型,加强针对性劝阻。",
    ),
    5: (
        "排查涉诈风险企业{c}家,约谈{a}家,督促整改{c}项。",
        "落实“一案双查”{c}起,违规开卡核查完成{p}%。",
        "对公账户开户审核仍有漏洞。",
        "联合市场监管部门开展一次专项检查。",
    ),
    6: (
        "摸排涉诈重点人员{a}人,落实动态管控{c}人。",
        "重点人员底数核查完成{p}%。",
        "流出人员去向掌握不够及时。",
        "建立户籍地与流入地每周通报机制。",
    ),
}


def _pick(*keys) -> int:
    """A stable number from the keys, so demo data is the same on every machine."""
    return int(hashlib.sha256("|".join(map(str, keys)).encode()).hexdigest()[:8], 16)


def _content(task_no: int, n: int) -> dict:
    a, b, c, p = 10 + n % 90, 100 + n % 900, 1 + n % 9, 60 + n % 41
    t = _TEXTS[task_no]
    return {
        "progress": t[0].format(a=a, b=b, c=c, p=p),
        "completion": t[1].format(a=a, b=b, c=c, p=p),
        "problems": t[2],
        "next_steps": t[3],
    }


def _at(d: date, hour: int = 10) -> datetime:
    return datetime.combine(d, time(hour, 0), tzinfo=clock.CHINA_TZ)


def load_demo(session: Session, password: str, today: date | None = None, with_reports: bool = True) -> dict:
    """Fictional towns, one officer per unit, reviewer and admin, and recent months of varied reports.

    Skipped entirely when the demo accounts already exist.
    """
    demo = read_json("demo.json")
    if session.scalar(select(User.id).where(User.username == "admin")):
        return {"skipped": True}
    today = today or clock.today()
    for i, t in enumerate(demo["townships"], 1):
        _ensure_unit(session, t["name"], KIND_TOWNSHIP, t.get("aliases", ""), i)
    session.flush()
    units = {u.name: u for u in session.scalars(select(Unit))}
    users = {}
    for u in demo["users"]:
        unit = units.get(u["unit"]) if u["unit"] else None
        users[u["username"]] = auth_service.create_user(
            session,
            SYSTEM,
            username=u["username"],
            display_name=u["display_name"],
            role=u["role"],
            unit_id=unit.id if unit else None,
            password=password,
        )
    session.flush()
    if with_reports:
        _demo_period(session, today, demo.get("months", 4))
    n = _demo_reports(session, users, today, demo.get("months", 4)) if with_reports else 0
    figures = metrics_demo.load(session, users["police"], today) if with_reports else 0
    meetings = meetings_demo.load(session, users, today) if with_reports else {}
    publicity = publicity_demo.load(session, users, today) if with_reports else {}
    if with_reports:
        # as when a meeting is marked held on its page: each held meeting's briefing is archived after the commit
        for meeting_id in session.scalars(select(Meeting.id).where(Meeting.status == HELD).order_by(Meeting.id)).all():
            queue_archive(session, meeting_id, users["reviewer"].id)
    # cards last: they read the figures, reports and meetings above
    cards = cards_demo.load(session, active_plan(session), users, today) if with_reports else {}
    return {
        "skipped": False,
        "users": len(users),
        "reports": n,
        "figures": figures,
        "meetings": meetings,
        "cards": cards,
        "publicity": publicity,
    }


def _demo_span(today: date, months: int) -> list[Period]:
    """The demo's months of reports: the last `months` months up to today's."""
    span = [Period.of_date(today)]
    for _ in range(months - 1):
        span.insert(0, span[0].previous())
    return span


def _demo_period(session: Session, today: date, months: int) -> None:
    """The demo plan runs from the first month of the demo's reports, so no month before them owes anything, to
    the end of the plan's year (or today's month, if that is later). The plan's text stays as the seed has it."""
    plan = active_plan(session)
    span = _demo_span(today, months)
    end = max(plan.end_month, span[-1].code)
    update_period(session, SYSTEM, plan.id, plan.version, start_month=span[0].code, end_month=end)
    session.flush()


def _demo_reports(session: Session, users: dict, today: date, months: int) -> int:
    plan = active_plan(session)
    officers = {u.unit_id: u for u in users.values() if u.role == "officer"}
    reviewer = users["reviewer"]
    period = Period.of_date(today)
    span = _demo_span(today, months)
    count = 0
    try:
        for m in span:
            due = due_date(plan, m)
            for d in duties(session, plan):
                officer = officers.get(d.unit.id)
                if officer is None:
                    continue
                count += _demo_one(session, officer, reviewer, d, m, due, today, m == period)
    finally:
        clock.freeze(None)
    return count


def _demo_one(session, officer, reviewer, duty, m: Period, due: date, today: date, current: bool) -> int:
    """One (task, unit, month): a fixed mix of on time, late, missing, returned, awaiting review, draft."""
    roll = _pick(duty.task.number, duty.unit.name, m.code) % 20
    if roll == 0 or (current and roll in (1, 2)):
        return 0  # never started: 逾期 once the due date has passed
    content = _content(duty.task.number, _pick("n", duty.unit.name, m.code))
    measure_ids = [duty.task.measures[_pick("m", duty.unit.name, m.code) % len(duty.task.measures)].id]
    late = roll in (3, 4)
    submit_day = min(due + timedelta(days=2) if late else due - timedelta(days=3 + roll % 10), today)
    write_day = max(submit_day - timedelta(days=1), m.start)
    clock.freeze(_at(write_day, 9))
    r = progress.save_draft(
        session,
        officer,
        task_id=duty.task.id,
        unit_id=duty.unit.id,
        period=m.code,
        fields=content,
        measure_ids=measure_ids,
    )
    if roll == 5 or (current and roll in (6, 7)):
        return 1  # a draft never submitted
    clock.freeze(_at(submit_day, 10))
    r = progress.submit_report(session, officer, r.id, r.version)
    review_day = min(submit_day + timedelta(days=1), today)
    if roll in (8, 9) or (current and roll in (10, 11, 12)):
        return 1  # awaiting review
    clock.freeze(_at(review_day, 15))
    if roll in (13, 14):
        r = progress.review_report(
            session, reviewer, r.id, r.version, "return", "请补充具体数据和佐证材料,问题分析需更具体。"
        )
        if roll == 14 or current:
            return 1  # returned, not yet fixed
        clock.freeze(_at(min(review_day + timedelta(days=1), today), 11))
        fixed = dict(content, completion=content["completion"] + "(已补充佐证材料清单。)")
        r = progress.save_draft(
            session,
            officer,
            task_id=duty.task.id,
            unit_id=duty.unit.id,
            period=m.code,
            fields=fixed,
            measure_ids=measure_ids,
            version=r.version,
        )
        r = progress.submit_report(session, officer, r.id, r.version)
        clock.freeze(_at(min(review_day + timedelta(days=2), today), 16))
    progress.review_report(session, reviewer, r.id, r.version, "accept", "")
    return 1
