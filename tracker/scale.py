"""A plausible district N times the demo, for benchmarks: more towns, years of reports and figures, cards and
meetings. Rows are inserted in bulk (the generated history has no audit events of its own: one event records the
generation)."""

from __future__ import annotations

import hashlib
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from . import clock
from .assessment.models import Card, CardStatus
from .audit.service import record
from .auth.models import ROLE_OFFICER, User
from .auth.service import hash_password
from .meetings.models import Decision, DecisionStatus, Meeting, MeetingStatus, meeting_units
from .metrics.models import Indicator, MetricValue
from .org.models import KIND_TOWNSHIP, Unit
from .periods import Period
from .plans.service import active_plan, due_date, duties, update_period
from .progress.models import ProgressReport, ReportStatus

CORE = ("cases", "losses", "arrests", "solved")


def _h(*keys) -> int:
    return int(hashlib.sha256("|".join(map(str, keys)).encode()).hexdigest()[:8], 16)


def _at(d: date, hour: int) -> datetime:
    return datetime.combine(d, time(hour), tzinfo=clock.CHINA_TZ)


def generate(
    session: Session, actor, scale: int, years: int = 10, today: date | None = None, password: str = "demo-2026"
) -> dict:
    """Add 6 × scale fictional towns (with officers) and `years` years of history for every unit."""
    today = today or clock.today()
    plan = active_plan(session)
    new_towns = _add_towns(session, 6 * scale, hash_password(password))
    months = []
    p = Period.of_date(today)
    for _ in range(12 * years):
        months.append(p)
        p = p.previous()
    months.reverse()
    # the generated history is the plan's: its period covers every generated month
    update_period(
        session,
        actor,
        plan.id,
        plan.version,
        start_month=min(plan.start_month, months[0].code),
        end_month=max(plan.end_month, months[-1].code),
    )
    reviewer_id = session.scalar(select(User.id).where(User.role == "reviewer"))
    reports = _reports(session, plan, months, today, reviewer_id)
    towns = list(session.scalars(select(Unit).where(Unit.kind == KIND_TOWNSHIP, Unit.is_active.is_(True))))
    figures = _figures(session, towns, months, today)
    meetings, decisions, cards = _meetings_and_cards(session, towns, months, today, reviewer_id)
    session.flush()
    summary = {
        "towns_added": len(new_towns),
        "reports": reports,
        "figures": figures,
        "meetings": meetings,
        "decisions": decisions,
        "cards": cards,
    }
    record(
        session,
        actor,
        "demo.scale",
        object_type="Demo",
        after={"scale": scale, **summary},
        summary=f"生成{scale}倍规模的样本数据",
    )
    return summary


def _add_towns(session: Session, wanted: int, password_hash: str) -> list[Unit]:
    """Towns 样本镇NNN (each with an officer scaleID) until there are `wanted` towns in all."""
    base = session.scalar(select(func.count()).select_from(Unit).where(Unit.kind == KIND_TOWNSHIP)) or 0
    order = session.scalar(select(func.max(Unit.sort_order))) or 0
    new_towns = []
    for i in range(max(0, wanted - base)):
        n = base + i + 1
        unit = Unit(name=f"样本镇{n:03d}", kind=KIND_TOWNSHIP, aliases="", sort_order=order + i + 1)
        session.add(unit)
        new_towns.append(unit)
    session.flush()
    for u in new_towns:
        session.add(
            User(
                username=f"scale{u.id}",
                display_name=f"{u.name}填报员",
                password_hash=password_hash,
                role=ROLE_OFFICER,
                unit_id=u.id,
            )
        )
    session.flush()
    return new_towns


def _reports(session: Session, plan, months: list[Period], today: date, reviewer_id: int | None) -> int:
    """Reports of every duty with an officer for each month already due (one in 20 never filed, 2 late, 1 returned);
    the count added."""
    officer_of = dict(session.execute(select(User.unit_id, User.id).where(User.role == ROLE_OFFICER)).all())
    existing = set(session.execute(select(ProgressReport.task_id, ProgressReport.unit_id, ProgressReport.period)))
    plan_duties = duties(session, plan)
    rows = []
    for m in months:
        due = due_date(plan, m)
        for d in plan_duties:
            key = (d.task.id, d.unit.id, m.code)
            if key in existing or d.unit.id not in officer_of or due >= today:
                continue
            roll = _h("r", *key) % 20
            if roll == 0:
                continue  # never reported
            late = roll in (1, 2)
            submitted = _at(due + timedelta(days=2) if late else due - timedelta(days=1 + roll % 9), 10)
            rows.append(
                {
                    "task_id": d.task.id,
                    "unit_id": d.unit.id,
                    "period": m.code,
                    "status": ReportStatus.RETURNED if roll == 3 else ReportStatus.ACCEPTED,
                    "progress": f"{d.unit.name}{m.label}开展反诈宣传{roll + 3}场,覆盖{(roll + 1) * 120}人次。",
                    "completion": "按计划完成",
                    "problems": "",
                    "next_steps": "继续推进",
                    "created_at": submitted,
                    "updated_at": submitted,
                    "first_submitted_at": submitted,
                    "submitted_at": submitted,
                    "is_late": late,
                    "reviewed_at": submitted + timedelta(days=1),
                    "reviewer_id": reviewer_id,
                    "review_comment": "请补充数据" if roll == 3 else "",
                    "version": 3,
                }
            )
    for i in range(0, len(rows), 2000):
        session.execute(insert(ProgressReport), rows[i : i + 2000])
    return len(rows)


