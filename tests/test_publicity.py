"""The publicity-activity register: recording, permissions, the quarter's summary and coverage, the 宣传场次/覆盖人次
figures counted from it, Excel import (dry run) and export, the lists, 无诈 creations, pages."""

from __future__ import annotations

import io
import json
import re
from datetime import date, datetime

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from tracker.audit.models import AuditEvent
from tracker.errors import PermissionDenied, StaleEdit, ValidationError, WorkflowError
from tracker.metrics import service as metrics
from tracker.metrics.models import SOURCE_REGISTER, MetricValue
from tracker.periods import Period
from tracker.publicity import creations
from tracker.publicity import service as publicity
from tracker.publicity import statistics as publicity_statistics
from tracker.publicity.exchange import HEADERS
from tracker.publicity.models import FORM, FRAUD, TARGET, Activity

from .conftest import PG_URL, get_unit, get_user


@pytest.fixture
def w(seeded, session, frozen):
    frozen(2026, 10, 15, 9)
    return {
        "town": get_unit(session, "青石镇"),
        "town2": get_unit(session, "柳溪镇"),
        "police_unit": get_unit(session, "公安分局"),
        "officer": get_user(session, "town1"),
        "officer2": get_user(session, "town2"),
        "police": get_user(session, "police"),
        "reviewer": get_user(session, "reviewer"),
        "admin": get_user(session, "admin"),
    }


def opt(session, kind, name) -> int:
    return next(o.id for o in publicity.options(session, kind) if o.name == name)


def record(session, actor, unit, held_on, target, audience, *, town=None, form="宣讲/讲座", frauds=(), **kw):
    a = publicity.create_activity(
        session,
        actor,
        publicity.ActivityValues(
            held_on=held_on,
            unit_id=unit.id,
            town_id=(town or unit).id,
            place=kw.pop("place", f"{target}活动点"),
            target_id=opt(session, TARGET, target),
            form_id=opt(session, FORM, form),
            fraud_ids=[opt(session, FRAUD, f) for f in frauds],
            audience=audience,
            **kw,
        ),
    )
    session.commit()
    return a


@pytest.fixture
def quarter(w, session):
    """Q3 2026: 青石镇 three activities (200 + 50 + 120), 公安分局 one in 柳溪镇 (30); 柳溪镇 one in October."""
    publicity.save_communities(session, w["officer"], w["town"].id, None, "青石村\n石桥村\n新街社区")
    session.commit()
    a1 = record(
        session,
        w["officer"],
        w["town"],
        date(2026, 7, 10),
        "学校",
        200,
        frauds=("刷单返利", "冒充公检法"),
        community="青石村",
        materials=400,
        apps=60,
    )
    a2 = record(session, w["officer"], w["town"], date(2026, 8, 5), "社区", 50, form="入户走访", community="新街社区")
    a3 = record(session, w["officer"], w["town"], date(2026, 9, 20), "学校", 120, frauds=("刷单返利",))
    a4 = record(session, w["police"], w["police_unit"], date(2026, 9, 1), "金融网点", 30, town=w["town2"])
    a5 = record(session, w["officer2"], w["town2"], date(2026, 10, 2), "企业", 500)
    return [a1, a2, a3, a4, a5]


def test_the_seed_loads_the_default_lists(w, session):
    assert [o.name for o in publicity.options(session, TARGET)] == [
        "学校",
        "企业",
        "机关",
        "社区",
        "农村",
        "工地",
        "金融网点",
        "家庭",
        "其他",
    ]
    frauds = [o.name for o in publicity.options(session, FRAUD)]
    assert len(frauds) == 11 and frauds[0] == "刷单返利" and frauds[-1] == "网购虚假服务"
    assert "宣讲/讲座" in [o.name for o in publicity.options(session, FORM)]


def test_quarter_summary_and_coverage(quarter, session):
    s = publicity_statistics.statistics(session, Period.parse("2026-Q3"))
    data = s.as_json()
    # 200 + 50 + 120 + 30 = 400; the October activity (500) is in Q4
    assert data["total"] == {"activities": 4, "audience": 400}
    assert data["by_target"]["学校"] == {"activities": 2, "audience": 320}  # 200 + 120
    assert data["by_target"]["社区"] == {"activities": 1, "audience": 50}
    assert data["by_target"]["金融网点"] == {"activities": 1, "audience": 30}
    assert data["by_target"]["企业"] == {"activities": 0, "audience": 0}
    assert data["by_unit"] == {
        "青石镇": {"activities": 3, "audience": 370},
        "公安分局": {"activities": 1, "audience": 30},
    }
    # the police activity counts for the town where it was held
    assert data["by_town"]["柳溪镇"] == {"activities": 1, "audience": 30}
    assert data["by_month"] == {
        "2026-07": {"activities": 1, "audience": 200},
        "2026-08": {"activities": 1, "audience": 50},
        "2026-09": {"activities": 2, "audience": 150},
    }
    # 学校, 社区, 金融网点 reached; 其他 is never listed as uncovered
    assert data["uncovered_targets"] == ["企业", "机关", "农村", "工地", "家庭"]
    # 青石镇 lists 青石村, 石桥村, 新街社区; activities named 青石村 and 新街社区
    assert data["uncovered_communities"] == {"青石镇": ["石桥村"]}
    assert s.by_fraud["刷单返利"].activities == 2 and s.by_fraud["冒充公检法"].activities == 1
    assert s.total.materials == 400 and s.total.apps == 60
    q4 = publicity_statistics.statistics(session, Period.parse("2026-Q4")).as_json()
    assert q4["total"] == {"activities": 1, "audience": 500}
    assert q4["uncovered_communities"] == {"青石镇": ["青石村", "石桥村", "新街社区"]}


