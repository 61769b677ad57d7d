"""PDF reports: the figures in the PDF are the services' figures, the CJK font is embedded, user text cannot
make the PDF fetch anything, and a held meeting's briefing is archived byte for byte."""

from __future__ import annotations

import io
import logging
import re
from datetime import date
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from tracker.assessment import cards, results
from tracker.audit.models import AuditEvent
from tracker.desk.meeting import hold_meeting
from tracker.meetings import service as meetings
from tracker.metrics import service as metrics
from tracker.periods import Period
from tracker.plans.service import active_plan
from tracker.progress import service as progress
from tracker.reports import builders, pdf, service
from tracker.reports.models import BriefingArchive

from .assess_helpers import put_figures
from .conftest import get_unit, get_user

Q3 = Period.parse("2026-Q3")
STATIC = Path(__file__).resolve().parent.parent / "static"
HOSTILE = (
    '<img src="file:///etc/passwd"> <link rel="attachment" href="file:///etc/hosts"> '
    '<img src="http://example.com/track.png"> http://example.com/x'
)


def _text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


def _flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _fonts(data: bytes) -> dict[str, bool]:
    """Font name -> embedded, over every page."""
    out = {}
    for page in PdfReader(io.BytesIO(data)).pages:
        fonts = page.get("/Resources", {}).get("/Font", {})
        for ref in fonts.values():
            font = ref.get_object()
            desc = font.get("/FontDescriptor")
            if desc is None and "/DescendantFonts" in font:
                desc = font["/DescendantFonts"][0].get_object().get("/FontDescriptor")
            desc = desc.get_object() if desc is not None else {}
            out[str(font.get("/BaseFont"))] = any(k in desc for k in ("/FontFile", "/FontFile2", "/FontFile3"))
    return out


@pytest.fixture
def district(seeded, session, frozen):
    frozen(2026, 7, 20, 9)
    town, officer, reviewer = get_unit(session, "青石镇"), get_user(session, "town1"), get_user(session, "reviewer")
    for t, (last, now) in {"青石镇": (20, 31), "柳溪镇": (18, 12), "云岭镇": (25, 22)}.items():
        put_figures(session, "2025-07", t, cases=last, losses="12.50", arrests=5, solved=6)
        put_figures(session, "2026-07", t, cases=now, losses="10.25", arrests=7, solved=8)
    r = progress.save_draft(
        session,
        officer,
        task_id=3,
        unit_id=town.id,
        period="2026-07",
        fields={"progress": "张贴防骗海报120张 " + HOSTILE, "completion": "完成"},
    )
    r = progress.submit_report(session, officer, r.id, r.version)
    progress.review_report(session, reviewer, r.id, r.version, "accept")
    frozen(2026, 10, 12, 9)
    card = cards.issue_card(
        session,
        reviewer,
        unit_id=town.id,
        colour="red",
        period="2026-Q3",
        reason="第三季度发案同比上升55%,案件高发 " + HOSTILE,
    )
    session.commit()
    frozen(2026, 10, 20, 9)
    return {"town": town, "card": card, "plan": active_plan(session)}


def test_briefing_pdf_carries_the_services_figures(district, session, app):
    with app.test_request_context():
        data = service.briefing_data(session, Q3)
        body = service.to_pdf("briefing", data)
    text = _flat(_text(body))
    s = metrics.summary(session, Q3)
    assert f"{s.district['cases'].value}" in text and "两降两升" in text
    for u in s.units:
        if u.comparisons["cases"].value is not None:
            assert f"{u.rank}{u.unit.name}{u.comparisons['cases'].value}" in text
    snap, _ = results.results(session, district["plan"], Q3)
    first = snap["groups"]["township"][0]
    assert f"{first['unit']}{first['total']}" in text
    assert "案件高发" in text and "—1—" in text
    assert len(PdfReader(io.BytesIO(body)).pages) >= 4


