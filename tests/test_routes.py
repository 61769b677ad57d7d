"""Route × role matrix: every URL rule of the app is classified, and no role gets more than it should.

A new route without a classification below fails `test_every_route_is_classified`.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tracker import clock
from tracker.periods import Period
from tracker.progress import service as progress

from .conftest import get_unit, get_user

# who may reach a (endpoint, method):
#   public       anyone, logged in or not
#   any          every logged-in user
#   admin        administrators only
#   reviewer     reviewers only
#   staff        administrators and reviewers
#   officer      every unit officer (their own unit's data, chosen by the server)
#   unit         staff, and the officer of the unit the URL names (unit A); not unit B's officer
#   unit_officer only the officer of the unit the URL names
#   police       officers of the unit that enters the 两降两升 figures (公安分局), and reviewers (corrections)
ROUTES: dict[tuple[str, str], str] = {
    ("assessment.index", "GET"): "any",
    ("assessment.unit", "GET"): "unit",
    ("assessment.publish", "POST"): "reviewer",
    ("assessment.reopen", "POST"): "reviewer",
    ("assessment.scheme_page", "GET"): "staff",
    ("assessment.items_update", "POST"): "admin",
    ("assessment.settings_update", "POST"): "admin",
    ("assessment.adjustment_update", "POST"): "admin",
    ("assessment.rule_update", "POST"): "admin",
    ("calendar.index", "GET"): "admin",
    ("calendar.import_year", "POST"): "admin",
    ("calendar.add_day", "POST"): "admin",
    ("calendar.remove_day", "POST"): "admin",
    ("calendar.mark_year", "POST"): "admin",
    ("cards.board", "GET"): "any",
    ("cards.recommend", "POST"): "reviewer",
    ("cards.escalate", "POST"): "reviewer",
    ("cards.issue", "POST"): "reviewer",
    ("cards.dismiss", "POST"): "reviewer",
    ("cards.show", "GET"): "unit",
    ("cards.edit", "POST"): "reviewer",
    ("cards.rectify", "POST"): "unit_officer",
    ("cards.review", "POST"): "reviewer",
    ("cards.lift", "POST"): "reviewer",
    ("reports.index", "GET"): "staff",
    ("reports.briefing", "GET"): "staff",
    ("reports.briefing_pdf", "GET"): "staff",
    ("reports.cards", "GET"): "staff",
    ("reports.cards_pdf", "GET"): "staff",
    ("reports.scorecard", "GET"): "any",
    ("reports.scorecard_pdf", "GET"): "any",
    ("reports.briefing_docx", "GET"): "staff",
    ("reports.cards_docx", "GET"): "staff",
    ("reports.scorecard_docx", "GET"): "any",
    ("reports.numbering", "GET"): "admin",
    ("reports.numbering", "POST"): "admin",
    ("reports.regenerate", "POST"): "reviewer",
    ("static", "GET"): "public",
    ("auth.login", "GET"): "public",
    ("auth.login", "POST"): "public",
    ("auth.logout", "POST"): "any",
    ("auth.password", "GET"): "any",
    ("auth.password", "POST"): "any",
    ("auth.users", "GET"): "admin",
    ("auth.user_new", "GET"): "admin",
    ("auth.user_new", "POST"): "admin",
    ("auth.user_edit", "GET"): "admin",
    ("auth.user_edit", "POST"): "admin",
    ("auth.user_reset_password", "POST"): "admin",
    ("main.home", "GET"): "any",
    ("plans.show", "GET"): "any",
    ("plans.task", "GET"): "any",
    ("plans.settings", "GET"): "admin",
    ("plans.settings", "POST"): "admin",
    ("plans.period", "POST"): "admin",
    ("plans.import_start", "GET"): "admin",
    ("plans.import_start", "POST"): "admin",
    ("plans.import_confirm", "POST"): "admin",
    ("org.show", "GET"): "unit",
    ("org.units", "GET"): "admin",
    ("org.unit_create", "POST"): "admin",
    ("org.unit_edit", "GET"): "admin",
    ("org.unit_edit", "POST"): "admin",
    ("progress.grid", "GET"): "staff",
    ("progress.todo", "GET"): "officer",
    ("progress.urges_read", "POST"): "officer",
    ("progress.reports", "GET"): "any",
    ("progress.report", "GET"): "unit",
    ("progress.report", "POST"): "unit_officer",
    ("progress.review", "POST"): "reviewer",
    ("progress.urge", "POST"): "reviewer",
    ("audit.index", "GET"): "staff",
    ("meetings.index", "GET"): "any",
    ("meetings.new", "GET"): "reviewer",
    ("meetings.new", "POST"): "reviewer",
    ("meetings.show", "GET"): "unit",
    ("meetings.edit", "GET"): "reviewer",
    ("meetings.edit", "POST"): "reviewer",
    ("meetings.hold", "POST"): "reviewer",
    ("meetings.decision_new", "GET"): "reviewer",
    ("meetings.decision_new", "POST"): "reviewer",
    ("meetings.decisions", "GET"): "any",
    ("meetings.decision", "GET"): "unit",
    ("meetings.answer", "POST"): "unit_officer",
    ("meetings.review", "POST"): "reviewer",
    ("metrics.overview", "GET"): "any",
    ("metrics.town", "GET"): "any",
    ("metrics.rankings", "GET"): "any",
    ("metrics.template", "GET"): "any",
    ("metrics.export", "GET"): "any",
    # every list in Excel: the same reader as its page
    ("exports.reports", "GET"): "any",
    ("exports.grid", "GET"): "staff",
    ("exports.decisions", "GET"): "any",
    ("exports.scores", "GET"): "any",
    ("exports.cards", "GET"): "any",
    ("exports.meetings", "GET"): "any",
    ("exports.audit", "GET"): "staff",
    ("metrics.entry", "GET"): "police",
    ("metrics.entry", "POST"): "police",
    ("metrics.import_page", "GET"): "police",
    ("metrics.import_upload", "POST"): "police",
    ("metrics.import_confirm", "POST"): "police",
    ("metrics.indicators", "GET"): "admin",
    ("metrics.indicator_new", "GET"): "admin",
    ("metrics.indicator_new", "POST"): "admin",
    ("metrics.indicator_edit", "GET"): "admin",
    ("metrics.indicator_edit", "POST"): "admin",
    ("notify.inbox", "GET"): "any",
    ("notify.read", "POST"): "any",
    ("notify.read_all", "POST"): "any",
    ("notify.channels", "GET"): "admin",
    ("notify.channels", "POST"): "admin",
    ("notify.channel_update", "POST"): "admin",
    ("notify.channel_delete", "POST"): "admin",
    ("notify.deliveries", "GET"): "admin",
    ("notify.delivery_retry", "POST"): "admin",
    ("notify.archive_status", "GET"): "unit",
    ("notify.archive_retry", "POST"): "reviewer",
    # 佐证材料: read as the parent (a unit A report); added and deleted by its officer while it is a draft
    ("evidence.download", "GET"): "unit",
    ("evidence.thumb", "GET"): "unit",
    ("evidence.upload", "POST"): "unit_officer",
    ("evidence.delete", "POST"): "unit_officer",
    ("publicity.activities", "GET"): "any",
    ("publicity.activity", "GET"): "unit",
    ("publicity.activity_new", "GET"): "officer",
    ("publicity.activity_new", "POST"): "officer",
    ("publicity.activity_edit", "GET"): "unit_officer",
    ("publicity.activity_edit", "POST"): "unit_officer",
    ("publicity.activity_delete", "POST"): "unit_officer",
    ("publicity.stats", "GET"): "any",
    ("publicity.communities", "GET"): "officer",
    ("publicity.communities", "POST"): "officer",
    ("publicity.options_page", "GET"): "admin",
    ("publicity.options_page", "POST"): "admin",
    ("publicity.template", "GET"): "any",
    ("publicity.export", "GET"): "any",
    ("publicity.import_page", "GET"): "officer",
    ("publicity.import_upload", "POST"): "officer",
    ("publicity.import_confirm", "POST"): "officer",
    ("publicity.creations", "GET"): "any",
    ("publicity.creation_new", "GET"): "officer",
    ("publicity.creation_new", "POST"): "officer",
    ("publicity.creation_edit", "GET"): "unit_officer",
    ("publicity.creation_edit", "POST"): "unit_officer",
    ("publicity.creation_advance", "POST"): "reviewer",
}

ALLOWED = {
    "anonymous": {"public"},
    "admin": {"public", "any", "admin", "staff", "unit"},
    "reviewer": {"public", "any", "reviewer", "staff", "unit", "police"},
    "officer_a": {"public", "any", "officer", "unit", "unit_officer"},
    "officer_b": {"public", "any", "officer"},
    "police": {"public", "any", "officer", "police"},
}
LOGINS = {"admin": "admin", "reviewer": "reviewer", "officer_a": "town1", "officer_b": "town2", "police": "police"}


def _rules(app):
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


def test_every_route_is_classified(app):
    with app.app_context():  # the app's first use assembles its pages
        routes = {(r.endpoint, m) for r, m in _rules(app)}
    missing = sorted(routes - set(ROUTES))
    assert not missing, f"classify these routes in tests/test_routes.py: {missing}"
    stale = set(ROUTES) - routes
    assert not stale, f"routes classified but gone: {stale}"


@pytest.fixture
def sample_args(seeded, session, frozen):
    """URL arguments that all point at unit A (青石镇) and one of its reports."""
    frozen(2026, 11, 10, 9)
    town = get_unit(session, "青石镇")
    officer = get_user(session, "town1")
    report = progress.save_draft(
        session,
        officer,
        task_id=1,
        unit_id=town.id,
        period="2026-11",
        fields={"progress": "张贴海报", "completion": "完成"},
    )
    progress.submit_report(session, officer, report.id, report.version)
    card_args = {**_card_samples(session, town, officer), **_evidence_samples(session, town, officer)}
    seeded.route_sample_args = _meeting_samples(session, town) | _publicity_samples(session, town, officer)
    session.commit()
    extra = {**card_args, **getattr(seeded, "route_sample_args", {})}
    return {
        "task_id": 1,
        "unit_id": town.id,
        "period": Period.of_date(clock.today()).code,
        "report_id": report.id,
        "user_id": get_user(session, "police").id,
        "filename": "app.css",
        "indicator_id": 1,
        "day": "2027-01-01",
        "notification_id": 1,
        "channel_id": 1,
        "delivery_id": 1,
        **extra,
    }


def _evidence_samples(session, town, officer) -> dict:
    """A draft report of unit A with a PDF attached by its officer."""
    from tracker.evidence import service as evidence

    from .evidence_files import pdf, upload

    draft = progress.save_draft(
        session, officer, task_id=3, unit_id=town.id, period="2026-11", fields={"progress": "入户走访"}
    )
    att = evidence.store(session, officer, "report", draft.id, upload(pdf(), "走访记录.pdf"))
    return {"attachment_id": att.id, "owner_kind": "report", "owner_id": draft.id}


def _card_samples(session, town, officer) -> dict:
    """A card of unit A with a rectification plan, and a pending recommendation for unit A."""
    from tracker.assessment import cards
    from tracker.assessment.models import Adjustment, CardRule, Recommendation

    reviewer = get_user(session, "reviewer")
    card = cards.issue_card(
        session, reviewer, unit_id=town.id, colour="yellow", reason="宣传工作滞后", period="2026-Q3"
    )
    rect = cards.submit_rectification(session, officer, card.id, "plan", "整改方案")
    rule = session.scalar(select(CardRule).where(CardRule.code == "Y1"))
    rec = Recommendation(period="2026-Q3", unit=town, rule=rule, colour="yellow", reason="排名靠后", figures={})
    session.add(rec)
    from datetime import date

    from tracker.meetings.service import schedule_meeting

    meeting = schedule_meeting(
        session,
        reviewer,
        title="第四季度联席会议(路由测试)",
        meeting_date=date(2026, 12, 10),
        convener="区委政法委",
        unit_ids=[town.id],
        period="2026-Q4",
    )
    session.flush()
    return {
        "meeting_id": meeting.id,
        "card_id": card.id,
        "rect_id": rect.id,
        "rec_id": rec.id,
        "adj_id": session.scalar(select(Adjustment.id).limit(1)),
        "rule_id": rule.id,
    }


def _meeting_samples(session, town) -> dict:
    """A meeting attended by unit A only, with a decision unit A leads: unit B's officer sees neither."""
    from datetime import date

    from tracker.meetings import service as meetings

    reviewer = get_user(session, "reviewer")
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
    return {"meeting_id": m.id, "decision_id": d.id}


