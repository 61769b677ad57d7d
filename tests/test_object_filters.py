"""No list, filter or export reveals what the object's own page refuses: a town officer asking about another
town's meeting or unit through a query parameter gets the same 403 (or 404) as on the object's page, and never
its title."""

from __future__ import annotations

from datetime import date

import pytest

from tracker.meetings import service as meetings

from .conftest import get_unit, get_user

TITLE = "柳溪镇断卡专项约谈会"
DECISION = "柳溪镇十日内清理涉诈银行卡"
MISSING = 99999


@pytest.fixture
def other_town(seeded, session, frozen):
    """A meeting held for 柳溪镇 alone, with a decision 柳溪镇 leads: nothing of it concerns 青石镇 (town1)."""
    frozen(2026, 11, 10, 9)
    reviewer, town2 = get_user(session, "reviewer"), get_unit(session, "柳溪镇")
    m = meetings.schedule_meeting(
        session,
        reviewer,
        title=TITLE,
        meeting_date=date(2026, 11, 5),
        convener="区委政法委书记",
        unit_ids=[town2.id],
        period="2026-Q3",
    )
    d = meetings.record_decision(
        session, reviewer, m.id, text=DECISION, lead_unit_id=town2.id, deadline=date(2026, 11, 30)
    )
    session.commit()
    return {"meeting": m.id, "decision": d.id, "unit": town2.id}


# (what the filter or export names, its URL, the object's own page); {meeting}/{unit}/{decision} filled in below
ENDPOINTS = [
    ("meeting", "/meetings/decisions?meeting={meeting}", "/meetings/{meeting}"),
    ("meeting", "/meetings/decisions?meeting={meeting}&status=all", "/meetings/{meeting}"),
    ("meeting", "/reports/briefing?meeting={meeting}", "/meetings/{meeting}"),
    ("meeting", "/reports/briefing.pdf?meeting={meeting}", "/meetings/{meeting}"),
    ("unit", "/progress/reports?unit={unit}", "/units/{unit}"),
    ("unit", "/reports/scorecard?unit={unit}&period=2026-Q3", "/units/{unit}"),
    ("unit", "/reports/scorecard.pdf?unit={unit}&period=2026-Q3", "/units/{unit}"),
]
IDS = [e[1].split("?")[0].strip("/") + "?" + e[1].split("?")[1].split("=")[0] for e in ENDPOINTS]


@pytest.mark.parametrize(("kind", "url", "page"), ENDPOINTS, ids=IDS)
def test_another_towns_object_is_refused_as_on_its_own_page(other_town, client, auth, kind, url, page):
    auth.login("town1")
    own_page = client.get(page.format(**other_town))
    assert own_page.status_code == 403
    resp = client.get(url.format(**other_town))
    assert resp.status_code == 403
    body = resp.get_data(as_text=True)
    assert TITLE not in body and DECISION not in body


@pytest.mark.parametrize(("kind", "url", "page"), ENDPOINTS, ids=IDS)
def test_a_missing_object_is_not_found_as_on_its_own_page(other_town, client, auth, kind, url, page):
    auth.login("town1")
    ids = {"meeting": MISSING, "unit": MISSING, "decision": MISSING}
    assert client.get(page.format(**ids)).status_code == 404
    expected = 404 if "/reports/" not in url or kind == "unit" else 403  # briefings are staff pages: 403 first
    assert client.get(url.format(**ids)).status_code == expected


def test_the_meeting_filter_still_works_for_those_who_see_the_meeting(other_town, client, auth):
    for user in ("town2", "reviewer"):
        auth.login(user)
        body = client.get(f"/meetings/decisions?meeting={other_town['meeting']}&status=all").get_data(as_text=True)
        assert TITLE in body and DECISION in body, user
        auth.logout()


def test_an_officers_unit_filter_is_dropped_without_echo(other_town, client, auth):
    auth.login("town1")
    resp = client.get(f"/meetings/decisions?unit={other_town['unit']}&status=all")
    assert resp.status_code == 200
    body = resp.get_data(as_text=True)
    assert DECISION not in body and f"unit={other_town['unit']}" not in body and "清除筛选" not in body


def test_the_decision_itself_stays_refused(other_town, client, auth):
    auth.login("town1")
    assert client.get(f"/meetings/decisions/{other_town['decision']}").status_code == 403
