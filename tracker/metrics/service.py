"""The metrics area's interface for the views, the command line and the areas above it: the names other code calls,
each defined in the module that says what it holds. Rules and how the figures are compared: docs/metrics.md.

- indicators.py   the indicators: look-ups, the administrator adding and changing them, the seed
- units.py        the towns and streets figures belong to, the district's names
- values.py       a figure's value: parsing, formatting, the plausibility check, the months one may write
- writers.py      who may write which figure (entry or correction)
- entry.py        the monthly entry grid: building and saving it
- comparisons.py  loading figures, like-for-like 同比 and 环比 of a town or the district
- rankings.py     competition ranks by the change against last year
- summary.py      the 两降两升 summary of a span: district and towns, verdicts, rankings
- series.py       a year's months, trends against last year, the latest month, stored rows for tables and export
- register.py     the figures counted from the publicity register (宣传场次, 覆盖人次), stored by it
"""

from .comparisons import Comparison, change_rate, compare, judge, value
from .entry import (
    CellErrors,
    CellWarnings,
    EntryGrid,
    GridCell,
    GridConflict,
    SaveResult,
    build_entry_grid,
    save_grid,
)
from .indicators import (
    CORE_CODES,
    active_indicators,
    all_indicators,
    create_indicator,
    default_owner_id,
    get_indicator,
    load_indicators,
    update_indicator,
)
from .models import REGISTER_CODES
from .register import set_register_values
from .series import MonthRow, figures, latest_month, monthly_series, trends, trends_and_missing
from .summary import INCOMPLETE, MET, UNMET, VERDICT_LABELS, Summary, UnitSummary, summary, verdict_of
from .units import DISTRICT_LABEL, DISTRICT_NAMES, departments, resolve_units, towns
from .values import (
    HISTORY_MONTHS,
    JUMP_FACTOR,
    MAX_REASON,
    MAX_VALUE,
    YUAN_ABSOLUTE,
    YUAN_FACTOR,
    CellKey,
    Value,
    current_month,
    fmt,
    is_future,
    parse_value,
    plausibility,
    register_message,
    stored,
)
from .writers import EntryTarget, applies, can_enter_any, write_source

__all__ = [
    "CORE_CODES",
    "DISTRICT_LABEL",
    "DISTRICT_NAMES",
    "HISTORY_MONTHS",
    "INCOMPLETE",
    "JUMP_FACTOR",
    "MAX_REASON",
    "MAX_VALUE",
    "MET",
    "REGISTER_CODES",
    "UNMET",
    "VERDICT_LABELS",
    "YUAN_ABSOLUTE",
    "YUAN_FACTOR",
    "CellErrors",
    "CellKey",
    "CellWarnings",
    "Comparison",
    "EntryGrid",
    "EntryTarget",
    "GridCell",
    "GridConflict",
    "MonthRow",
    "SaveResult",
    "Summary",
    "UnitSummary",
    "Value",
    "active_indicators",
    "all_indicators",
    "applies",
    "build_entry_grid",
    "can_enter_any",
    "change_rate",
    "compare",
    "create_indicator",
    "current_month",
    "default_owner_id",
    "departments",
    "figures",
    "fmt",
    "get_indicator",
    "is_future",
    "judge",
    "latest_month",
    "load_indicators",
    "monthly_series",
    "parse_value",
    "plausibility",
    "register_message",
    "resolve_units",
    "save_grid",
    "set_register_values",
    "stored",
    "summary",
    "towns",
    "trends",
    "trends_and_missing",
    "update_indicator",
    "value",
    "verdict_of",
    "write_source",
]
