"""Administration: users, units, and the plan's reporting settings."""

import pytest
from sqlalchemy import select

from tracker.audit.models import AuditEvent
from tracker.auth import service as auth_service
from tracker.errors import PermissionDenied, StaleEdit, ValidationError
from tracker.org import service as org_service
from tracker.periods import Period
from tracker.plans import service as plan_service
from tracker.progress import service as progress

from .conftest import PASSWORD, get_unit, get_user


def test_admin_creates_officer_who_can_log_in(seeded, session, client, auth):
    auth.login("admin")
    unit = get_unit(session, "财政局")
    resp = client.post(
        "/admin/users/new",
        data={
            "username": "fin2",
            "display_name": "财政局二号",
            "role": "officer",
            "unit_id": unit.id,
            "password": "start2026x",
        },
    )
    assert resp.status_code == 302
    assert get_user(session, "fin2").unit_id == unit.id
    auth.logout()
    assert auth.login("fin2", "start2026x").status_code == 302


def test_user_creation_errors_are_chinese_and_write_nothing(seeded, session):
    admin = get_user(session, "admin")
    with pytest.raises(ValidationError, match="已存在"):
        auth_service.create_user(
            session,
            admin,
            username="town1",
            display_name="",
            role="officer",
            unit_id=get_unit(session, "青石镇").id,
            password="abc12345",
        )
    with pytest.raises(ValidationError, match="必须属于"):
        auth_service.create_user(
            session, admin, username="nounit", display_name="", role="officer", unit_id=None, password="abc12345"
        )
    with pytest.raises(ValidationError, match="密码"):
        auth_service.create_user(
            session, admin, username="weak", display_name="", role="reviewer", unit_id=None, password="short"
        )
    with pytest.raises(PermissionDenied):
        auth_service.create_user(
            session,
            get_user(session, "reviewer"),
            username="x1",
            display_name="",
            role="reviewer",
            unit_id=None,
            password="abc12345",
        )


def test_move_user_to_another_unit_changes_what_they_see(seeded, session, client, auth):
    admin = get_user(session, "admin")
    user = get_user(session, "town1")
    other = get_unit(session, "柳溪镇")
    auth_service.update_user(
        session, admin, user.id, user.version, display_name="调岗", role="officer", unit_id=other.id, is_active=True
    )
    session.commit()
    auth.login("town1")
    assert "柳溪镇待办" in client.get("/progress/todo").get_data(as_text=True)


def test_admin_cannot_disable_self(seeded, session):
    admin = get_user(session, "admin")
    with pytest.raises(ValidationError):
        auth_service.update_user(
            session, admin, admin.id, admin.version, display_name="a", role="admin", unit_id=None, is_active=False
        )


def test_reset_password_logs_user_out(seeded, session, client, auth):
    auth.login("town1")
    assert client.get("/progress/todo").status_code == 200
    admin = get_user(session, "admin")
    auth_service.reset_password(session, admin, get_user(session, "town1").id, "reset2026a")
    session.commit()
    assert client.get("/progress/todo").status_code == 302
    assert auth.login("town1", PASSWORD).status_code == 200
    assert auth.login("town1", "reset2026a").status_code == 302


def test_new_town_joins_every_township_task_and_owes_reports(seeded, session, frozen):
    frozen(2026, 11, 26, 9)
    admin = get_user(session, "admin")
    unit = org_service.create_unit(session, admin, name="石桥镇", kind="township")
    session.commit()
    plan = plan_service.active_plan(session)
    assert len(plan_service.unit_duties(session, plan, unit)) == 6
    grid = progress.build_grid(session, plan, Period.parse("2026-11"))
    assert grid.cell(1, unit.id).state == "overdue"


def test_rename_and_deactivate_unit(seeded, session):
    admin = get_user(session, "admin")
    unit = get_unit(session, "白沙镇")
    org_service.update_unit(session, admin, unit.id, unit.version, name="白沙街道", aliases="白沙", is_active=False)
    session.commit()
    plan = plan_service.active_plan(session)
    names = {d.unit.name for d in plan_service.duties(session, plan)}
    assert "白沙街道" not in names and "白沙镇" not in names
    with pytest.raises(ValidationError, match="已存在"):
        org_service.update_unit(session, admin, unit.id, unit.version, name="青石镇", aliases="", is_active=True)
    with pytest.raises(StaleEdit):
        org_service.update_unit(session, admin, unit.id, unit.version - 1, name="白沙镇", aliases="", is_active=True)


def test_due_day_setting_moves_the_overdue_line(seeded, session, frozen, client, auth):
    frozen(2026, 11, 26, 9)
    plan = plan_service.active_plan(session)
    assert progress.build_grid(session, plan, Period.parse("2026-11")).counts["overdue"] > 0
    auth.login("admin")
    resp = client.post("/admin/plan", data={"version": plan.version, "period_kind": "month", "due_day": 28})
    assert resp.status_code == 302
    session.refresh(plan)
    assert plan.due_day == 28
    assert progress.build_grid(session, plan, Period.parse("2026-11")).counts["overdue"] == 0
    html = client.post("/admin/plan", data={"version": plan.version, "period_kind": "month", "due_day": 31})
    assert "1至28日" in html.get_data(as_text=True)
    events = session.scalars(
        select(AuditEvent.action).where(AuditEvent.action == "plan.settings").order_by(AuditEvent.id)
    ).all()
    assert events == ["plan.settings"]
