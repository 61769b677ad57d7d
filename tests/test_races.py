"""Two people doing the same thing at the same moment on PostgreSQL: the loser gets the message a moment later
would give (409/422 with the typed text shown back), never an error page.

Each race lets two requests through the service's own check before either writes (a barrier in the check), so
both reach the database's unique constraint or the same row. SQLite serialises writers (BEGIN IMMEDIATE): there
the second request runs after the first and no race can happen, so these run on PostgreSQL only."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from tracker.assessment import cards
from tracker.assessment.models import Card, CardRule, Recommendation
from tracker.auth import service as auth_service
from tracker.auth.models import User
from tracker.errors import StaleEdit, ValidationError
from tracker.meetings import service as meetings_service
from tracker.meetings.models import Meeting
from tracker.metrics import service as metrics_service
from tracker.org import service as org_service
from tracker.org.models import Unit
from tracker.progress import service as progress_service
from tracker.progress.models import ProgressReport

from .conftest import PASSWORD, PG_URL, get_unit, get_user

pg_only = pytest.mark.skipif(not PG_URL, reason="SQLite serialises writers; races need PostgreSQL")

TRIALS = 4


def _meet_then(original, barrier: threading.Barrier):
    """Call through after both requests arrived here (or after 0.5 s: the other may be waiting on a lock)."""

    def wrapper(*args, **kwargs):
        try:
            barrier.wait(timeout=0.5)
        except threading.BrokenBarrierError:
            pass
        return original(*args, **kwargs)

    return wrapper


def _race(app, username: str, requests: list[tuple[str, dict]]) -> list[tuple[int, str]]:
    """Log two browsers in, then send their POSTs at once; (status, page after redirects) each. An exception
    escaping the app counts as a 500."""
    clients = []
    for _ in requests:
        c = app.test_client()
        assert c.post("/login", data={"username": username, "password": PASSWORD}).status_code == 302
        clients.append(c)
    results: list[tuple[int, str]] = [(0, "")] * len(requests)
    start = threading.Barrier(len(requests))

    def run(i: int) -> None:
        start.wait()
        try:
            resp = clients[i].post(requests[i][0], data=requests[i][1])
            status = resp.status_code
            body = resp.get_data(as_text=True)
            if status == 302:
                body = clients[i].get(resp.headers["Location"]).get_data(as_text=True)
            results[i] = (status, body)
        except Exception as e:  # an unhandled error: what the user would see as the 500 page
            results[i] = (500, repr(e))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(requests))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


@pg_only
def test_two_first_saves_of_one_report(seeded, session, frozen, monkeypatch):
    frozen(2026, 11, 10, 9)
    towns = [("town1", "青石镇"), ("town2", "柳溪镇"), ("town3", "云岭镇"), ("town4", "白沙镇")]
    measures = progress_service._measures
    for username, town_name in towns[:TRIALS]:
        unit_id = get_unit(session, town_name).id
        session.rollback()
        monkeypatch.setattr(progress_service, "_measures", _meet_then(measures, threading.Barrier(2)))
        url = f"/progress/tasks/3/units/{unit_id}/2026-11"
        texts = [f"{town_name}甲填写的进展", f"{town_name}乙填写的很长一段进展"]
        results = _race(seeded, username, [(url, {"progress": t, "completion": "x", "action": "save"}) for t in texts])
        statuses = sorted(s for s, _ in results)
        assert statuses == [302, 409], statuses  # one saved, the other told it is stale; no 500
        loser = next(i for i, (s, _) in enumerate(results) if s == 409)
        assert "已被他人修改" in results[loser][1] and texts[loser] in results[loser][1]  # the typed text is back
        session.expire_all()
        stored = progress_service.find_report(session, 3, unit_id, "2026-11")
        assert stored.progress == texts[1 - loser]
        session.rollback()


@pg_only
def test_two_units_created_with_one_name(seeded, session, monkeypatch):
    check = org_service._check_unique
    for i in range(TRIALS):
        monkeypatch.setattr(org_service, "_check_unique", _meet_then(check, threading.Barrier(2)))
        name = f"竞态测试局{i}"
        form = {"name": name, "kind": "department", "aliases": ""}
        results = _race(seeded, "admin", [("/admin/units", form), ("/admin/units", form)])
        assert [s for s, _ in results] == [302, 302]  # the form posts back to the list either way
        bodies = [b for _, b in results]
        assert sum(f"已新增单位 {name}" in b for b in bodies) == 1
        assert sum(f"单位“{name}”已存在" in b for b in bodies) == 1
        assert session.scalar(select(func.count(Unit.id)).where(Unit.name == name)) == 1
        session.rollback()


@pg_only
def test_two_users_created_with_one_name(seeded, session, monkeypatch):
    resolve = auth_service._resolve_unit
    for i in range(TRIALS):
        monkeypatch.setattr(auth_service, "_resolve_unit", _meet_then(resolve, threading.Barrier(2)))
        username = f"race{i}"
        forms = [
            {"username": username, "display_name": name, "role": "reviewer", "unit_id": 0, "password": "Race-pass-2026"}
            for name in ("张三", "李四")
        ]
        results = _race(seeded, "admin", [("/admin/users/new", f) for f in forms])
        assert sorted(s for s, _ in results) == [200, 302]  # created (redirect), or the form again with the message
        loser = next(i for i, (s, _) in enumerate(results) if s == 200)
        page = results[loser][1]
        assert f"用户名“{username}”已存在" in page and forms[loser]["display_name"] in page
        assert session.scalar(select(func.count(User.id)).where(User.username == username)) == 1
        session.rollback()


@pg_only
def test_two_meetings_scheduled_with_one_title(seeded, session, monkeypatch):
    town_id = get_unit(session, "青石镇").id
    session.rollback()
    check = meetings_service._check_unique_title
    for i in range(TRIALS):
        monkeypatch.setattr(meetings_service, "_check_unique_title", _meet_then(check, threading.Barrier(2)))
        title = f"第{i + 1}次联席会议"
        forms = [
            {
                "title": title,
                "date": "2026-12-10",
                "convener": "区委政法委",
                "period": "2026-Q4",
                "units": [town_id],
                "location": place,
            }
            for place in ("三楼会议室", "五楼会议室")
        ]
        results = _race(seeded, "reviewer", [("/meetings/new", f) for f in forms])
        assert sorted(s for s, _ in results) == [302, 422]
        loser = next(i for i, (s, _) in enumerate(results) if s == 422)
        page = results[loser][1]
        assert f"2026年12月10日已有同名会议“{title}”" in page and forms[loser]["location"] in page
        assert session.scalar(select(func.count(Meeting.id)).where(Meeting.title == title)) == 1
        session.rollback()


@pg_only
def test_issue_and_dismiss_of_one_recommendation(seeded, session, monkeypatch):
    # not the ranking rule (Y1): its cards wait for the quarter's publication
    rule = session.scalar(
        select(CardRule)
        .where(CardRule.colour == "yellow", CardRule.kind != "rank_bottom")
        .order_by(CardRule.id)
        .limit(1)
    )
    recs = []
    for town_name in ("青石镇", "柳溪镇", "云岭镇", "白沙镇")[:TRIALS]:
        town = get_unit(session, town_name)
        rec = Recommendation(period="2026-Q3", unit=town, rule=rule, colour="yellow", reason="排名靠后", figures={})
        session.add(rec)
        session.flush()
        recs.append((rec.id, rec.version, town_name))
    session.commit()
    outcomes = []
    check = cards._check_version
    for rec_id, version, town_name in recs:
        # both requests have read the recommendation before either writes
        monkeypatch.setattr(cards, "_check_version", _meet_then(check, threading.Barrier(2)))
        results = _race(
            seeded,
            "reviewer",
            [
                ("/cards/issue", {"recommendation_id": rec_id, "version": version, "colour": "yellow"}),
                (f"/cards/recommendations/{rec_id}/dismiss", {"version": version, "reason": "已在整改期内"}),
            ],
        )
        assert [s for s, _ in results] == [302, 302], [s for s, _ in results]  # no 500, no 503 (deadlock)
        assert not any("数据库暂时无法访问" in b for _, b in results)
        issued, dismissed = (f"已向{town_name}发出黄牌" in results[0][1]), ("已不予发牌" in results[1][1])
        assert issued != dismissed  # exactly one decision
        loser = results[1][1] if issued else results[0][1]
        assert "该建议已处理" in loser or "已被他人修改" in loser
        session.expire_all()
        rec = session.get(Recommendation, rec_id)
        assert rec.status == ("issued" if issued else "dismissed")
        outcomes.append(rec.status)
        session.rollback()
    # one card per issued recommendation, none for a dismissed one
    assert session.scalar(select(func.count(Card.id))) == outcomes.count("issued")


def test_a_clash_met_at_the_database_gives_the_services_message(seeded, session):
    """What the loser of a race meets, on either database: the unique constraint, worded as the check words it."""
    town = get_unit(session, "青石镇")
    session.add(Unit(name="青石镇", kind=town.kind, aliases="", sort_order=99))
    with pytest.raises(ValidationError, match="单位“青石镇”已存在"):
        session.flush()
    session.rollback()
    report = progress_service.find_report(session, 3, town.id, "2026-11")
    assert report is None
    session.add(ProgressReport(task_id=3, unit_id=town.id, period="2026-11", status="draft"))
    session.add(ProgressReport(task_id=3, unit_id=town.id, period="2026-11", status="draft"))
    with pytest.raises(StaleEdit):
        session.flush()
    session.rollback()
    cases, losses = (metrics_service.get_indicator(session, code) for code in ("cases", "losses"))
    losses.name = cases.name  # a rename, met at UPDATE
    with pytest.raises(ValidationError, match=f"已有名为“{cases.name}”的指标"):
        session.flush()
    session.rollback()
    get_user(session, "town2").username = "town1"
    with pytest.raises(ValidationError, match="用户名“town1”已存在"):
        session.flush()
    session.rollback()
