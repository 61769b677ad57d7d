"""Demo register: a plausible quarter of publicity activities by the towns and a few departments, each town's
村/社区 with one or two not yet reached, and a few 无诈 creations at every status; the same on every machine."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta

from sqlalchemy.orm import Session

from ..periods import Period
from . import creations
from .models import FORM, FRAUD, TARGET
from .service import ActivityValues, create_activity, options, save_communities

COMMUNITIES = {
    "town1": ["青石村", "石桥村", "溪口村", "青石社区", "新街社区"],
    "town2": ["柳溪村", "杨柳村", "溪南社区", "溪北社区"],
    "town3": ["云岭村", "高坪村", "岭下村"],
    "town4": ["白沙村", "沙洲村", "白沙社区", "滨江社区"],
    "town5": ["东湖社区", "湖滨社区", "学府社区", "东城社区"],
    "town6": ["南山社区", "南苑社区", "翠竹社区"],
}
# (target group, form, place) each town works through; a town skips the groups after its own `reach`
PLAN = [
    ("学校", "宣讲/讲座", "中心小学", 260),
    ("社区", "入户走访", "社区服务中心", 120),
    ("农村", "发放资料", "村委会广场", 180),
    ("企业", "宣讲/讲座", "工业园区企业食堂", 150),
    ("家庭", "入户走访", "老年人家中", 40),
    ("学校", "主题班会/家长会", "初级中学", 320),
    ("机关", "宣讲/讲座", "政府会议室", 80),
    ("金融网点", "展板", "农商银行营业厅", 90),
    ("社区", "新媒体推送", "社区微信群", 600),
]
DEPARTMENTS = {
    "police": [
        ("金融网点", "宣讲/讲座", "town5", "建设银行东湖支行", 60),
        ("学校", "宣讲/讲座", "town2", "柳溪中学", 420),
    ],
    "office": [("机关", "宣讲/讲座", "town5", "区行政中心", 150)],
    "construction": [("工地", "展板", "town3", "云岭安置房工地", 85)],
}
REACH = {"town1": 9, "town2": 7, "town3": 5, "town4": 8, "town5": 9, "town6": 4}


def _pick(*keys) -> int:
    return int(hashlib.sha256("/".join(map(str, keys)).encode()).hexdigest()[:8], 16)


class _Demo:
    """The quarter of months up to today's, the lists by name, and days and fraud types picked from fixed keys."""

    def __init__(self, session: Session, today: date) -> None:
        self.today = today
        self.span = [Period.of_date(today)]
        for _ in range(2):
            self.span.insert(0, self.span[0].previous())
        self.targets = {o.name: o.id for o in options(session, TARGET)}
        self.forms = {o.name: o.id for o in options(session, FORM)}
        self.frauds = [o.id for o in options(session, FRAUD)]

    def day_in(self, month: Period, *keys) -> date:
        last = min(month.end, self.today)
        days = (last - month.start).days + 1
        return month.start + timedelta(days=_pick(*keys) % days)

    def fraud_ids(self, *keys) -> list[int]:
        n = 2 + _pick(*keys, "n") % 3
        start = _pick(*keys) % len(self.frauds)
        return [self.frauds[(start + i * 3) % len(self.frauds)] for i in range(n)]


def load(session: Session, users: dict, today: date) -> dict:
    """The quarter of months up to today's, activities dated on or before today."""
    demo = _Demo(session, today)
    count = _town_activities(session, users, demo) + _department_activities(session, users, demo)
    made = _creations(session, users, demo.span[0].start)
    return {"activities": count, "creations": made}


def _town_activities(session: Session, users: dict, demo: _Demo) -> int:
    """Each town's 村/社区 list, and its activities in them (the last-listed one not reached yet)."""
    count = 0
    for login, names in COMMUNITIES.items():
        officer = users[login]
        save_communities(session, officer, officer.unit_id, None, "\n".join(names))
        for i, (target, form, place, audience) in enumerate(PLAN[: REACH[login]]):
            community = names[i % (len(names) - 1)]
            size = audience + _pick(login, i) % 40
            values = ActivityValues(
                held_on=demo.day_in(demo.span[i % 3], login, i),
                unit_id=officer.unit_id,
                town_id=officer.unit_id,
                community=community,
                place=f"{community}{place}",
                target_id=demo.targets[target],
                form_id=demo.forms[form],
                fraud_ids=demo.fraud_ids(login, i),
                audience=size,
                materials=size * 2 if form in ("发放资料", "入户走访") else size // 2,
                apps=size // 3,
            )
            create_activity(session, officer, values)
            count += 1
    return count


def _department_activities(session: Session, users: dict, demo: _Demo) -> int:
    """The departments' activities, each in a town."""
    count = 0
    for login, rows in DEPARTMENTS.items():
        officer = users[login]
        for i, (target, form, town, place, audience) in enumerate(rows):
            values = ActivityValues(
                held_on=demo.day_in(demo.span[(i + 1) % 3], login, i),
                unit_id=officer.unit_id,
                town_id=users[town].unit_id,
                place=place,
                target_id=demo.targets[target],
                form_id=demo.forms[form],
                fraud_ids=demo.fraud_ids(login, i),
                audience=audience,
                materials=audience,
                apps=audience // 2,
            )
            create_activity(session, officer, values)
            count += 1
    return count


def _creations(session: Session, users: dict, start: date) -> int:
    reviewer = users["reviewer"]
    rows = [
        ("town1", "community", "青石社区", 2),
        ("town5", "community", "学府社区", 1),
        ("town2", "campus", "柳溪中学", 1),
        ("town4", "enterprise", "白沙电子科技有限公司", 0),
        ("office", "unit", "区行政服务中心", 0),
    ]
    for i, (login, kind, name, steps) in enumerate(rows):
        officer = users[login]
        c = creations.declare(
            session, officer, unit_id=officer.unit_id, kind=kind, name=name, declared_on=start + timedelta(days=3 * i)
        )
        for s in range(steps):
            c = creations.advance(session, reviewer, c.id, c.version, c.declared_on + timedelta(days=20 * (s + 1)))
    return len(rows)
