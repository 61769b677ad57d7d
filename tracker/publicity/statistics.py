"""A period's register in figures: totals per unit, town, target group, form, fraud type and month, the photos kept,
and what the period did not reach (target groups, towns, a town's listed 村/社区)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from ..evidence import service as evidence
from ..org.models import KIND_TOWNSHIP, Unit
from ..periods import Period
from .models import FORM, FRAUD, TARGET, Activity, PublicityOption
from .service import CATCH_ALL, community_lists


@dataclass
class Tally:
    activities: int = 0
    audience: int = 0
    materials: int = 0
    apps: int = 0

    def add(self, a: Activity) -> None:
        self.activities += 1
        self.audience += a.audience
        self.materials += a.materials
        self.apps += a.apps

    def as_dict(self) -> dict:
        return {"activities": self.activities, "audience": self.audience}


@dataclass
class Stats:
    """A period's register in figures: totals, per unit, town, target group, form, fraud type and month, and what
    the period did not reach."""

    period: Period
    total: Tally
    by_unit: dict[str, Tally]
    by_town: dict[str, Tally]
    by_target: dict[str, Tally]
    by_form: dict[str, Tally]
    by_fraud: dict[str, Tally]
    by_month: dict[str, Tally]
    uncovered_targets: list[str]
    towns_without: list[str]
    # town name -> the listed 村/社区 without an activity; only towns that list theirs
    uncovered_communities: dict[str, list[str]]
    listed_communities: dict[str, int]
    photos: int = 0  # photos and other files attached to the period's activities (佐证材料)

    def as_json(self) -> dict:
        return {
            "period": self.period.code,
            "total": self.total.as_dict(),
            "by_target": {k: v.as_dict() for k, v in self.by_target.items()},
            "by_unit": {k: v.as_dict() for k, v in self.by_unit.items()},
            "by_town": {k: v.as_dict() for k, v in self.by_town.items()},
            "by_month": {k: v.as_dict() for k, v in self.by_month.items()},
            "uncovered_targets": self.uncovered_targets,
            "uncovered_communities": self.uncovered_communities,
        }


def _activities(session: Session, period: Period) -> list[Activity]:
    """The period's activities, their fraud types loaded."""
    return list(
        session.scalars(
            select(Activity)
            .options(selectinload(Activity.fraud_types))
            .where(Activity.held_on >= period.start, Activity.held_on <= period.end)
        )
    )


def activities_per_target(session: Session, period: Period) -> dict[str, int]:
    """The period's activities per target group (by the group's name), as `statistics` counts them in `by_target`
    (a group without any is absent here, 0 there), in one statement: what the briefing's chart sets beside a
    period's figures."""
    rows = session.execute(
        select(PublicityOption.name, func.count(Activity.id))
        .join(PublicityOption, PublicityOption.id == Activity.target_id)
        .where(Activity.held_on >= period.start, Activity.held_on <= period.end)
        .group_by(PublicityOption.id, PublicityOption.name)
    )
    return {name: n for name, n in rows}


# the units and the options as plain rows (the columns counted and shown), each statement built once: entities of
# every unit and option cost far more than their rows
@cache
def _units_query():
    return select(Unit.id, Unit.name, Unit.kind, Unit.sort_order, Unit.is_active)


@cache
def _options_query():
    o = PublicityOption
    return select(o.id, o.name, o.kind, o.sort_order, o.is_active)


def _unit_order(units: dict) -> Callable[[int], tuple]:
    """The sort key of a unit id: towns first, then departments, each in their list order."""
    return lambda uid: (units[uid].kind != KIND_TOWNSHIP, units[uid].sort_order, uid)


def statistics(session: Session, period: Period) -> Stats:
    """Every activity of the period counted. Units, targets and months with nothing show 0 where listed (the
    active target groups, the active towns, every month of the period); units with activities by name order."""
    rows = _activities(session, period)
    units = {u.id: u for u in session.execute(_units_query())}
    unit_order = _unit_order(units)
    opts = {o.id: o for o in session.execute(_options_query())}
    # each list's active options in its order, as `service.options` reads them, taken from the options read above
    listed = sorted((o for o in opts.values() if o.is_active), key=lambda o: (o.sort_order, o.id))
    targets = [o for o in listed if o.kind == TARGET]
    towns = sorted(
        (u for u in units.values() if u.kind == KIND_TOWNSHIP and u.is_active), key=lambda u: (u.sort_order, u.id)
    )
    total = Tally()
    by_unit: dict[int, Tally] = defaultdict(Tally)
    by_town: dict[int, Tally] = {u.id: Tally() for u in towns}
    by_target: dict[int, Tally] = {o.id: Tally() for o in targets}
    by_form: dict[int, Tally] = {o.id: Tally() for o in listed if o.kind == FORM}
    by_fraud: dict[int, Tally] = {o.id: Tally() for o in listed if o.kind == FRAUD}
    by_month: dict[str, Tally] = {m: Tally() for m in period.month_codes()}
    reached: dict[int, set[str]] = defaultdict(set)
    for a in rows:
        total.add(a)
        by_unit[a.unit_id].add(a)
        by_town.setdefault(a.town_id, Tally()).add(a)
        by_target.setdefault(a.target_id, Tally()).add(a)
        by_form.setdefault(a.form_id, Tally()).add(a)
        for o in a.fraud_types:
            by_fraud.setdefault(o.id, Tally()).add(a)
        by_month[a.month].add(a)
        if a.community:
            reached[a.town_id].add(a.community)

    lists = community_lists(session)
    uncovered_communities = {
        units[uid].name: [n for n in names if n not in reached[uid]]
        for uid, names in sorted(lists.items(), key=lambda kv: unit_order(kv[0]))
        if names and units[uid].is_active
    }
    return Stats(
        period=period,
        total=total,
        by_unit={units[uid].name: by_unit[uid] for uid in sorted(by_unit, key=unit_order)},
        by_town={units[uid].name: t for uid, t in sorted(by_town.items(), key=lambda kv: unit_order(kv[0]))},
        by_target={opts[oid].name: t for oid, t in by_target.items()},
        by_form={opts[oid].name: t for oid, t in by_form.items()},
        by_fraud={opts[oid].name: t for oid, t in by_fraud.items()},
        by_month=by_month,
        uncovered_targets=[o.name for o in targets if by_target[o.id].activities == 0 and o.name != CATCH_ALL],
        towns_without=[u.name for u in towns if by_town[u.id].activities == 0],
        uncovered_communities=uncovered_communities,
        listed_communities={units[uid].name: len(names) for uid, names in lists.items() if names},
        photos=sum(evidence.counts(session, "activity", [a.id for a in rows]).values()),
    )