def _figures(session: Session, towns: list[Unit], months: list[Period], today: date) -> int:
    """The four core figures of every town for each month begun (level, trend and season from the town's hash);
    the count added."""
    inds = {i.code: i for i in session.scalars(select(Indicator).where(Indicator.code.in_(CORE)))}
    have = set(session.execute(select(MetricValue.indicator_id, MetricValue.unit_id, MetricValue.month)))
    values = []
    for m in months:
        if m.start > today:
            continue
        for u in towns:
            level = 8 + _h("lvl", u.id) % 30
            trend = 1 + ((_h("t", u.id) % 7) - 3) / 40
            seasonal = 1 + ((m.first % 6) - 2.5) / 20
            cases = max(0, int(level * seasonal * trend ** (m.year - 2020) + _h("c", u.id, m.code) % 5))
            figures = {
                "cases": cases,
                "losses": Decimal(cases * (30 + _h("l", u.id, m.code) % 40)) / 10,
                "arrests": cases * (40 + _h("a", u.id) % 40) // 100,
                "solved": cases * (50 + _h("s", u.id) % 30) // 100,
            }
            for code, v in figures.items():
                ind = inds[code]
                if (ind.id, u.id, m.code) in have:
                    continue
                is_amount = isinstance(v, Decimal)
                values.append(
                    {
                        "indicator_id": ind.id,
                        "unit_id": u.id,
                        "month": m.code,
                        "count": None if is_amount else int(v),
                        "amount": v.quantize(Decimal("0.01")) if is_amount else None,
                        "source": "import",
                        "updated_at": clock.now(),
                        "version": 1,
                    }
                )
    for i in range(0, len(values), 2000):
        session.execute(insert(MetricValue), values[i : i + 2000])
    return len(values)


def _meetings_and_cards(
    session: Session, towns: list[Unit], months: list[Period], today: date, reviewer_id: int
) -> tuple[int, int, int]:
    """A held meeting per past quarter, with three decisions and a yellow card; the counts added."""
    quarters = sorted({m.in_quarter for m in months if m.end < today})
    n_meetings = n_decisions = n_cards = 0
    for q in quarters:
        held = q.end + timedelta(days=15)
        title = f"{q.label}联席会议(样本)"
        if held >= today or session.scalar(select(Meeting.id).where(Meeting.title == title)):
            continue
        m = _sample_meeting(session, title, q, held, towns, reviewer_id)
        n_meetings += 1
        for k in range(3):
            session.add(_sample_decision(m, k, q, held, towns, today, reviewer_id))
            n_decisions += 1
        session.add(_sample_card(m, q, held, towns, today, reviewer_id))
        n_cards += 1
    return n_meetings, n_decisions, n_cards


def _sample_meeting(
    session: Session, title: str, q: Period, held: date, towns: list[Unit], reviewer_id: int
) -> Meeting:
    m = Meeting(
        title=title,
        date=held,
        period=q.code,
        convener="区委政法委",
        status=MeetingStatus.HELD,
        held_at=_at(held, 11),
        held_by_id=reviewer_id,
        created_by_id=reviewer_id,
        created_at=_at(held - timedelta(days=7), 9),
        updated_at=_at(held, 11),
    )
    session.add(m)
    session.flush()
    session.execute(insert(meeting_units), [{"meeting_id": m.id, "unit_id": u.id} for u in towns[:12]])
    return m


def _sample_decision(
    m: Meeting, k: int, q: Period, held: date, towns: list[Unit], today: date, reviewer_id: int
) -> Decision:
    """The meeting's decision k: three quarters of those past their deadline closed on time."""
    lead = towns[_h("d", q.code, k) % len(towns)]
    deadline = held + timedelta(days=30 + 10 * k)
    closed = _h("closed", q.code, k) % 4 != 0 and deadline < today
    return Decision(
        meeting_id=m.id,
        number=k + 1,
        text=f"{lead.name}开展反诈专项整治",
        lead_unit_id=lead.id,
        deadline=deadline,
        status=DecisionStatus.CLOSED if closed else DecisionStatus.OPEN,
        created_by_id=reviewer_id,
        created_at=_at(held, 12),
        closed_at=_at(deadline - timedelta(days=2), 10) if closed else None,
        closed_by_id=reviewer_id if closed else None,
        closed_on_time=True if closed else None,
    )


def _sample_card(m: Meeting, q: Period, held: date, towns: list[Unit], today: date, reviewer_id: int) -> Card:
    """A town's yellow card issued the day after the meeting, lifted 25 days later when that day has passed."""
    town = towns[_h("card", q.code) % len(towns)]
    issued = held + timedelta(days=1)
    lifted = issued + timedelta(days=25)
    return Card(
        unit_id=town.id,
        colour="yellow",
        period=q.code,
        reason=f"{q.label}发案同比上升(样本)",
        figures={},
        issued_by_id=reviewer_id,
        issued_at=_at(issued, 10),
        meeting_id=m.id,
        plan_due=issued + timedelta(days=7),
        deadline=issued + timedelta(days=30),
        status=CardStatus.LIFTED if lifted < today else CardStatus.ACTIVE,
        closed_at=_at(lifted, 10) if lifted < today else None,
        closed_by_id=reviewer_id if lifted < today else None,
        close_note="整改到位(样本)" if lifted < today else "",
    )