def test_summary_command_prints_the_issue_shape(quarter, seeded):
    out = seeded.test_cli_runner().invoke(args=["activities", "summary", "--period", "2026-Q3", "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert data["total"] == {"activities": 4, "audience": 400}
    assert data["by_unit"]["青石镇"] == {"activities": 3, "audience": 370}
    assert data["by_target"]["学校"] == {"activities": 2, "audience": 320}
    assert data["uncovered_targets"] == ["企业", "机关", "农村", "工地", "家庭"]


def _figure(session, code, unit, month):
    ind = metrics.get_indicator(session, code)
    row = session.scalar(
        select(MetricValue).where(
            MetricValue.indicator_id == ind.id, MetricValue.unit_id == unit.id, MetricValue.month == month
        )
    )
    return (row.count, row.source) if row else None


def test_events_and_reach_are_counted_from_the_register(quarter, w, session):
    town, town2 = w["town"], w["town2"]
    assert _figure(session, "events", town, "2026-07") == (1, SOURCE_REGISTER)
    assert _figure(session, "reach", town, "2026-07") == (200, SOURCE_REGISTER)
    assert _figure(session, "events", town, "2026-09") == (1, SOURCE_REGISTER)
    assert _figure(session, "reach", town, "2026-09") == (120, SOURCE_REGISTER)
    # 公安分局's activity was held in 柳溪镇: 柳溪镇's September
    assert _figure(session, "events", town2, "2026-09") == (1, SOURCE_REGISTER)
    assert _figure(session, "reach", town2, "2026-09") == (30, SOURCE_REGISTER)
    # moving the September activity to July: July 2 activities, 200 + 120 = 320; September has none left
    a3 = quarter[2]
    values = publicity.ActivityValues(
        held_on=date(2026, 7, 25),
        unit_id=town.id,
        town_id=town.id,
        place=a3.place,
        target_id=a3.target_id,
        form_id=a3.form_id,
        fraud_ids=[o.id for o in a3.fraud_types],
        audience=120,
    )
    publicity.update_activity(session, w["officer"], a3.id, a3.version, values)
    session.commit()
    assert _figure(session, "events", town, "2026-07") == (2, SOURCE_REGISTER)
    assert _figure(session, "reach", town, "2026-07") == (320, SOURCE_REGISTER)
    assert _figure(session, "events", town, "2026-09") is None
    # the quarter's figure through the metrics API: 青石镇 Q3 = 2 + 1 (August) = 3 activities, 320 + 50 = 370
    assert metrics.value(session, "events", town.id, Period.parse("2026-Q3")) == 3
    assert metrics.value(session, "reach", town.id, Period.parse("2026-Q3")) == 370
    a1 = session.get(Activity, quarter[0].id)
    publicity.delete_activity(session, w["officer"], a1.id, a1.version)
    session.commit()
    assert _figure(session, "events", town, "2026-07") == (1, SOURCE_REGISTER)
    assert _figure(session, "reach", town, "2026-07") == (120, SOURCE_REGISTER)
    assert session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "metrics.register")) >= 5


def test_typed_events_are_refused_pointing_to_the_register(w, session):
    events = metrics.get_indicator(session, "events")
    with pytest.raises(ValidationError, match="宣传活动台账"):
        metrics.parse_value(events, "5")
    assert metrics.parse_value(events, "") is None
    # nobody may write the cell in the grid, not even its town or a reviewer
    target = metrics.EntryTarget(events, w["town"].id)
    assert metrics.write_source(w["officer"], target) is None
    assert metrics.write_source(w["reviewer"], target) is None
    # switched on, a typed figure in the grid is refused with the same words, nothing saved
    events.is_active = True
    session.commit()
    with pytest.raises(metrics.CellErrors) as e:
        metrics.save_grid(session, w["officer"], "2026-09", {(events.id, w["town"].id): ("5", 0)})
    assert "宣传活动台账" in next(iter(e.value.errors.values()))
    session.rollback()
    assert _figure(session, "events", w["town"], "2026-09") is None


