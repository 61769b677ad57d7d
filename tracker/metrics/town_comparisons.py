"""Every town compared on one indicator: `comparisons.compare_in` of each town, spelt out for the summary.

The summary compares each active town on each town indicator. What is the same for every town (the months with
figures, the months a year and a span before them, the indicator's rules) is worked out once per indicator, and each
town's figure of a month is read once for both the 同比 and the 环比. The unit-months are paired, summed in the same
order and judged as `compare_in` does.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ..periods import Period
from .comparisons import Comparison, FigureStore, Rules, _change, _combine, _improved, _shift_code, judge

_ABSENT = object()

# a town's figures of the span's months and of their counterparts: (in pairs: this span's, their counterparts'),
# (this span's present, the counterparts' present), the unit-months missing where the other side has one
_Pairs = tuple[list, list, list, list, Sequence]


def _pairs(here: list, there: list, unit_id: int, codes: Sequence[str], other_codes: Sequence[str]) -> _Pairs:
    """A town's figures of the months (`here`, by `codes`) and of their counterparts (`there`, by `other_codes`),
    _ABSENT where there is none: those in pairs, month by month; those present on each side; the unit-months
    missing where the other side has one (as `FigureStore.pair` names them)."""
    if _ABSENT not in here and _ABSENT not in there:  # every month on both sides: the usual case
        return here, there, here, there, ()
    now, then, present, other_present = [], [], [], []
    missing: list[tuple[int | None, str]] = []
    for a, b, code, other in zip(here, there, codes, other_codes, strict=True):
        if a is not _ABSENT:
            present.append(a)
            if b is not _ABSENT:
                now.append(a)
                then.append(b)
            else:
                missing.append((unit_id, other))
        elif b is not _ABSENT:
            missing.append((unit_id, code))
        if b is not _ABSENT:
            other_present.append(b)
    return now, then, present, other_present, missing


def compare_towns(r: Rules, store: FigureStore, unit_ids: Iterable[int], period: Period) -> list[Comparison]:
    """`compare_in` of each town (unit_ids, in their order) on one indicator."""
    months, codes = store._covered_codes(r.id, period)
    if not months:
        return [judge(r, None, None) for _ in unit_ids]
    last_year = tuple(_shift_code(c, -12) for c in codes)
    before = None
    if period.kind in ("month", "quarter"):
        before = tuple(_shift_code(c, period.first - period.last - 1) for c in codes)
    # each month's figures by town (the store's), read once for every town
    towns, rid, nobody = store.towns, r.id, {}
    now_of = [towns.get((rid, c), nobody) for c in codes]
    last_of = [towns.get((rid, c), nobody) for c in last_year]
    before_of = [] if before is None else [towns.get((rid, c), nobody) for c in before]
    out = []
    for uid in unit_ids:
        here = [m.get(uid, _ABSENT) for m in now_of]
        yoy = _pairs(here, [m.get(uid, _ABSENT) for m in last_of], uid, codes, last_year)
        mom = None if before is None else _pairs(here, [m.get(uid, _ABSENT) for m in before_of], uid, codes, before)
        out.append(_compared(r, store, codes, yoy, mom))
    return out


def compare_unit(r: Rules, store: FigureStore, unit_id: int, period: Period) -> Comparison:
    """`compare_in` of one town, as the summary compares it."""
    return compare_towns(r, store, [unit_id], period)[0]


def _compared(r: Rules, store: FigureStore, codes: tuple[str, ...], yoy: _Pairs, mom: _Pairs | None) -> Comparison:
    """A town's comparison from its pairings with last year and (None: a span without 环比) the span before."""
    now, then, here, there, missing = yoy
    if now:
        val, last = _combine(r, now), _combine(r, then)
        yoy_abs, yoy_pct = _change(r, val, last)
        judged_by, improved = ("pct" if yoy_pct is not None else "abs"), _improved(r.direction, val, yoy_abs)
    else:
        # nothing to compare: this year's and last year's figures as they are, without a change
        val, last = _combine(r, here), _combine(r, there)
        yoy_abs = yoy_pct = judged_by = improved = None
    prev = mom_abs = mom_pct = None
    mom_missing: tuple[tuple[str, str], ...] = ()
    if mom is not None:
        m_now, m_then, _here, before, m_missing = mom
        if m_now:
            prev = _combine(r, m_then)
            mom_abs, mom_pct = _change(r, val if m_now is now else _combine(r, m_now), prev)
        else:
            prev = _combine(r, before)
        if m_missing:
            mom_missing = store.named(m_missing)
    return Comparison(
        val,
        last,
        yoy_abs,
        yoy_pct,
        mom_abs,
        judged_by,
        improved,
        r.direction,
        prev,
        mom_pct,
        codes,
        store.named(missing) if missing else (),
        mom_missing,
    )