def test_briefing_without_the_figures_does_not_call_the_goal_missed(district, session, app):
    with app.test_request_context():
        data = service.briefing_data(session, Period.parse("2026-Q1"))  # no figure entered for the quarter
        text = _flat(_text(service.to_pdf("briefing", data)))
    assert "“两降两升”数据不全" in text and "暂不能判断是否实现目标" in text
    assert "未实现“两降两升”" not in text


def test_cjk_font_is_named_and_embedded(district, session, app):
    with app.test_request_context():
        body = service.to_pdf("cards", builders.card_report(session, Q3, "开发区"))
    fonts = _fonts(body)
    cjk = {k: v for k, v in fonts.items() if "CJK" in k}
    assert cjk and all(cjk.values()), fonts


def test_user_text_never_makes_the_pdf_fetch_anything(district, session, app):
    with app.test_request_context():
        html = service.render_html("briefing", service.briefing_data(session, Q3), for_print=True)
        body, fetcher = pdf.render_pdf(html, STATIC)
    assert "&lt;img src=&#34;file:///etc/passwd&#34;&gt;" in html
    assert fetcher.refused == []  # escaped text asks for nothing
    assert b"/EmbeddedFile" not in body and b"/Subtype /Image" not in body and b"/URI" not in body
    assert "file:///etc/passwd" in _text(body)  # shown as the text it is


def test_the_fetcher_refuses_files_and_network_but_serves_static():
    html = (
        '<html><head><link rel="stylesheet" href="/static/report.css"></head><body>'
        '<img src="file:///etc/passwd"><img src="http://127.0.0.1:9/x.png">'
        '<a rel="attachment" href="file:///etc/hosts">x</a><img src="/static/../../etc/passwd">'
        '<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">汉字</body></html>'
    )
    body, fetcher = pdf.render_pdf(html, STATIC)
    refused = " ".join(fetcher.refused)
    assert "file:///etc/passwd" in refused and "127.0.0.1:9" in refused and "etc/passwd" in refused
    assert "report.css" not in refused
    assert b"/EmbeddedFile" not in body


def test_missing_cjk_font_fails_loudly(monkeypatch, caplog):
    monkeypatch.setattr(pdf, "cjk_font_installed", lambda family=pdf.CJK_FAMILY: False)
    with caplog.at_level(logging.ERROR), pytest.raises(pdf.FontMissing, match="fonts-noto-cjk"):
        pdf.render_pdf("<html><body>汉字</body></html>", STATIC)
    assert any("not installed" in r.message for r in caplog.records)


def test_held_meeting_briefing_is_archived_byte_for_byte(district, session, app, client, auth, frozen):
    reviewer = get_user(session, "reviewer")
    with app.test_request_context():
        m = meetings.schedule_meeting(
            session,
            reviewer,
            title="第三季度联席会议",
            meeting_date=date(2026, 10, 20),
            convener="区委政法委",
            unit_ids=[district["town"].id],
            period="2026-Q3",
        )
        m = hold_meeting(session, reviewer, m.id, m.version)
        session.commit()
    archive = session.scalar(select(BriefingArchive).where(BriefingArchive.meeting_id == m.id))
    assert archive.version == 1 and len(archive.sha256) == 64
    auth.login("reviewer")
    first = client.get(f"/reports/briefing.pdf?meeting={m.id}").data
    assert first == archive.pdf
    put_figures(session, "2026-07", "柳溪镇", cases=99, losses="10.25", arrests=7, solved=8)  # data changes
    assert client.get(f"/reports/briefing.pdf?meeting={m.id}").data == first
    assert archive.sha256 in client.get(f"/reports/briefing?meeting={m.id}").get_data(as_text=True)
    # regenerating is explicit, needs a reason and is audited; the new version is served from then on
    assert client.post(f"/reports/meetings/{m.id}/regenerate", data={"reason": ""}).status_code == 302
    assert session.scalar(select(BriefingArchive.version).order_by(BriefingArchive.version.desc())) == 1
    client.post(f"/reports/meetings/{m.id}/regenerate", data={"reason": "公安分局更正7月数据"})
    second = client.get(f"/reports/briefing.pdf?meeting={m.id}").data
    assert second != first and "99" in _text(second)
    events = session.scalars(
        select(AuditEvent.summary).where(AuditEvent.action == "briefing.archive").order_by(AuditEvent.id)
    ).all()
    assert len(events) == 2 and "公安分局更正7月数据" in events[1]