def test_officers_see_and_edit_only_their_units_activities(quarter, w, session, client, auth):
    a1, a5 = quarter[0], quarter[4]
    mine = publicity.list_activities(session, w["officer2"])
    assert [a.id for a in mine] == [a5.id]
    assert len(publicity.list_activities(session, w["reviewer"])) == 5
    values = publicity.ActivityValues(
        held_on=a1.held_on,
        unit_id=w["town"].id,
        town_id=w["town"].id,
        place="改",
        target_id=a1.target_id,
        form_id=a1.form_id,
        audience=1,
    )
    with pytest.raises(PermissionDenied):
        publicity.update_activity(session, w["officer2"], a1.id, a1.version, values)
    session.rollback()
    with pytest.raises(PermissionDenied):  # a reviewer sees all but records nothing
        publicity.create_activity(session, w["reviewer"], values)
    session.rollback()
    # recording for another unit is refused too
    other = publicity.ActivityValues(**{**values.__dict__, "unit_id": w["town2"].id, "town_id": w["town2"].id})
    with pytest.raises(PermissionDenied):
        publicity.create_activity(session, w["officer"], other)
    session.rollback()
    auth.login("town2")
    assert client.get(f"/publicity/activities/{a1.id}").status_code == 403
    assert client.get(f"/publicity/activities/{a1.id}/edit").status_code == 403
    assert client.get(f"/publicity/activities?unit={w['town'].id}").status_code == 403
    assert client.get("/publicity/activities?unit=999999").status_code == 404
    page = client.get("/publicity/activities").get_data(as_text=True)
    assert "共 1 场,覆盖 500 人次" in page and "学校活动点" not in page
    auth.logout()
    auth.login("reviewer")
    page = client.get(f"/publicity/activities?unit={w['town'].id}&month=2026-09").get_data(as_text=True)
    assert "共 1 场,覆盖 120 人次" in page  # 青石镇 in September: a3 only
    page = client.get(f"/publicity/activities?fraud={opt(session, FRAUD, '刷单返利')}").get_data(as_text=True)
    assert "共 2 场,覆盖 320 人次" in page  # a1 (200) and a3 (120)
    assert 'data-label="覆盖人数"' in page


def test_stale_edit_and_validation(quarter, w, session):
    a3 = quarter[2]
    base = dict(
        held_on=a3.held_on,
        unit_id=w["town"].id,
        town_id=w["town"].id,
        place=a3.place,
        target_id=a3.target_id,
        form_id=a3.form_id,
        audience=120,
    )
    publicity.update_activity(session, w["officer"], a3.id, a3.version, publicity.ActivityValues(**base))
    session.commit()
    with pytest.raises(StaleEdit):
        publicity.update_activity(session, w["officer"], a3.id, 1, publicity.ActivityValues(**base))
    session.rollback()
    cases = [
        ({"apps": 121}, "不能超过覆盖人数"),
        ({"held_on": date(2026, 10, 16)}, "不能晚于今天"),
        ({"community": "不存在村"}, "不在青石镇登记的村(社区)中"),
        ({"place": "  "}, "请填写活动地点"),
        ({"audience": -1}, "覆盖人数应在0到"),
        ({"target_id": opt(session, FORM, "展板")}, "请选择宣传对象"),
    ]
    for change, words in cases:
        with pytest.raises(ValidationError, match=re.escape(words)):
            publicity.create_activity(session, w["officer"], publicity.ActivityValues(**(base | change)))
        session.rollback()
    # a department must name the town where it held the activity
    dept = base | {"unit_id": w["police_unit"].id, "town_id": None}
    with pytest.raises(ValidationError, match="所在镇"):
        publicity.create_activity(session, w["police"], publicity.ActivityValues(**dept))
    session.rollback()


def _xlsx(tmp_path, rows, name="in.xlsx"):
    wb = Workbook()
    ws = wb.active
    ws.title = "宣传活动"
    ws.append(HEADERS)
    for r in rows:
        ws.append(r)
    path = tmp_path / name
    wb.save(path)
    return path


def _row(held, unit, town, place, target, form, frauds, audience, materials=None, apps=None, community=None):
    return [held, unit, town, community, place, target, form, frauds, audience, materials, apps, None, None]


def test_import_dry_run_lists_problems_writes_nothing_exit_1(w, seeded, session, tmp_path):
    path = _xlsx(
        tmp_path,
        [
            _row("2026-09-03", "青石镇", None, "青石中学", "学校", "宣讲/讲座", "刷单返利、冒充公检法", 300),
            _row("2026-13-01", "青石镇", None, "青石村", "农村", "发放资料", None, 100),
            _row("2026-09-04", "不存在镇", None, "某地", "学校", "宣讲/讲座", None, 10),
            _row("2026-09-05", "公安分局", None, "银行", "金融网点", "展板", None, 10),
            _row("2026-09-06", "青石镇", None, "工地", "学生", "宣讲/讲座", "刷单", 10),
            _row("2026-09-07", "青石镇", None, "新街", "社区", "入户走访", None, 10, apps=11),
            _row("2026-09-03", "青石镇", None, "青石中学", "学校", "宣讲/讲座", None, 300),
        ],
    )
    before = session.scalar(select(func.count(Activity.id)))
    out = seeded.test_cli_runner().invoke(args=["activities", "import", str(path), "--dry-run"])
    assert out.exit_code == 1
    lines = out.output.splitlines()
    assert "第3行“活动日期”:日期不存在" in lines
    assert "第4行“开展单位”:单位“不存在镇”不存在" in lines
    assert "第5行“所在镇(街道)”:部门开展的活动须填写所在镇(街道)" in lines
    assert any(x.startswith("第6行“宣传对象”:宣传对象“学生”不在名录中") for x in lines)
    assert "第6行“涉及诈骗类型”:诈骗类型“刷单”不在名录中" in lines
    assert "第7行“现场注册反诈APP(人)”:现场注册反诈APP人数(11)不能超过覆盖人数(10)" in lines
    assert "第8行:与第2行重复(同一单位、日期、地点、宣传对象)" in lines
    assert "7 activities in the file; 7 problems" in lines
    session.rollback()
    assert session.scalar(select(func.count(Activity.id))) == before
    # without --dry-run, a file with problems writes nothing either
    assert seeded.test_cli_runner().invoke(args=["activities", "import", str(path)]).exit_code == 1
    assert session.scalar(select(func.count(Activity.id))) == before


