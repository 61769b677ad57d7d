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


def test_a_failing_robot_is_retried_then_given_up_and_nothing_else_is_lost(
    seeded, session, client, auth, robot, caplog
):
    app = seeded
    app.config.update(NOTIFY_TIMEOUT=0.5)
    admin = get_user(session, "admin")
    towns = {n: get_unit(session, n) for n in ("青石镇", "柳溪镇", "云岭镇")}
    at(date(2026, 11, 22), 7)
    service.add_channel(
        session, admin, kind="wecom", target=f"{robot.url}/fail?key=FAILKEY5550001", unit_id=towns["青石镇"].id
    )
    service.add_channel(
        session, admin, kind="wecom", target=f"{robot.url}/slow?key=SLOWKEY5550002", unit_id=towns["柳溪镇"].id
    )
    service.add_channel(
        session, admin, kind="wecom", target=f"{robot.url}/ok?key=GOODKEY5550003", unit_id=towns["云岭镇"].id
    )
    session.commit()
    caplog.set_level(logging.DEBUG)

    first = run(app, session, date(2026, 11, 22))  # 08:30: one try each
    assert (first.sent["wecom"], first.failed["wecom"]) == (1, 2)
    rows = {d.channel.unit.name: d for d in session.scalars(select(Delivery))}
    assert (rows["青石镇"].status, rows["青石镇"].attempts, rows["青石镇"].last_error) == ("retry", 1, "HTTP 500")
    assert rows["柳溪镇"].status == "retry" and "超时" in rows["柳溪镇"].last_error
    assert rows["云岭镇"].status == "sent"
    # retried 1 minute after the first try, then 5 minutes after the second: 08:31, 08:36
    assert clock.local(rows["青石镇"].next_attempt_at).strftime("%H:%M") == "08:31"
    at(date(2026, 11, 22), 8, 31)
    service.deliver_all(session, app.config)
    assert clock.local(session.get(Delivery, rows["青石镇"].id).next_attempt_at).strftime("%H:%M") == "08:36"
    at(date(2026, 11, 22), 8, 35)  # not due yet: nothing is tried
    assert service.deliver_all(session, app.config).failed["wecom"] == 0
    at(date(2026, 11, 22), 8, 36)
    third = service.deliver_all(session, app.config)
    assert third.failed["wecom"] == 2
    # 3 tries at /fail and 3 at /slow; 1 at /ok
    assert [r["path"] for r in robot.received].count("/fail") == 3
    assert [r["path"] for r in robot.received].count("/slow") == 3
    assert [r["path"] for r in robot.received].count("/ok") == 1

    auth.login("admin")
    page = client.get("/admin/deliveries?status=failed").get_data(as_text=True)
    assert page.count("已放弃") >= 2 and "HTTP 500" in page and "超时未应答" in page
    assert "青石镇:2026年11月进展报告3天后截止" in page
    # keys never shown or logged
    for key in ("FAILKEY5550001", "SLOWKEY5550002", "GOODKEY5550003"):
        assert key not in page
        assert key not in caplog.text
        assert key not in client.get("/admin/channels").get_data(as_text=True)
    assert "key=****0001" in client.get("/admin/channels").get_data(as_text=True)


