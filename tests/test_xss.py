"""Stored XSS: hostile text in every free-text field renders inert on every page."""

from __future__ import annotations

import pytest
from flask import url_for

from tracker.auth import service as auth_service
from tracker.org import service as org_service
from tracker.progress import service as progress

from .conftest import get_unit, get_user
from .test_routes import LOGINS, ROUTES, sample_args  # noqa: F401  (sample_args is a fixture)

PAYLOADS = [
    '<script>alert("xss")</script>',
    '"><img src=x onerror=alert(1)>',
    "' onmouseover='alert(1)",
    "javascript:alert(1)",
]
TEXT = " ".join(PAYLOADS)
RAW_MARKERS = [
    '<script>alert("xss")',
    "<img src=x onerror",
    "onmouseover='alert",
    'href="javascript:',
    "href='javascript:",
    'src="javascript:',
]


@pytest.fixture
def hostile(seeded, session, sample_args, frozen):  # noqa: F811
    frozen(2026, 11, 12, 9)
    admin, reviewer = get_user(session, "admin"), get_user(session, "reviewer")
    town = get_unit(session, "青石镇")
    officer = get_user(session, "town1")
    fields = {"progress": TEXT, "completion": TEXT, "problems": TEXT, "next_steps": TEXT}
    r = progress.save_draft(session, officer, task_id=2, unit_id=town.id, period="2026-11", fields=fields)
    r = progress.submit_report(session, officer, r.id, r.version)
    progress.review_report(session, reviewer, r.id, r.version, "return", TEXT)
    progress.urge(session, reviewer, task_id=4, unit_id=town.id, period="2026-11", message=TEXT[:400])
    auth_service.update_user(
        session,
        admin,
        officer.id,
        officer.version,
        display_name=PAYLOADS[1][:60],
        role="officer",
        unit_id=town.id,
        is_active=True,
    )
    org_service.update_unit(session, admin, town.id, town.version, name=town.name, aliases=TEXT, is_active=True)
    session.commit()
    _hostile_meetings_and_cards(session, town, officer, reviewer)
    session.commit()
    return sample_args


def _hostile_meetings_and_cards(session, town, officer, reviewer) -> None:
    from datetime import date

    from tracker.assessment import cards
    from tracker.meetings import service as meetings

    m = meetings.schedule_meeting(
        session,
        reviewer,
        title=PAYLOADS[0][:60],
        meeting_date=date(2026, 11, 12),
        convener=PAYLOADS[1][:60],
        unit_ids=[town.id],
        period="2026-Q3",
        location=TEXT[:190],
        notes=TEXT,
    )
    d = meetings.record_decision(session, reviewer, m.id, text=TEXT, lead_unit_id=town.id, deadline=date(2026, 12, 1))
    d = meetings.answer_decision(session, officer, d.id, d.version, TEXT)
    meetings.review_decision(session, reviewer, d.id, d.version, "return", TEXT)
    card = cards.issue_card(session, reviewer, unit_id=town.id, colour="yellow", reason=TEXT, period="2026-Q3")
    r = cards.submit_rectification(session, officer, card.id, "plan", TEXT)
    cards.review_rectification(session, reviewer, r.id, r.version, "return", TEXT)


@pytest.mark.parametrize("role", ["reviewer", "admin", "officer_a"])
def test_hostile_text_is_inert_on_every_page(seeded, hostile, role):
    app = seeded
    client = app.test_client()
    assert client.post("/login", data={"username": LOGINS[role], "password": "demo-2026"}).status_code == 302
    checked, leaks = 0, []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static" or ROUTES.get((rule.endpoint, "GET")) is None:
            continue
        args = {a: hostile[a] for a in rule.arguments}
        with app.test_request_context():
            url = url_for(rule.endpoint, **args)
        resp = client.get(url)
        if resp.status_code != 200 or not resp.mimetype.startswith("text/html"):
            resp.close()  # a file's response (an attachment) holds the file open until closed
            continue
        body = resp.get_data(as_text=True)
        checked += 1
        leaks += [f"{url}: {m}" for m in RAW_MARKERS if m in body]
    assert checked >= 8
    assert not leaks, leaks


def test_hostile_text_is_shown_escaped(seeded, hostile, client, auth):
    auth.login("reviewer")
    town = hostile["unit_id"]
    body = client.get(f"/progress/tasks/2/units/{town}/2026-11").get_data(as_text=True)
    assert "&lt;script&gt;alert(&#34;xss&#34;)&lt;/script&gt;" in body


def test_hostile_text_is_inert_in_every_pdf(seeded, hostile, session, app):
    import io

    from pypdf import PdfReader

    from tracker.periods import Period
    from tracker.plans.service import active_plan
    from tracker.reports import builders, service

    town = get_unit(session, "青石镇")
    with app.test_request_context():
        datas = {
            "briefing": service.briefing_data(session, Period.parse("2026-Q4")),
            "cards": builders.card_report(session, Period.parse("2026-Q3"), "开发区"),
            "scorecard": builders.scorecard(session, active_plan(session), town, Period.parse("2026-Q4"), ""),
        }
        for kind, data in datas.items():
            html = service.render_html(kind, data, for_print=True)
            assert not [m for m in RAW_MARKERS if m in html], kind
            body = service.to_pdf(kind, data)
            for marker in (b"/JavaScript", b"/JS", b"/Launch", b"/URI", b"/EmbeddedFile", b"/Subtype /Image"):
                assert marker not in body, (kind, marker)
            text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(body)).pages)
            assert "onerror=alert(1)" in text.replace(" ", ""), kind  # shown as text, not dropped