def test_import_writes_all_rows_and_counts_the_figures(w, seeded, session, tmp_path):
    path = _xlsx(
        tmp_path,
        [
            _row(
                datetime(2026, 9, 3),
                "青石镇",
                None,
                "青石中学",
                "学校",
                "宣讲/讲座",
                "刷单返利、冒充公检法",
                300,
                600,
                90,
            ),
            _row("2026/9/8", "公安分局", "青石镇", "农商行", "金融网点", "展板", None, 45),
        ],
    )
    out = seeded.test_cli_runner().invoke(args=["activities", "import", str(path)])
    assert out.exit_code == 0, out.output
    assert "written: 2 activities" in out.output
    # both held in 青石镇 in September: 2 activities, 300 + 45 = 345
    assert _figure(session, "events", w["town"], "2026-09") == (2, SOURCE_REGISTER)
    assert _figure(session, "reach", w["town"], "2026-09") == (345, SOURCE_REGISTER)
    a = session.scalar(select(Activity).where(Activity.place == "青石中学"))
    assert [o.name for o in a.fraud_types] == ["刷单返利", "冒充公检法"]
    assert a.task is not None and a.task.number == 3  # 任务三 by default
    # the same file again: every row already in the register
    again = seeded.test_cli_runner().invoke(args=["activities", "import", str(path), "--dry-run"])
    assert again.exit_code == 1 and "台账中已有" in again.output


def test_export_read_back_equals_the_list(quarter, w, seeded, session, tmp_path):
    target = tmp_path / "out.xlsx"
    out = seeded.test_cli_runner().invoke(
        args=["activities", "export", "--from", "2026-07", "--to", "2026-09", "-o", str(target)]
    )
    assert out.exit_code == 0, out.output
    wb = load_workbook(target)
    ws = wb["宣传活动"]
    assert ws.freeze_panes == "A2"
    rows = list(ws.iter_rows(values_only=True))
    assert list(rows[0]) == HEADERS + ["照片与材料(个)"]  # the photo count is exported, never imported
    listed = publicity.list_activities(session, w["reviewer"], publicity.ActivityFilter(start="2026-07", end="2026-09"))
    listed.sort(key=lambda a: (a.held_on, a.id))
    assert len(rows) - 1 == len(listed) == 4  # October's is outside
    for got, a in zip(rows[1:], listed, strict=True):
        assert got[0] == datetime.combine(a.held_on, datetime.min.time())  # a date cell, not text
        assert got[1:8] == (
            a.unit.name,
            a.town.name,
            a.community or None,
            a.place,
            a.target.name,
            a.form.name,
            a.fraud_label or None,
        )
        assert got[8:11] == (a.audience, a.materials, a.apps)  # numbers stay numbers
        assert got[11] == "任务三"
    # the first row (10 July, 青石镇): 200 people, 400 leaflets, 60 apps
    assert rows[1][8:11] == (200, 400, 60)


def test_export_escapes_formula_text(w, session, client, auth):
    record(session, w["officer"], w["town"], date(2026, 9, 1), "学校", 10, place='=HYPERLINK("x")')
    auth.login("town1")
    resp = client.get("/publicity/export")
    ws = load_workbook(io.BytesIO(resp.data))["宣传活动"]
    c = ws.cell(row=2, column=5)
    assert c.value == '=HYPERLINK("x")' and c.data_type == "s" and c.quotePrefix


def test_options_lists_switch_off_and_refuse_stale(w, session):
    token = publicity.options_token(session)
    lists = {
        TARGET: "学校\n企业\n老年群体",
        FORM: "宣讲/讲座",
        FRAUD: "刷单返利",
    }
    with pytest.raises(PermissionDenied):
        publicity.save_options(session, w["reviewer"], token, lists)
    session.rollback()
    publicity.save_options(session, w["admin"], token, lists)
    session.commit()
    assert [o.name for o in publicity.options(session, TARGET)] == ["学校", "企业", "老年群体"]
    # 社区 switched off, not deleted
    assert "社区" in [o.name for o in publicity.options(session, TARGET, include_inactive=True)]
    with pytest.raises(StaleEdit):
        publicity.save_options(session, w["admin"], token, lists)
    session.rollback()
    with pytest.raises(ValidationError, match="至少保留一项"):
        publicity.save_options(session, w["admin"], publicity.options_token(session), lists | {FORM: " "})