def test_notification_centre_bell_and_reviewer_panel(seeded, session, client, auth):
    town1, reviewer = get_user(session, "town1"), get_user(session, "reviewer")
    qingshi = get_unit(session, "青石镇")
    at(date(2026, 11, 20), 8, 0)
    _submit_and_urge(session, town1, reviewer, qingshi)
    session.commit()
    at(date(2026, 11, 22))
    service.run_day(session, date(2026, 11, 22), seeded.config)
    session.commit()

    auth.login("town1")
    home = client.get("/progress/todo").get_data(as_text=True)
    assert "通知 <span" in home and ">2</span>" in home  # the urge and the due-in-3-days reminder
    inbox = client.get("/notifications").get_data(as_text=True)
    assert inbox.count("未读</strong>") == 2
    assert "催办:青石镇 任务二 2026年11月进展报告" in inbox
    assert "青石镇:2026年11月进展报告3天后截止" in inbox
    urge = session.scalar(
        select(service.Notification).where(
            service.Notification.user_id == town1.id, service.Notification.kind == "urge"
        )
    )
    r = client.post(f"/notifications/{urge.id}/read", data={"next": urge.link})
    assert r.status_code == 302 and r.location.endswith(f"/progress/tasks/2/units/{qingshi.id}/2026-11")
    assert "未读</strong>" in client.get("/notifications?unread=1").get_data(as_text=True)
    assert client.get("/notifications?unread=1").get_data(as_text=True).count("未读</strong>") == 1
    auth.logout()

    # another user cannot mark it
    auth.login("town2")
    assert client.post(f"/notifications/{urge.id}/read").status_code == 404
    auth.logout()

    auth.login("reviewer")
    page = client.get("/").get_data(as_text=True)
    assert "待我处理" in page and "进展报告待审核(1)" in page and "青石镇 任务一 2026年11月" in page
    # the week of 22 November: the report due day, 25 November
    assert "2026年11月25日" in page and "2026年11月进展报告截止" in page
    assert "待我处理:1份进展报告待审核" in client.get("/notifications").get_data(as_text=True)


def test_channels_page_and_cli_are_audited_and_validated(seeded, session, client, auth):
    from tracker.audit.models import AuditEvent

    runner = seeded.test_cli_runner()
    out = runner.invoke(
        args=[
            "notify",
            "channels",
            "add",
            "--unit",
            "青石镇",
            "--kind",
            "dingtalk",
            "--target",
            "https://oapi.dingtalk.com/robot/send?access_token=ABCDEFGH12345678",
            "--secret",
            "SECsecretvalue99",
        ]
    )
    assert out.exit_code == 0, out.output
    assert "access_token=****5678" in out.output and "ABCDEFGH" not in out.output
    listed = runner.invoke(args=["notify", "channels", "list"]).output
    assert "青石镇 dingtalk https://oapi.dingtalk.com/robot/send?access_token=****5678 (signed)" in listed
    assert "SECsecretvalue99" not in listed
    bad = runner.invoke(
        args=["notify", "channels", "add", "--unit", "青石镇", "--kind", "email", "--target", "not-an-address"]
    )
    assert bad.exit_code != 0 and "请填写有效的电子邮件地址" in bad.output

    auth.login("admin")
    unit = get_unit(session, "柳溪镇")
    r = client.post("/admin/channels", data={"owner": f"unit:{unit.id}", "kind": "wecom", "target": "ftp://x"})
    assert r.status_code == 422 and "Webhook 地址" in r.get_data(as_text=True)
    r = client.post(
        "/admin/channels",
        data={
            "owner": f"unit:{unit.id}",
            "kind": "wecom",
            "target": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=WXKEY000111222",
        },
    )
    assert r.status_code == 302
    ch = session.scalar(select(service.Channel).where(service.Channel.unit_id == unit.id))
    r = client.post(
        f"/admin/channels/{ch.id}",
        data={"kind": "wecom", "target": ch.target, "digest": "y", "active": "y", "version": ch.version},
    )
    assert r.status_code == 302
    r = client.post(
        f"/admin/channels/{ch.id}/delete", data={"version": ch.version}, follow_redirects=True
    )  # the same session: already the saved version
    assert "通知渠道已删除,发送记录保留" in r.get_data(as_text=True)
    actions = session.scalars(
        select(AuditEvent.action).where(AuditEvent.action.like("channel.%")).order_by(AuditEvent.id)
    ).all()
    assert actions == ["channel.create", "channel.create", "channel.update", "channel.delete"]
    trail = " ".join(str(e.before) + str(e.after) + e.summary for e in session.scalars(select(AuditEvent)))
    for secret in ("ABCDEFGH12345678", "SECsecretvalue99", "WXKEY000111222"):
        assert secret not in trail


