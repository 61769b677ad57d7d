"""Reminders and messages: the clock moved through November 2026, a local robot and SMTP server receiving them,
failures retried then given up, secrets masked, the notification centre and the reviewer's panel."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from tracker import clock
from tracker.assessment import cards
from tracker.meetings import service as meetings
from tracker.notify import service
from tracker.notify.models import Delivery
from tracker.progress import service as progress

from .conftest import get_unit, get_user
from .notify_servers import Mailbox, Robot

SECRET = "SECdingtalk0123456789abcdef"


def at(d: date, hour: int = 8, minute: int = 30) -> None:
    clock.freeze(datetime(d.year, d.month, d.day, hour, minute, tzinfo=clock.CHINA_TZ))


def run(app, session, day_: date):
    at(day_)
    result = service.run_day(session, day_, app.config)
    session.commit()
    return service.deliver_all(session, app.config, result)


@pytest.fixture
def robot():
    with Robot(SECRET) as r:
        yield r


@pytest.fixture
def mailbox():
    with Mailbox() as m:
        yield m


def test_a_month_of_reminders_reaches_each_channel_once(seeded, session, robot, mailbox, frozen):
    app = seeded
    app.config.update(SMTP_URL=mailbox.url, MAIL_FROM="tracker@example.org", BASE_URL="https://tracker.example.org")
    admin, reviewer, town1 = get_user(session, "admin"), get_user(session, "reviewer"), get_user(session, "town1")
    qingshi, liuxi = get_unit(session, "青石镇"), get_unit(session, "柳溪镇")
    at(date(2026, 11, 1), 7)
    service.add_channel(
        session, admin, kind="wecom", target=f"{robot.url}/wecom?key=WECOMKEY123456", unit_id=qingshi.id
    )
    service.add_channel(
        session,
        admin,
        kind="dingtalk",
        target=f"{robot.url}/dingtalk?access_token=TOKEN987654",
        secret=SECRET,
        unit_id=liuxi.id,
    )
    service.add_channel(session, admin, kind="email", target="reviewer@example.org", user_id=reviewer.id)
    session.commit()

    actions = {
        # a yellow card on Monday 2 November: its plan is due 5 working days later, Monday 9 November
        date(2026, 11, 2): lambda: cards.issue_card(
            session, reviewer, unit_id=liuxi.id, colour="yellow", reason="宣传工作滞后", period="2026-Q3"
        ),
        date(2026, 11, 3): lambda: meetings.schedule_meeting(
            session,
            reviewer,
            title="第四季度联席会议",
            meeting_date=date(2026, 11, 5),
            convener="区委政法委",
            unit_ids=[qingshi.id],
            period="2026-Q3",
        ),
        date(2026, 11, 5): lambda: meetings.record_decision(
            session,
            reviewer,
            session.scalar(select(meetings.Meeting.id)),
            text="开展入户宣传",
            lead_unit_id=qingshi.id,
            deadline=date(2026, 11, 27),
        ),
        date(2026, 11, 20): lambda: _submit_and_urge(session, town1, reviewer, qingshi),
        date(2026, 11, 21): lambda: _accept(session, reviewer, qingshi),
    }
    day_ = date(2026, 11, 1)
    while day_ <= date(2026, 11, 30):
        if day_ in actions:
            at(day_, 8, 0)
            actions[day_]()
            session.commit()
        run(app, session, day_)
        day_ += timedelta(days=1)

    assert robot.problems == []
    # 青石镇's WeCom group, in the order sent
    assert robot.subjects("/wecom") == [
        "会议通知:第四季度联席会议(青石镇参会)",  # 3 Nov
        "新督办事项:第四季度联席会议 第1项(牵头 青石镇)",  # 5 Nov
        "催办:青石镇 任务二 2026年11月进展报告",  # 20 Nov
        "青石镇 任务一 2026年11月进展报告已审核通过",  # 21 Nov
        "青石镇:2026年11月进展报告3天后截止",  # 22 Nov = 25 − 3
        "督办事项3天后到期:第四季度联席会议 第1项(青石镇)",  # 24 Nov = 27 − 3
        "青石镇:2026年11月进展报告今天截止",  # 25 Nov
        "青石镇:2026年11月进展报告已逾期",  # 26 Nov
        "督办事项已逾期:第四季度联席会议 第1项(青石镇)",  # 28 Nov = 27 + 1
    ]
    due3 = next(r["text"] for r in robot.received if "3天后截止" in r["subject"] and r["path"] == "/wecom")
    # 任务一 was submitted on the 20th: the other five are owed
    assert "未报送:任务二、任务三、任务四、任务五、任务六" in due3
    assert "截止日期:2026年11月25日" in due3
    assert "查看:https://tracker.example.org/progress/todo" in due3
    # 柳溪镇's DingTalk group, every request signed
    assert robot.subjects("/dingtalk") == [
        "柳溪镇被亮黄牌(2026-Q3)",  # 2 Nov
        "柳溪镇黄牌(2026-Q3):整改方案3天后截止",  # 6 Nov = 9 − 3
        "柳溪镇黄牌(2026-Q3):整改方案逾期未交",  # 10 Nov = 9 + 1
        "柳溪镇:2026年11月进展报告3天后截止",
        "柳溪镇:2026年11月进展报告今天截止",
        "柳溪镇:2026年11月进展报告已逾期",
    ]
    # the reviewer's e-mail: the weeks with deadlines (Mondays 9 and 23 November) and the day a report waited
    assert [m["Subject"] for m in mailbox.messages] == [
        "本周截止事项(1项)",  # 9 Nov: 柳溪镇's plan due that day
        "待我处理:1份进展报告待审核",  # 20 Nov: 青石镇 任务一 submitted at 08:00
        "本周截止事项(2项)",  # 23 Nov: the report due day 25 Nov, the decision 27 Nov
    ]
    week = mailbox.messages[2].get_content()
    assert "2026年11月25日 2026年11月进展报告截止" in week
    assert "2026年11月27日 督办事项到期:第四季度联席会议 第1项(青石镇)" in week
    assert mailbox.messages[0]["From"].addresses[0].addr_spec == "tracker@example.org"

    # a second run of a day sends nothing new
    before = len(robot.received) + len(mailbox.messages)
    again = run(app, session, date(2026, 11, 26))
    assert (again.notifications, again.messages, sum(again.sent.values())) == (0, 0, 0)
    assert len(robot.received) + len(mailbox.messages) == before

    # 9 WeCom + 6 DingTalk + 3 e-mails, all sent
    statuses = session.scalars(select(Delivery.status)).all()
    assert len(statuses) == 18 and set(statuses) == {"sent"}


def _submit_and_urge(session, town1, reviewer, unit):
    r = progress.save_draft(
        session,
        town1,
        task_id=1,
        unit_id=unit.id,
        period="2026-11",
        fields={"progress": "张贴海报", "completion": "完成"},
    )
    progress.submit_report(session, town1, r.id, r.version)
    progress.urge(session, reviewer, task_id=2, unit_id=unit.id, period="2026-11")


def _accept(session, reviewer, unit):
    r = progress.find_report(session, 1, unit.id, "2026-11")
    progress.review_report(session, reviewer, r.id, r.version, "accept")