def test_creations_go_declared_inspected_named_and_are_counted(w, session):
    c = creations.declare(
        session, w["officer"], unit_id=w["town"].id, kind="community", name="青石社区", declared_on=date(2026, 7, 1)
    )
    with pytest.raises(PermissionDenied):
        creations.advance(session, w["officer"], c.id, c.version, date(2026, 8, 1))
    with pytest.raises(ValidationError, match="不能早于申报日期"):
        creations.advance(session, w["reviewer"], c.id, c.version, date(2026, 6, 30))
    c = creations.advance(session, w["reviewer"], c.id, c.version, date(2026, 8, 1))
    with pytest.raises(WorkflowError):
        creations.update(
            session,
            w["officer"],
            c.id,
            c.version,
            unit_id=w["town"].id,
            kind="community",
            name="青石社区",
            declared_on=date(2026, 7, 1),
            notes="",
        )
    c = creations.advance(session, w["reviewer"], c.id, c.version, date(2026, 10, 8))
    creations.declare(
        session, w["officer2"], unit_id=w["town2"].id, kind="campus", name="柳溪中学", declared_on=date(2026, 9, 9)
    )
    with pytest.raises(ValidationError, match="已登记"):
        creations.declare(
            session, w["officer2"], unit_id=w["town2"].id, kind="campus", name="柳溪中学", declared_on=date(2026, 9, 9)
        )
    session.commit()
    # at the end of Q3: 青石社区 inspected (named only on 8 October), 柳溪中学 declared
    q3 = creations.counts(session, Period.parse("2026-Q3"))
    assert q3.totals == {"已申报": 1, "已验收": 1, "已命名": 0}
    assert (q3.declared_in, q3.inspected_in, q3.named_in) == (2, 1, 0)
    assert q3.by_kind["无诈社区"]["已验收"] == 1 and q3.by_kind["无诈校园"]["已申报"] == 1
    q4 = creations.counts(session, Period.parse("2026-Q4"))
    assert q4.totals == {"已申报": 1, "已验收": 0, "已命名": 1}
    assert [x.name for x in creations.list_creations(session, w["officer2"])] == ["柳溪中学"]


def test_pages_answer_and_record_through_the_form(quarter, w, session, client, auth):
    auth.login("town1")
    for url in (
        "/publicity/activities",
        "/publicity/stats?period=2026-Q3",
        "/publicity/activities/new",
        "/publicity/communities",
        "/publicity/creations",
        "/publicity/creations/new",
        "/publicity/import",
    ):
        assert client.get(url).status_code == 200, url
    assert client.get("/publicity/options").status_code == 403
    stats = client.get("/publicity/stats?period=2026-Q3").get_data(as_text=True)
    assert "开展宣传活动 <strong>4</strong> 场,覆盖 <strong>400</strong> 人次" in stats
    assert "青石镇(登记村(社区)3个)未覆盖:石桥村" in stats
    assert "<svg" in stats
    data = {
        "held_on": "2026-10-12",
        "community": "石桥村",
        "place": "石桥村文化礼堂",
        "target_id": str(opt(session, TARGET, "农村")),
        "form_id": str(opt(session, FORM, "宣讲/讲座")),
        "fraud_ids": [str(opt(session, FRAUD, "虚假征信"))],
        "audience": "85",
        "materials": "170",
        "apps": "20",
        "task_id": str(publicity.default_task(session).id),
        "notes": "",
    }
    resp = client.post("/publicity/activities/new", data=data)
    assert resp.status_code == 302
    a = session.scalar(select(Activity).where(Activity.place == "石桥村文化礼堂"))
    assert (a.unit_id, a.town_id, a.audience, a.apps) == (w["town"].id, w["town"].id, 85, 20)
    refused = client.post("/publicity/activities/new", data=data | {"apps": "90", "place": "别处"})
    assert refused.status_code == 422
    assert "不能超过覆盖人数" in refused.get_data(as_text=True)
    stale = client.post(f"/publicity/activities/{a.id}/edit", data=data | {"version": "99", "audience": "86"})
    assert stale.status_code == 409
    q4 = client.get("/publicity/stats?period=2026-Q4").get_data(as_text=True)
    assert "青石镇(登记村(社区)3个)未覆盖:青石村、新街社区" in q4


def test_briefing_section_and_scorecard_line(quarter, w, session, app, client, auth):
    from pypdf import PdfReader

    from tracker.reports import service as reports

    creations.declare(
        session, w["officer"], unit_id=w["town"].id, kind="community", name="青石社区", declared_on=date(2026, 8, 1)
    )
    session.commit()
    q3 = Period.parse("2026-Q3")
    with app.test_request_context():
        data = reports.briefing_data(session, q3)
        html = reports.render_html("briefing", data, for_print=True)
        pdf = reports.to_pdf("briefing", data)
    assert "七、宣传教育" in html
    # 4 activities in Q3: 200 + 50 + 120 + 30 = 400 people, 400 leaflets (a1 only), 60 apps (a1 only)
    assert "全区各单位共开展反诈宣传活动4场,覆盖400人次,发放宣传资料400份,现场注册反诈APP60人" in html
    assert "未开展宣传的对象:企业、机关、农村、工地、家庭" in html
    assert "青石镇未覆盖的村(社区):石桥村" in html
    assert "截至期末已申报1个、已验收0个、已命名0个;本期新申报1个" in html
    assert "<svg" in html.split("七、宣传教育")[1]
    text = "".join("".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(pdf)).pages)
    assert "七、宣传教育" in text and "反诈宣传活动4场,覆盖400人次" in text
    auth.login("town1")
    card = client.get("/reports/scorecard?period=2026-Q3").get_data(as_text=True)
    # 青石镇's own three: 200 + 50 + 120 = 370, apps 60
    assert "宣传教育:本期开展反诈宣传活动3场,覆盖370人次,现场注册反诈APP60人" in card