def test_notify_run_cli_prints_per_channel_and_a_rerun_sends_nothing(seeded, session, robot):
    runner = seeded.test_cli_runner()
    runner.invoke(
        args=[
            "notify",
            "channels",
            "add",
            "--unit",
            "青石镇",
            "--kind",
            "wecom",
            "--target",
            f"{robot.url}/ok?key=K1234567890",
        ]
    )
    clock.freeze(datetime(2026, 11, 25, 8, 30, tzinfo=clock.CHINA_TZ))
    first = runner.invoke(args=["notify", "run", "--today", "2026-11-25"])
    assert "wecom: 1 sent, 0 failed" in first.output
    second = runner.invoke(args=["notify", "run", "--today", "2026-11-25"])
    assert "wecom: 0 sent, 0 failed" in second.output and "0 new notification(s)" in second.output
    assert robot.subjects("/ok") == ["青石镇:2026年11月进展报告今天截止"]


def test_a_digest_channel_gets_one_message_a_day(seeded, session, robot):
    admin, town1, reviewer = get_user(session, "admin"), get_user(session, "town1"), get_user(session, "reviewer")
    qingshi = get_unit(session, "青石镇")
    at(date(2026, 11, 19), 9)
    service.add_channel(
        session, admin, kind="wecom", target=f"{robot.url}/digest?key=DIGEST123456", unit_id=qingshi.id, digest=True
    )
    session.commit()
    at(date(2026, 11, 20), 8, 0)
    _submit_and_urge(session, town1, reviewer, qingshi)
    session.commit()
    run(seeded, session, date(2026, 11, 22))  # the urge of the 20th and the due-in-3-days reminder: one message
    run(seeded, session, date(2026, 11, 22))
    assert robot.subjects("/digest") == ["青石镇 每日提醒(2026年11月22日,共2条)"]
    text = robot.received[0]["text"]
    assert "1. 催办:青石镇 任务二 2026年11月进展报告" in text and "2. 青石镇:2026年11月进展报告3天后截止" in text


def test_a_failed_briefing_render_is_retried_then_shown_with_its_reason_and_the_meeting_stays_held(
    seeded, session, client, auth, monkeypatch
):
    from tracker.reports import service as reports
    from tracker.reports.archive_job import ARCHIVE, job_state

    seeded.config["QUEUE_RETRY_DELAY"] = 0
    reviewer = get_user(session, "reviewer")
    at(date(2026, 11, 5), 9)
    m = meetings.schedule_meeting(
        session,
        reviewer,
        title="第四季度联席会议",
        meeting_date=date(2026, 11, 5),
        convener="区委政法委",
        unit_ids=[get_unit(session, "青石镇").id],
        period="2026-Q3",
    )
    session.commit()
    calls = []

    def broken(*args, **kwargs):
        calls.append(1)
        raise RuntimeError("字体文件缺失")

    monkeypatch.setattr(reports, "to_pdf", broken)
    auth.login("reviewer")
    r = client.post(f"/meetings/{m.id}/hold", data={"version": m.version})
    assert r.status_code == 302
    assert len(calls) == 3  # tried three times
    status = client.get(f"/jobs/briefing/{m.id}").get_json()
    assert status == {"state": "failed", "attempts": 3, "error": "RuntimeError: 字体文件缺失"}
    page = client.get(f"/meetings/{m.id}").get_data(as_text=True)
    assert "已召开" in page and "通报生成失败(已尝试3次):RuntimeError: 字体文件缺失" in page

    monkeypatch.undo()
    client.post(f"/jobs/briefing/{m.id}/retry")
    status = client.get(f"/jobs/briefing/{m.id}").get_json()
    assert status["state"] == "done" and status["version"] == 1 and len(status["sha256"]) == 64
    assert job_state(session, ARCHIVE, m.id).state == "done"
    assert "SHA-256" in client.get(f"/meetings/{m.id}").get_data(as_text=True)
