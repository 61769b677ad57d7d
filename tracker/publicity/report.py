"""What the briefing's 宣传教育 section and the scorecard's line read from the register (plain values)."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup
from sqlalchemy.orm import Session

from ..metrics.charts import Bar, bar_chart
from ..org.models import Unit
from ..periods import Period
from .creations import CreationCounts, counts
from .statistics import Stats, Tally, activities_per_target, statistics


@dataclass(frozen=True)
class PublicitySection:
    """A period's activities in figures, what they did not reach, the 无诈 creations, and a chart."""

    stats: Stats
    creations: CreationCounts
    chart: Markup


def section(session: Session, period: Period) -> PublicitySection:
    s = statistics(session, period)
    # the period before: only its activities per target group, for the chart (not its whole statistics)
    before = activities_per_target(session, period.previous())
    chart = bar_chart(
        "各宣传对象活动场次",
        [Bar(name, t.activities, before.get(name, 0)) for name, t in s.by_target.items()],
        "场",
        current_label="本期",
        previous_label="上一期",
    )
    return PublicitySection(s, counts(session, period), chart)


def unit_line(session: Session, unit: Unit, period: Period) -> Tally:
    """The unit's own activities in the period (those it held, wherever they took place)."""
    return statistics(session, period).by_unit.get(unit.name, Tally())