def _upload(client, path, name="activities.xlsx"):
    with open(path, "rb") as f:
        return client.post(
            "/publicity/import", data={"file": (io.BytesIO(f.read()), name)}, content_type="multipart/form-data"
        )


def test_web_import_previews_then_writes_all_or_nothing(w, app, session, client, auth, tmp_path):
    from tracker import uploads

    stash = uploads.stash_for(app)
    auth.login("town1")
    bad = _xlsx(
        tmp_path,
        [
            _row("2026-09-03", "青石镇", None, "青石中学", "学校", "宣讲/讲座", None, 300),
            _row("2026-09-04", "柳溪镇", None, "柳溪中学", "学校", "宣讲/讲座", None, 200),
        ],
        "bad.xlsx",
    )
    html = _upload(client, bad).get_data(as_text=True)
    assert "发现 1 个问题,不能导入" in html
    assert "第3行“开展单位”:您只能登记本单位的宣传活动,不能登记柳溪镇的" in html
    assert "确认导入" not in html and stash.usage()[0] == 0  # a preview with problems keeps nothing
    good = _xlsx(
        tmp_path,
        [
            _row("2026-09-03", "青石镇", None, "青石中学", "学校", "宣讲/讲座", "刷单返利", 300),
            _row("2026-09-09", "青石镇", None, "青石村", "农村", "发放资料", None, 120, 240),
        ],
        "good.xlsx",
    )
    html = _upload(client, good).get_data(as_text=True)
    assert "共 2 场活动,检查无误" in html and stash.usage()[0] == 1
    form = dict(re.findall(r'name="(ticket|digest)" type="hidden" value="([^"]+)"', html))
    assert session.scalar(select(func.count(Activity.id))) == 0
    resp = client.post("/publicity/import/confirm", data=form)
    assert resp.status_code == 302
    assert session.scalar(select(func.count(Activity.id))) == 2 and stash.usage()[0] == 0
    # 青石镇 September: 2 activities, 300 + 120 = 420
    assert _figure(session, "reach", w["town"], "2026-09") == (420, SOURCE_REGISTER)
    # confirming the same ticket again finds the file gone: nothing written twice
    client.post("/publicity/import/confirm", data=form)
    assert session.scalar(select(func.count(Activity.id))) == 2


def test_a_web_import_meeting_a_constraint_writes_nothing(w, app, session, client, auth, tmp_path, monkeypatch):
    """Another request wrote a clashing row between the preview's checks and the commit: the import meets the
    constraint, is answered like a stale edit (back to the upload page with the message), writes none of its 2
    activities, and keeps the upload, so the same confirm writes both once the clash is gone."""
    from tracker import uploads
    from tracker.publicity import exchange

    stash = uploads.stash_for(app)
    auth.login("town1")
    good = _xlsx(
        tmp_path,
        [
            _row("2026-09-03", "青石镇", None, "青石中学", "学校", "宣讲/讲座", "刷单返利", 300),
            _row("2026-09-09", "青石镇", None, "青石村", "农村", "发放资料", None, 120, 240),
        ],
    )
    form = dict(
        re.findall(
            r'name="(ticket|digest)" type="hidden" value="([^"]+)"', _upload(client, good).get_data(as_text=True)
        )
    )
    original = exchange.apply_import

    def write_then_collide(s, *args, **kwargs):
        original(s, *args, **kwargs)
        s.flush()  # both activities written in this transaction, then the commit meets the other request's row
        raise IntegrityError("INSERT INTO activities", {}, Exception("UNIQUE constraint failed"))

    monkeypatch.setattr(exchange, "apply_import", write_then_collide)
    resp = client.post("/publicity/import/confirm", data=form)
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/publicity/import")
    shown = client.get("/publicity/import").get_data(as_text=True)
    assert "导入时发现数据已被他人修改,本次未写入任何数据,请重新上传核对。" in shown
    assert session.scalar(select(func.count(Activity.id))) == 0 and stash.usage()[0] == 1
    monkeypatch.setattr(exchange, "apply_import", original)
    assert client.post("/publicity/import/confirm", data=form).status_code == 302
    assert session.scalar(select(func.count(Activity.id))) == 2 and stash.usage()[0] == 0


def test_hostile_files_are_refused_before_reading(w, client, auth, tmp_path):
    auth.login("town1")
    fake = tmp_path / "fake.xlsx"
    fake.write_bytes(b"MZ\x90\x00 an executable renamed .xlsx")
    resp = _upload(client, fake)
    assert resp.status_code == 422 and "不是有效的 Excel" in resp.get_data(as_text=True)
    # a zip bomb: a real workbook whose sheet inflates to 150 MB from about 150 KB
    import zipfile

    plain = io.BytesIO()
    Workbook().save(plain)
    src = zipfile.ZipFile(io.BytesIO(plain.getvalue()))
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"</worksheet>", b"<!--" + b" " * (150 * 1024 * 1024) + b"--></worksheet>")
            z.writestr(info, data)
    assert bomb.stat().st_size < 1024 * 1024
    resp = _upload(client, bomb)
    assert resp.status_code == 422 and "压缩炸弹" in resp.get_data(as_text=True)