def test_briefing_follows_up_the_previous_meetings_decisions_and_earlier_open_ones(district, session, app, frozen):
    reviewer, town = get_user(session, "reviewer"), district["town"]

    def held(title, on, period):
        m = meetings.schedule_meeting(
            session, reviewer, title=title, meeting_date=on, convener="区委政法委", unit_ids=[town.id], period=period
        )
        # held without the archive job (its render is another test's): the briefing reads decisions, not archives
        return meetings.mark_held(session, reviewer, m.id, m.version)

    def decide(m, text, deadline):
        return meetings.record_decision(
            session, reviewer, m.id, text=text, lead_unit_id=town.id, supporting_unit_ids=[], deadline=deadline
        )

    def close(d):
        d = meetings.answer_decision(session, get_user(session, "town1"), d.id, d.version, "已落实")
        meetings.review_decision(session, reviewer, d.id, d.version, "close", "")

    with app.test_request_context():
        frozen(2026, 4, 20, 9)
        first = held("第一季度联席会议", date(2026, 4, 20), "2026-Q1")
        reported = decide(first, "开展校园反诈宣传", date(2026, 6, 30))
        still_open = decide(first, "建立劝阻回访台账", date(2026, 12, 31))
        close(reported)  # closed before the next meeting, which reported it
        frozen(2026, 7, 20, 9)
        second = held("第二季度联席会议", date(2026, 7, 20), "2026-Q2")
        decide(second, "推进涉诈银行卡清理", date(2026, 9, 30))
        session.commit()
        frozen(2026, 10, 20, 9)
        data = service.briefing_data(session, Q3)
        assert [d.text for d in data.earlier_decisions] == ["建立劝阻回访台账", "推进涉诈银行卡清理"]
        assert data.previous_meeting_title == "第二季度联席会议" and data.previous_meeting_date == date(2026, 7, 20)
        text = _flat(_text(service.to_pdf("briefing", data)))
    assert "前次会议“第二季度联席会议”(2026年7月20日)的全部议定事项" in text
    assert "建立劝阻回访台账" in text and "开展校园反诈宣传" not in text
    assert still_open.id in {d.id for d in data.earlier_decisions}


def test_report_pages_and_downloads(district, session, client, auth):
    auth.login("reviewer")
    html = client.get("/reports/briefing?period=2026-Q3").get_data(as_text=True)
    assert "两降两升" in html and "<svg" in html and "下载PDF" in html
    resp = client.get("/reports/cards.pdf?period=2026-Q3")
    assert resp.mimetype == "application/pdf" and resp.data.startswith(b"%PDF")
    assert "案件高发" in _flat(_text(resp.data))
    auth.logout()
    auth.login("town1")
    assert client.get("/reports/briefing?period=2026-Q3").status_code == 403
    own = client.get("/reports/scorecard.pdf?period=2026-Q3")
    assert own.mimetype == "application/pdf" and "青石镇" in _flat(_text(own.data))
    other = get_unit(session, "柳溪镇").id
    assert client.get(f"/reports/scorecard?unit={other}&period=2026-Q3").status_code == 403


def test_report_cli_writes_pdfs(district, app, tmp_path):
    runner = app.test_cli_runner()
    for args in (
        ["report", "cards", "--period", "2026-Q3"],
        ["report", "scorecard", "--unit", "青石镇", "--period", "2026-Q3"],
    ):
        out = tmp_path / "r.pdf"
        result = runner.invoke(args=[*args, "-o", str(out)])
        assert result.exit_code == 0, result.output
        assert out.read_bytes().startswith(b"%PDF")
    result = runner.invoke(args=["report", "scorecard", "--unit", "无此镇", "--period", "2026-Q3", "-o", "x.pdf"])
    assert result.exit_code != 0 and "不存在" in result.output
