"""佐证材料 submitted with a card's rectification plan and with a decision's feedback, read under the parent's rules."""

from __future__ import annotations

import hashlib
import io
from datetime import date

import pytest

from tracker.assessment import cards
from tracker.assessment.models import Rectification
from tracker.evidence import service as evidence
from tracker.meetings import service as meetings
from tracker.meetings.models import DecisionEvent

from . import evidence_files as files
from .conftest import get_unit, get_user


@pytest.fixture
def world(seeded, session, frozen):
    frozen(2026, 11, 10, 9)
    town = get_unit(session, "青石镇")
    reviewer = get_user(session, "reviewer")
    card = cards.issue_card(
        session, reviewer, unit_id=town.id, colour="yellow", reason="宣传工作滞后", period="2026-Q3"
    )
    m = meetings.schedule_meeting(
        session,
        reviewer,
        title="第三季度联席会议",
        meeting_date=date(2026, 11, 5),
        convener="区委政法委书记",
        unit_ids=[town.id],
        period="2026-Q3",
    )
    d = meetings.record_decision(
        session, reviewer, m.id, text="开展入户宣传", lead_unit_id=town.id, deadline=date(2026, 11, 30)
    )
    session.commit()
    return {"card_id": card.id, "decision_id": d.id, "decision_version": d.version}


def _multipart(client, url, data):
    return client.post(url, data=data, content_type="multipart/form-data")


def _status(client, url) -> int:
    resp = client.get(url)
    resp.close()
    return resp.status_code


def test_a_rectification_plan_carries_its_photos(client, auth, session, world):
    auth.login("town1")
    card_url = f"/cards/{world['card_id']}"
    resp = _multipart(
        client,
        f"{card_url}/rectify",
        {
            "kind": "plan",
            "text": "一、开展校园宣讲;二、入户走访",
            "evidence": [(io.BytesIO(files.photo()), "宣讲.jpg"), (io.BytesIO(files.xlsx()), "走访台账.xlsx")],
        },
    )
    assert resp.status_code == 302
    rect = session.query(Rectification).one()
    atts = evidence.for_owner(session, "rectification", rect.id)
    assert [(a.name, a.kind) for a in atts] == [("宣讲.jpg", "jpeg"), ("走访台账.xlsx", "xlsx")]
    page = client.get(card_url).get_data(as_text=True)
    assert 'alt="照片:宣讲.jpg"' in page and "走访台账.xlsx" in page
    assert "删除" not in page  # once submitted, a plan's files stay as filed
    auth.logout()
    auth.login("reviewer")
    assert _status(client, f"/evidence/{atts[0].id}") == 200
    auth.logout()
    auth.login("town2")  # another town may not see 青石镇's card, nor its files
    assert _status(client, f"/evidence/{atts[0].id}") == 403
    assert _status(client, f"/evidence/{atts[1].id}") == 403


def test_a_macro_workbook_refuses_the_rectification_plan(client, auth, session, world):
    auth.login("town1")
    resp = _multipart(
        client,
        f"/cards/{world['card_id']}/rectify",
        {"kind": "plan", "text": "整改方案", "evidence": [(io.BytesIO(files.xlsm_as_xlsx()), "台账.xlsx")]},
    )
    assert resp.status_code == 302
    assert session.query(Rectification).count() == 0  # nothing filed: the plan waits for a clean file
    page = client.get(f"/cards/{world['card_id']}").get_data(as_text=True)
    assert "“台账.xlsx”含有宏(VBA),不能上传" in page


def test_decision_feedback_carries_its_files(client, auth, session, world):
    auth.login("town1")
    url = f"/meetings/decisions/{world['decision_id']}"
    resp = _multipart(
        client,
        f"{url}/answer",
        {
            "version": str(world["decision_version"]),
            "feedback": "已入户走访320户,发放资料500份",
            "evidence": [(io.BytesIO(files.docx()), "走访记录.docx")],
        },
    )
    assert resp.status_code == 302
    event = session.query(DecisionEvent).filter_by(action="answer").one()
    (att,) = evidence.for_owner(session, "feedback", event.id)
    assert att.kind == "docx"
    auth.logout()
    auth.login("reviewer")
    page = client.get(url).get_data(as_text=True)
    assert "走访记录.docx" in page and f'href="/evidence/{att.id}"' in page
    resp = client.get(f"/evidence/{att.id}")
    assert resp.headers["Content-Disposition"].startswith("attachment;")
    assert hashlib.sha256(resp.data).hexdigest() == att.sha256  # the bytes as uploaded
    resp.close()
    auth.logout()
    auth.login("town2")
    assert _status(client, f"/evidence/{att.id}") == 403


def test_the_briefing_counts_the_files_per_unit(seeded, session, frozen, client, auth):
    frozen(2026, 11, 10, 9)
    from tracker.progress import service as progress

    def report(username, unit_name, period, n):
        officer, unit = get_user(session, username), get_unit(session, unit_name)
        r = progress.save_draft(
            session, officer, task_id=3, unit_id=unit.id, period=period, fields={"progress": "宣传"}
        )
        for i in range(n):
            evidence.store(
                session, officer, "report", r.id, files.upload(files.pdf(f"{unit_name}{period}{i}"), "x.pdf")
            )

    report("town1", "青石镇", "2026-11", 2)
    report("town2", "柳溪镇", "2026-11", 1)
    report("town1", "青石镇", "2026-10", 1)
    session.commit()
    auth.login("reviewer")
    # November: 青石镇 2 + 柳溪镇 1 = 3; the fourth quarter adds 青石镇's October file: 3 + 1 = 4
    month = client.get("/reports/briefing?period=2026-11").get_data(as_text=True)
    assert "本期进展报告所附佐证材料共3个:青石镇2个、柳溪镇1个。" in month
    quarter = client.get("/reports/briefing?period=2026-Q4").get_data(as_text=True)
    assert "本期进展报告所附佐证材料共4个:青石镇3个、柳溪镇1个。" in quarter
    assert "本期进展报告所附佐证材料:无。" in client.get("/reports/briefing?period=2026-09").get_data(as_text=True)