def test_demo_quarter_is_plausible(w, session):
    from tracker.auth.models import User
    from tracker.publicity import demo

    users = {u.username: u for u in session.scalars(select(User))}
    made = demo.load(session, users, date(2026, 10, 15))
    session.commit()
    # towns: 9 + 7 + 5 + 8 + 9 + 4 = 42 activities, departments 2 + 1 + 1 = 4
    assert made == {"activities": 46, "creations": 5}
    s = publicity_statistics.statistics(session, Period.parse("2026-Q3"))  # the demo quarter is August to October
    span = publicity.list_activities(session, w["reviewer"], publicity.ActivityFilter(start="2026-08", end="2026-10"))
    assert len(span) == 46 and all(date(2026, 8, 1) <= a.held_on <= date(2026, 10, 15) for a in span)
    assert s.total.activities < 46  # Q3 holds only August and September of them
    # every town keeps its last-listed 村/社区 unreached
    q = publicity_statistics.statistics(session, Period.parse("2026-Q4"))
    full = publicity_statistics.statistics(session, Period.parse("2026"))
    assert {town: names[-1:] for town, names in full.uncovered_communities.items()} == {
        "青石镇": ["新街社区"],
        "柳溪镇": ["溪北社区"],
        "云岭镇": ["岭下村"],
        "白沙镇": ["滨江社区"],
        "东湖街道": ["东城社区"],
        "南山街道": ["翠竹社区"],
    }
    assert all(len(names) == 1 for names in full.uncovered_communities.values())
    assert q.total.activities + s.total.activities == 46
    counts = creations.counts(session, Period.parse("2026"))
    assert counts.totals == {"已申报": 2, "已验收": 2, "已命名": 1}


def test_a_bad_month_filter_is_said_and_dropped_as_every_page_says_it(quarter, w, client, auth):
    """The list's month filter reads its month as every page reads a period: a value that is no month is named in
    the same message (before, the list silently showed everything), and the list shows all 5 activities."""
    auth.login("reviewer")
    # September: 120 + 30 = 150 (a month written 2026-9 is the same month)
    assert "共 2 场,覆盖 150 人次" in client.get("/publicity/activities?month=2026-9").get_data(as_text=True)
    for month, message in (
        ("九月", "无法识别的期间“九月”,应为 2026-10"),
        ("2026-Q3", "期间应为月份(如 2026-10),收到“2026-Q3”"),
        ("2026-13", "月份应为1至12,收到 13"),
    ):
        html = client.get(f"/publicity/activities?month={month}").get_data(as_text=True)
        assert f'<div class="flash flash-error" role="alert" tabindex="-1">{message}</div>' in html
        # 200 + 50 + 120 + 30 + 500 = 900
        assert "共 5 场,覆盖 900 人次" in html and 'name="month" value=""' in html
    assert "flash-error" not in client.get("/publicity/activities?month=").get_data(as_text=True)


def test_every_register_page_renders_for_its_readers(quarter, w, session, client, auth):
    a1 = quarter[0]
    c = creations.declare(
        session, w["officer"], unit_id=w["town"].id, kind="campus", name="青石中学", declared_on=date(2026, 9, 1)
    )
    session.commit()
    auth.login("town1")
    page = client.get(f"/publicity/activities/{a1.id}").get_data(as_text=True)
    assert "刷单返利、冒充公检法" in page and "修改" in page
    edit = client.get(f"/publicity/activities/{a1.id}/edit")
    assert edit.status_code == 200 and 'value="青石村"' in edit.get_data(as_text=True)
    assert client.get(f"/publicity/creations/{c.id}/edit").status_code == 200
    auth.logout()
    auth.login("reviewer")
    page = client.get(f"/publicity/activities/{a1.id}").get_data(as_text=True)
    assert "学校活动点" in page and "/edit" not in page  # a reviewer reads, never edits
    resp = client.post(f"/publicity/creations/{c.id}/advance", data={"version": c.version, "on": "2026-10-10"})
    assert resp.status_code == 302
    session.expire_all()
    assert session.get(type(c), c.id).status_label == "已验收"
    assert "已验收" in client.get("/publicity/creations").get_data(as_text=True)
    auth.logout()
    auth.login("admin")
    page = client.get("/publicity/options")
    assert page.status_code == 200 and "网购虚假服务" in page.get_data(as_text=True)
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    data = {"token": token, "target": "学校\n企业", "form": "宣讲/讲座", "fraud": "刷单返利"}
    assert client.post("/publicity/options", data=data).status_code == 302
    assert [o.name for o in publicity.options(session, TARGET)] == ["学校", "企业"]
    stale = client.post("/publicity/options", data=data | {"target": "学校"})
    assert stale.status_code == 409 and "名录已被他人修改" in stale.get_data(as_text=True)
    admin_town = client.get(f"/publicity/communities?unit={w['town'].id}")
    assert admin_town.status_code == 200 and "石桥村" in admin_town.get_data(as_text=True)


