"""The holiday calendar: deadlines across New Year, years not entered flagged, the administrator's page (import a
notice, one date a line, add and remove days), audited."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from tracker.assessment import cards, holidays
from tracker.assessment.models import Holiday, HolidayYear
from tracker.audit.models import AuditEvent
from tracker.errors import PermissionDenied, ValidationError

from .conftest import get_unit, get_user

# The State Council's notice of 4 November 2025 for 2026, as published.
NOTICE_2026 = """国务院办公厅关于2026年部分节假日安排的通知
各省、自治区、直辖市人民政府,国务院各部委、各直属机构:
经国务院批准,现将2026年元旦、春节、清明节、劳动节、端午节、中秋节和国庆节放假调休日期的具体安排通知如下。
一、元旦:1月1日(周四)至3日(周六)放假调休,共3天。1月4日(周日)上班。
二、春节:2月15日(农历腊月二十八、周日)至23日(农历正月初七、周一)放假调休,共9天。2月14日(周六)、2月28日(周六)上班。
三、清明节:4月4日(周六)至6日(周一)放假,共3天。
四、劳动节:5月1日(周五)至5日(周二)放假调休,共5天。5月9日(周六)上班。
五、端午节:6月19日(周五)至21日(周日)放假,共3天。
六、中秋节:9月25日(周五)至27日(周日)放假,共3天。
七、国庆节:10月1日(周四)至7日(周三)放假调休,共7天。9月20日(周日)、10月10日(周六)上班。
国务院办公厅
2025年11月4日"""


@pytest.fixture
def ready(seeded, session, frozen):
    frozen(2026, 12, 28, 9)
    return session


def _yellow(session):
    return cards.issue_card(
        session,
        get_user(session, "reviewer"),
        unit_id=get_unit(session, "青石镇").id,
        colour="yellow",
        reason="宣传滞后",
        period="2026-Q4",
    )


def test_plan_due_across_new_year_skips_new_years_day(ready, client, auth):
    card = _yellow(ready)
    ready.commit()
    # issued Monday 28 December 2026: 29, 30, 31 December are working days 1-3; Friday 1 January 2027 is 元旦
    # (the statutory day, seeded); 2-3 January a weekend; Monday 4 January is 4, Tuesday 5 January is 5
    assert card.plan_due == date(2027, 1, 5)
    # 30 days is Wednesday 27 January 2027, a working day by weekends alone
    assert card.deadline == date(2027, 1, 27)
    auth.login("reviewer")
    page = client.get(f"/cards/{card.id}").get_data(as_text=True)
    assert "节假日安排未录入:2027年" in page
    auth.logout()
    auth.login("admin")
    home = client.get("/").get_data(as_text=True)
    assert "2027年</strong>的节假日安排未录入,1张生效中的红黄牌" in home and f"/cards/{card.id}" in home


def test_a_deadline_in_an_entered_year_is_not_flagged(seeded, session, frozen, client, auth):
    frozen(2026, 9, 25, 9)
    card = _yellow(session)
    session.commit()
    auth.login("reviewer")
    assert "节假日安排未录入" not in client.get(f"/cards/{card.id}").get_data(as_text=True)
    auth.logout()
    auth.login("admin")
    assert "节假日安排未录入" not in client.get("/").get_data(as_text=True)  # 2026 is entered, no card in 2027


def test_the_notice_is_read_as_published(ready):
    days = holidays.parse_schedule(2026, NOTICE_2026)
    off = [d.day for d in days if not d.is_workday]
    work = [d.day for d in days if d.is_workday]
    # weekday days off: 元旦 1-2 Jan (3rd a Saturday); 春节 16-20 and 23 Feb; 清明 6 Apr; 劳动节 1, 4, 5 May;
    # 端午 19 Jun; 中秋 25 Sep; 国庆 1, 2, 5, 6, 7 Oct: 2 + 6 + 1 + 3 + 1 + 1 + 5 = 19
    assert len(off) == 19
    assert work == [date(2026, 1, 4), date(2026, 2, 14), date(2026, 2, 28), date(2026, 5, 9), date(2026, 9, 20),
                    date(2026, 10, 10)]  # fmt: skip
    # the seed was entered from the same notice: the two agree day for day
    seeded = {(h.day, h.is_workday) for h in ready.scalars(select(Holiday)) if h.day.year == 2026}
    assert {(d.day, d.is_workday) for d in days} == seeded
    names = {d.day: d.name for d in days}
    assert names[date(2026, 2, 23)] == "春节" and names[date(2026, 2, 14)] == "春节调休"


def test_the_short_form_of_the_brief_is_read(ready):
    days = holidays.parse_schedule(2026, "1月1日至3日放假,1月4日(星期日)上班")
    assert [(d.day, d.is_workday) for d in days] == [
        (date(2026, 1, 1), False),
        (date(2026, 1, 2), False),  # 3 January is a Saturday: off anyway
        (date(2026, 1, 4), True),
    ]


def test_bad_schedules_get_a_clear_message(ready):
    with pytest.raises(ValidationError, match="2027-01-04本是工作日"):
        holidays.parse_schedule(2027, "1月4日上班")  # Monday 4 January 2027
    with pytest.raises(ValidationError, match="没有识别出"):
        holidays.parse_schedule(2027, "国务院办公厅\n请各单位遵照执行")
    with pytest.raises(ValidationError, match="不是有效日期"):
        holidays.parse_schedule(2027, "2027-02-30 休 春节")
    with pytest.raises(ValidationError, match="看不出是放假还是上班"):
        holidays.parse_schedule(2027, "元旦:1月1日")
    with pytest.raises(PermissionDenied):
        holidays.import_year(ready, get_user(ready, "reviewer"), 2027, "2027-01-01 休 元旦")


def test_administrator_imports_a_year_and_the_flag_goes(ready, client, auth):
    card = _yellow(ready)
    ready.commit()
    auth.login("admin")
    page = client.get("/admin/calendar/?year=2027").get_data(as_text=True)
    assert "节假日安排未录入" in page and f"#{card.id}" in page
    # a made-up schedule in the one-date-a-line form (not the official 2027 one), with a bad line first
    bad = "2027-01-01 休 元旦\n2027-01-04 班 元旦调休"  # Monday 4 January is a working day already
    html = client.post("/admin/calendar/import", data={"year": 2027, "text": bad}).get_data(as_text=True)
    assert "2027-01-04本是工作日" in html and "2027-01-04 班 元旦调休" in html  # the text is shown back
    assert ready.get(HolidayYear, 2027) is None
    text = "2027-01-01 休 元旦\n2027-02-06 班 春节调休\n2027-02-08 春节"  # Saturday 6 Feb, Monday 8 Feb
    resp = client.post("/admin/calendar/import", data={"year": 2027, "text": text, "source": "测试安排"})
    assert resp.status_code == 302
    page = client.get("/admin/calendar/?year=2027").get_data(as_text=True)
    assert "已录入" in page and "测试安排" in page and f"#{card.id}" in page  # the flash names the card
    ready.expire_all()
    got = [(h.day, h.is_workday, h.name) for h in holidays.year_view(ready, 2027).days]
    assert got == [
        (date(2027, 1, 1), False, "元旦"),
        (date(2027, 2, 6), True, "春节调休"),
        (date(2027, 2, 8), False, "春节"),
    ]
    assert "节假日安排未录入" not in client.get(f"/cards/{card.id}").get_data(as_text=True)
    assert "节假日安排未录入" not in client.get("/").get_data(as_text=True)
    event = ready.scalar(select(AuditEvent).where(AuditEvent.action == "holiday.import"))
    assert event.after["cards"] == [card.id] and len(event.after["days"]) == 3


def test_administrator_adds_and_removes_a_day(ready, client, auth):
    auth.login("reviewer")
    assert client.get("/admin/calendar/").status_code == 403
    auth.logout()
    auth.login("admin")
    client.post("/admin/calendar/days", data={"day": "2027-02-10", "kind": "off", "name": "春节"})
    assert ready.get(Holiday, date(2027, 2, 10)).name == "春节"
    html = client.post(
        "/admin/calendar/days", data={"day": "2027-02-13", "kind": "off", "name": ""}, follow_redirects=True
    ).get_data(as_text=True)
    assert "是周末,本就休息" in html  # Saturday 13 February
    client.post("/admin/calendar/days/2027-02-10/delete")
    ready.expire_all()
    assert ready.get(Holiday, date(2027, 2, 10)) is None
    actions = [e.action for e in ready.scalars(select(AuditEvent).where(AuditEvent.action.like("holiday.%")))]
    assert actions == ["holiday.add", "holiday.remove"]
    client.post("/admin/calendar/years", data={"year": 2027, "entered": "1"})
    assert ready.get(HolidayYear, 2027) is not None
