"""The briefing's document number (发文字号): set by the administrator, taken when a meeting's briefing is archived,
kept by later versions, never given twice; shown in the 版头 of the PDF."""

from __future__ import annotations

import io
import re
from datetime import date

from pypdf import PdfReader
from sqlalchemy import select

from tracker.audit.models import AuditEvent
from tracker.desk.meeting import hold_meeting
from tracker.meetings import service as meetings
from tracker.reports import official
from tracker.reports.models import BriefingArchive, DocumentNumber

from .conftest import get_unit, get_user


def _text(data: bytes) -> str:
    return re.sub(r"\s+", "", "".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages[:1]))


def _hold(session, app, title: str, on: date):
    reviewer = get_user(session, "reviewer")
    with app.test_request_context():
        m = meetings.schedule_meeting(
            session,
            reviewer,
            title=title,
            meeting_date=on,
            convener="区委政法委",
            unit_ids=[get_unit(session, "青石镇").id],
            period="2026-Q3",
        )
        m = hold_meeting(session, reviewer, m.id, m.version)
        session.commit()
    return m


def test_the_administrator_sets_the_number_and_each_archived_briefing_takes_the_next(
    seeded, session, app, client, auth, frozen
):
    frozen(2026, 10, 20, 9)
    auth.login("admin")
    page = client.get("/reports/numbering").get_data(as_text=True)
    assert "发文字号" in page
    version = official.numbering(session).version
    resp = client.post(
        "/reports/numbering",
        data={
            "prefix": "X反诈联办",
            "year": "2026",
            "next_seq": "3",
            "copy_to": "区委政法委、区公安分局",
            "version": version,
        },
    )
    assert resp.status_code == 302
    assert "X反诈联办〔2026〕3号" in client.get("/reports/numbering").get_data(as_text=True)
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "documents.numbering")).one()
    assert "X反诈联办〔2026〕3号" in event.summary

    first = _hold(session, app, "第三季度联席会议", date(2026, 10, 20))
    archive = session.scalar(select(BriefingArchive).where(BriefingArchive.meeting_id == first.id))
    text = _text(archive.pdf)
    assert "X反诈联办〔2026〕3号" in text and "开发区打击治理电信网络诈骗犯罪工作联席会议办公室" in text
    # a new version of the same briefing keeps its number; the next meeting takes 4
    auth.logout()
    auth.login("reviewer")
    client.post(f"/reports/meetings/{first.id}/regenerate", data={"reason": "更正7月数据"})
    second_version = session.scalar(
        select(BriefingArchive).where(BriefingArchive.meeting_id == first.id, BriefingArchive.version == 2)
    )
    assert "X反诈联办〔2026〕3号" in _text(second_version.pdf)
    second = _hold(session, app, "第三季度联席会议(补充)", date(2026, 10, 19))
    numbers = session.scalars(select(DocumentNumber.text).order_by(DocumentNumber.seq)).all()
    assert numbers == ["X反诈联办〔2026〕3号", "X反诈联办〔2026〕4号"]
    assert "〔2026〕4号" in _text(
        session.scalar(select(BriefingArchive.pdf).where(BriefingArchive.meeting_id == second.id))
    )

    # a number once taken is never given again: setting the next one back to 4 is refused, nothing saved
    auth.logout()
    auth.login("admin")
    version = official.numbering(session).version
    page = client.post(
        "/reports/numbering",
        data={"prefix": "X反诈联办", "year": "2026", "next_seq": "4", "copy_to": "", "version": version},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "2026年已用到第4号,下一个序号须大于4(文号不得重复使用)" in page
    session.expire_all()
    assert official.numbering(session).next_seq == 5  # after 3 and 4 were taken


def test_an_unarchived_briefing_leaves_the_sequence_blank_and_officers_cannot_set_numbers(
    seeded, session, client, auth, frozen
):
    frozen(2026, 10, 20, 9)
    auth.login("reviewer")
    body = client.get("/reports/briefing.pdf?period=2026-Q3").data
    assert "反诈联办〔2026〕号" in _text(body)  # 〔2026〕 then a blank before 号
    assert client.get("/reports/numbering").status_code == 403
    auth.logout()
    auth.login("town1")
    assert client.get("/reports/numbering").status_code == 403


def test_titles_break_between_words():
    assert official.title_lines("2026年第三季度打击治理电信网络诈骗工作通报") == [
        "2026年第三季度",
        "打击治理电信网络诈骗工作通报",
    ]
    assert official.title_lines("高新技术产业开发区管理委员会2026年第三季度考评记分卡") == [
        "高新技术产业开发区管理委员会",
        "2026年第三季度考评记分卡",
    ]
    assert official.title_lines("2026年第三季度红黄牌考评通报") == ["2026年第三季度红黄牌考评通报"]


def test_a_fangsong_face_is_used_only_when_it_covers_the_text():
    # cwTeX 仿宋 (fonts-cwtex-fs) is a traditional-Chinese face: 两 (U+4E24) is not in it, so a briefing saying
    # 两降两升 is set in the serif
    faces = official.choose_faces("<p>两降两升</p><h3>（一）全区情况</h3>")
    assert faces.body == official.SERIF
    assert faces.kai == official.KAI  # AR PL UKai CN covers the heading
    assert official.missing_glyphs("No Such Face", "两") == "两"