@pytest.mark.skipif(not PG_URL, reason="SQLite serialises writers; races need PostgreSQL")
def test_two_activities_in_one_town_at_once_are_both_counted(w, app, session, monkeypatch):
    """The town's officer and 公安分局 record an activity in 青石镇 in October at the same moment: both saved, the
    month's 宣传场次 is 2 and 覆盖人次 100 + 40 = 140 (the second save waits for the first instead of losing it)."""
    import threading

    barrier = threading.Barrier(2)
    original = publicity.sync_figures

    def meet_then_sync(*args, **kwargs):
        try:
            barrier.wait(timeout=0.5)  # both activities inserted, neither counted yet
        except threading.BrokenBarrierError:
            pass
        return original(*args, **kwargs)

    monkeypatch.setattr(publicity, "sync_figures", meet_then_sync)
    town = w["town"]
    base = {
        "held_on": "2026-10-12",
        "target_id": str(opt(session, TARGET, "学校")),
        "form_id": str(opt(session, FORM, "宣讲/讲座")),
        "task_id": str(publicity.default_task(session).id),
    }
    posts = [
        ("town1", base | {"place": "青石中学", "audience": "100"}),
        ("police", base | {"place": "青石农商行", "audience": "40", "town_id": str(town.id)}),
    ]
    session.commit()
    clients = []
    for username, _data in posts:
        c = app.test_client()
        assert c.post("/login", data={"username": username, "password": "demo-2026"}).status_code == 302
        clients.append(c)
    results = [0, 0]
    start = threading.Barrier(2)

    def run(i: int) -> None:
        start.wait()
        results[i] = clients[i].post("/publicity/activities/new", data=posts[i][1]).status_code

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert results == [302, 302]
    session.expire_all()
    assert _figure(session, "events", town, "2026-10") == (2, SOURCE_REGISTER)
    assert _figure(session, "reach", town, "2026-10") == (140, SOURCE_REGISTER)


def test_an_activity_keeps_its_photos_and_the_reviewer_sees_them(w, session, client, auth, tmp_path):
    """An officer records an activity with two photos from the form (a camera shot and a chosen file): the activity
    page lists 活动照片与材料(2) with two thumbnails, the list and the export count 2, another town's officer cannot
    open them, and deleting the activity takes its photos with it."""
    import io as _io

    from openpyxl import load_workbook

    from tracker.evidence.models import Attachment

    from . import evidence_files as files

    auth.login("town1")
    data = {
        "held_on": "2026-10-12",
        "place": "青石村文化礼堂",
        "target_id": str(opt(session, TARGET, "农村")),
        "form_id": str(opt(session, FORM, "宣讲/讲座")),
        "fraud_ids": [str(opt(session, FRAUD, "虚假征信"))],
        "audience": "85",
        "materials": "170",
        "apps": "20",
        "task_id": str(publicity.default_task(session).id),
        "notes": "",
        "evidence": [
            (_io.BytesIO(files.photo(60, 40, "red")), "现场.jpg"),
            (_io.BytesIO(files.photo(80, 60, "blue", orientation=None)), "讲座.jpg"),
        ],
    }
    resp = client.post("/publicity/activities/new", data=data, content_type="multipart/form-data")
    assert resp.status_code == 302, resp.get_data(as_text=True)
    a = session.scalar(select(Activity).where(Activity.place == "青石村文化礼堂"))
    photos = session.scalars(
        select(Attachment).where(Attachment.owner_kind == "activity", Attachment.owner_id == a.id)
    ).all()
    assert sorted((p.name, p.width, p.height) for p in photos) == [("现场.jpg", 40, 60), ("讲座.jpg", 80, 60)]

    auth.logout()
    auth.login("reviewer")
    page = client.get(f"/publicity/activities/{a.id}").get_data(as_text=True)
    assert "活动照片与材料(2)" in page and page.count('alt="照片:') == 2
    for p in photos:
        thumb = client.get(f"/evidence/{p.id}/thumb")
        assert thumb.status_code == 200 and thumb.mimetype.startswith("image/")
        thumb.close()
    listing = client.get("/publicity/activities?month=2026-10").get_data(as_text=True)
    assert '<td data-label="照片与材料" class="num">2</td>' in listing
    sheet = load_workbook(_io.BytesIO(client.get("/publicity/export?month=2026-10").data)).active
    header = [c.value for c in sheet[1]]
    row = next(
        r for r in sheet.iter_rows(min_row=2, values_only=True) if r[header.index("活动地点")] == "青石村文化礼堂"
    )
    assert row[header.index("照片与材料(个)")] == 2

    # the quarter's statistics count them: October's activity and its 2 photos are Q4's
    stats = client.get("/publicity/stats?period=2026-Q4").get_data(as_text=True)
    assert "附活动照片与材料 <strong>2</strong> 个" in stats
    assert publicity_statistics.statistics(session, Period.parse("2026-Q4")).photos == 2
    assert publicity_statistics.statistics(session, Period.parse("2026-Q3")).photos == 0

    auth.logout()
    auth.login("town2")
    refused = client.get(f"/evidence/{photos[0].id}")
    assert refused.status_code == 403
    refused.close()

    publicity.delete_activity(session, w["officer"], a.id, a.version)
    session.commit()
    assert session.scalar(select(Attachment.id).where(Attachment.owner_kind == "activity")) is None