def _publicity_samples(session, town, officer) -> dict:
    """A publicity activity and a 无诈 creation of unit A."""
    from datetime import date

    from tracker.publicity import creations
    from tracker.publicity import service as publicity
    from tracker.publicity.models import FORM, TARGET

    a = publicity.create_activity(
        session,
        officer,
        publicity.ActivityValues(
            held_on=date(2026, 11, 2),
            unit_id=town.id,
            town_id=town.id,
            place="青石中学",
            target_id=publicity.options(session, TARGET)[0].id,
            form_id=publicity.options(session, FORM)[0].id,
            audience=100,
        ),
    )
    c = creations.declare(
        session, officer, unit_id=town.id, kind="campus", name="青石中学", declared_on=date(2026, 11, 3)
    )
    return {"activity_id": a.id, "creation_id": c.id}


@pytest.mark.parametrize("role", list(ALLOWED))
def test_role_gets_exactly_what_it_should(seeded, sample_args, role):
    app = seeded
    wrong = []
    for rule, method in _rules(app):
        kind = ROUTES[(rule.endpoint, method)]
        args = {a: sample_args[a] for a in rule.arguments}
        with app.test_request_context():
            from flask import url_for

            url = url_for(rule.endpoint, **args)
        client = app.test_client()
        if role != "anonymous":
            r = client.post("/login", data={"username": LOGINS[role], "password": "demo-2026"})
            assert r.status_code == 302, f"login as {role} failed"
        resp = client.open(url, method=method, data={})
        allowed = kind in ALLOWED[role]
        if allowed:
            ok = resp.status_code != 403 and not (
                resp.status_code == 302 and "/login" in resp.location and rule.endpoint != "auth.logout"
            )
        elif role == "anonymous":
            ok = resp.status_code == 302 and "/login" in resp.location
        else:
            ok = resp.status_code == 403
        resp.close()  # a static file's response holds the file open until closed
        if not ok:
            wrong.append(f"{method} {url} ({kind}) -> {resp.status_code}")
    assert not wrong, f"{role}: " + "; ".join(wrong)
