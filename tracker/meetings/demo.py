"""Demo joint meetings: two held quarterly meetings with decisions in every state, and one still to come.

Written through the services at fixed times relative to the demo's "today", so every run gives the same record.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import clock
from ..org.models import KIND_DEPARTMENT, KIND_TOWNSHIP, Unit
from ..periods import Period
from . import service

CONVENER = "林志远(区委常委、政法委书记)"
LOCATION = "区行政中心三楼第一会议室"


def _at(d: date, hour: int, minute: int = 0) -> None:
    clock.freeze(datetime.combine(d, time(hour, minute), tzinfo=clock.CHINA_TZ))


class _Demo:
    def __init__(self, session: Session, users: dict, today: date):
        self.session, self.today = session, today
        self.reviewer = users["reviewer"]
        self.officers = {u.unit_id: u for u in users.values() if u.role == "officer"}
        self.units = {u.name: u for u in session.scalars(select(Unit))}

    def day(self, d: date) -> date:
        """Never later than today: on a fresh quarter the demo squeezes its steps into the days available."""
        return min(d, self.today)

    def decision(self, meeting, when: date, lead: str, text: str, deadline: date, supporting=()):
        _at(when, 16)
        return service.record_decision(
            self.session,
            self.reviewer,
            meeting.id,
            text=text,
            lead_unit_id=self.units[lead].id,
            supporting_unit_ids=[self.units[n].id for n in supporting],
            deadline=deadline,
        )

    def answer(self, d, when: date, feedback: str, hour: int = 10):
        _at(self.day(when), hour)
        officer = self.officers[d.lead_unit_id]
        return service.answer_decision(self.session, officer, d.id, d.version, feedback)

    def review(self, d, when: date, verdict: str, comment: str = "", hour: int = 15):
        _at(self.day(when), hour)
        return service.review_decision(self.session, self.reviewer, d.id, d.version, verdict, comment)


def load(session: Session, users: dict, today: date) -> dict:
    """Two held meetings reviewing the last two ended quarters, and one scheduled next week for this month."""
    demo = _Demo(session, users, today)
    everyone = [u.id for u in demo.units.values() if u.is_active and u.kind in (KIND_DEPARTMENT, KIND_TOWNSHIP)]
    current = Period.quarter_of(today.year, today.month)
    q2 = current.previous()
    q1 = q2.previous()
    first = q1.end + timedelta(days=15)
    second = max(min(q2.end + timedelta(days=15), today - timedelta(days=2)), first + timedelta(days=30))
    try:
        m1 = _meeting(demo, first, q1, everyone)
        _first_meeting_decisions(demo, m1, first)
        m2 = _meeting(demo, second, q2, everyone)
        _second_meeting_decisions(demo, m2, second)
        month = Period.of_date(today)
        _at(today, 9)
        towns = [u.id for u in demo.units.values() if u.kind == KIND_TOWNSHIP and u.is_active]
        core = [demo.units[n].id for n in ("政法委", "公安分局", "办公室")]
        service.schedule_meeting(
            session,
            demo.reviewer,
            title=f"{month.label}打击治理电信网络诈骗工作调度会",
            meeting_date=today + timedelta(days=7),
            convener=CONVENER,
            unit_ids=core + towns,
            period=month.code,
            location=LOCATION,
            notes="听取各镇(街道)本月工作进展,通报前两次联席会议议定事项落实情况。",
        )
    finally:
        clock.freeze(None)
    return {"meetings": 3, "decisions": len(m1.decisions) + len(m2.decisions)}


def _meeting(demo: _Demo, when: date, period: Period, unit_ids: list[int]):
    _at(when - timedelta(days=10), 9)
    m = service.schedule_meeting(
        demo.session,
        demo.reviewer,
        title=f"{period.label}打击治理电信网络诈骗工作联席会议",
        meeting_date=when,
        convener=CONVENER,
        unit_ids=unit_ids,
        period=period.code,
        location=LOCATION,
        notes=f"通报{period.label}两降两升指标、任务进展和考评情况,研究部署下阶段工作。",
    )
    _at(when, 17)
    return service.mark_held(demo.session, demo.reviewer, m.id, m.version)


def _first_meeting_decisions(demo: _Demo, m, when: date) -> None:
    _first_meeting_closed_or_overdue(demo, m, when)
    _first_meeting_returned(demo, m, when)


def _first_meeting_closed_or_overdue(demo: _Demo, m, when: date) -> None:
    # closed on time
    a = demo.decision(
        m,
        when,
        "公安分局",
        "组织一次“断卡”集中收网行动,对涉案银行卡、手机卡开户网点逐一约谈,形成问题台账。",
        when + timedelta(days=30),
        supporting=("经发局", "市场监管局"),
    )
    a = demo.answer(
        a,
        a.deadline - timedelta(days=6),
        "已开展集中收网行动,约谈开户网点23个,冻结涉案银行卡156张、手机卡89张,问题台账已建立。",
    )
    demo.review(a, a.deadline - timedelta(days=4), "close", "办理到位,同意销号。")
    # closed late
    b = demo.decision(
        m,
        when,
        "青石镇",
        "对辖区老年群体开展反诈入户宣传,覆盖全部行政村,并报送宣传台账。",
        when + timedelta(days=45),
        supporting=("公安分局",),
    )
    b = demo.answer(b, b.deadline + timedelta(days=3), "已完成12个行政村入户宣传,发放资料3200份,宣传台账随附。")
    demo.review(b, b.deadline + timedelta(days=5), "close", "已完成,但超过办结期限,按逾期销号。")
    # overdue, never answered
    demo.decision(
        m,
        when,
        "柳溪镇",
        "建立村(社区)反诈宣传员队伍,每村至少一名,名单报联席办备案。",
        when + timedelta(days=40),
        supporting=("公安分局",),
    )


def _first_meeting_returned(demo: _Demo, m, when: date) -> None:
    # returned once, answered again, closed on time
    d = demo.decision(
        m,
        when,
        "办公室",
        "在全区主要道路、公交站台和商圈电子屏投放反诈公益广告。",
        when + timedelta(days=50),
        supporting=("政法委", "城乡管理局"),
    )
    d = demo.answer(d, d.deadline - timedelta(days=12), "已联系广告公司,正在设计广告画面。")
    d = demo.review(d, d.deadline - timedelta(days=10), "return", "请反馈实际投放点位数量和上线时间,附照片。")
    d = demo.answer(
        d, d.deadline - timedelta(days=4), "公益广告已于本周上线,投放公交站台42处、商圈电子屏6块,照片已报送。"
    )
    demo.review(d, d.deadline - timedelta(days=2), "close", "")
    # returned and not answered again before the deadline: overdue
    e = demo.decision(
        m,
        when,
        "东湖街道",
        "对辖区出租屋、网吧、酒店开展涉诈风险排查,发现问题限期整改。",
        when + timedelta(days=35),
        supporting=("市场监管局",),
    )
    e = demo.answer(e, e.deadline - timedelta(days=3), "已排查出租屋部分区域。")
    demo.review(e, e.deadline - timedelta(days=1), "return", "反馈过于笼统,请列明排查场所数量、发现问题和整改情况。")


def _second_meeting_decisions(demo: _Demo, m, when: date) -> None:
    t = demo.today
    # feedback submitted, awaiting the office
    f = demo.decision(
        m,
        when,
        "青石镇",
        "推广国家反诈中心APP,注册率提升至辖区常住人口的60%以上。",
        t + timedelta(days=20),
        supporting=("公安分局",),
    )
    demo.answer(
        f,
        when + timedelta(days=5),
        "已组织村干部、网格员上门推广,截至目前注册2.1万人,占常住人口63%,注册明细已报公安分局核对。",
    )
    # returned, the unit has to answer again
    g = demo.decision(
        m,
        when,
        "青石镇",
        "中小学开展“反诈进校园”主题班会,建立班级家长群反诈联络员机制。",
        t + timedelta(days=10),
        supporting=("办公室",),
    )
    g = demo.answer(g, when + timedelta(days=3), "辖区学校均已召开主题班会。", hour=9)
    demo.review(g, when + timedelta(days=6), "return", "请补充各校班会场次、参与人数和家长群联络员名单。", hour=16)
    # open, deadline close
    demo.decision(
        m, when, "青石镇", "对发案较多的两个村开展专题约谈,查找防范漏洞并制定整改措施。", t + timedelta(days=5)
    )
    # open, not yet due
    demo.decision(
        m, when, "云岭镇", "对外出务工返乡人员开展反诈宣讲,重点提示刷单返利、虚假投资类诈骗。", t + timedelta(days=30)
    )
    demo.decision(
        m,
        when,
        "财政局",
        "会同经发局、市场监管局研究反诈工作经费保障和涉诈企业联合惩戒措施,形成方案报联席会议。",
        t + timedelta(days=45),
        supporting=("经发局", "市场监管局"),
    )
    # closed on time, in this quarter
    j = demo.decision(
        m,
        when,
        "公安分局",
        "会同法院、检察院梳理上季度电诈案件办理情况,对积案逐件明确办结时限。",
        t + timedelta(days=15),
        supporting=("法院", "检察院"),
    )
    j = demo.answer(j, when + timedelta(days=4), "已梳理积案37件,逐件明确办结时限,已办结21件,其余按计划推进。", hour=11)
    demo.review(j, when + timedelta(days=7), "close", "同意销号,积案办理情况纳入下季度通报。", hour=17)
