"""Every town compared on one indicator: `comparisons.compare_in` of each town, spelt out for the summary.

The summary compares each active town on each town indicator. What is the same for every town (the months with
figures, the months a year and a span before them, the indicator's rules) is worked out once per indicator, and each
town's figure of a month is read once for both the 同比 and the 环比. The unit-months are paired, summed in the same
order and judged as `compare_in` does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from decimal import ROUND_HALF_UP, Decimal
from itertools import repeat

from ..periods import Period
from .comparisons import Comparison, FigureStore, Rules, _combine, _improved, _shift_code, judge
from .models import AGG_MEAN
from .values import Value

_ZERO, _TENTH = Decimal(0), Decimal("0.1")

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
    """`compare_in` of each town (unit_ids, in their order) on one indicator.

    Each town's figures are read a month at a time for every town (a tuple a town, by `_by_town`), not a town at a
    time for every month; the towns with a figure in every month on both sides, nearly all of them, are told apart
    by sets, so only the others are paired month by month."""
    months, codes = store._covered_codes(r.id, period)
    ids = list(unit_ids)
    if not months:
        return [judge(r, None, None) for _ in ids]
    last_year = tuple(_shift_code(c, -12) for c in codes)
    before = None
    if period.kind in ("month", "quarter"):
        before = tuple(_shift_code(c, period.first - period.last - 1) for c in codes)
    # each month's figures by town (the store's), read once for every town
    towns, rid, nobody = store.towns, r.id, {}
    now_of = [towns.get((rid, c), nobody) for c in codes]
    last_of = [towns.get((rid, c), nobody) for c in last_year]
    full = _in_all(now_of) & _in_all(last_of)
    befores: Iterable = repeat(None, len(ids))
    if before is not None:
        before_of = [towns.get((rid, c), nobody) for c in before]
        full_mom = full & _in_all(before_of)
        befores = _by_town(before_of, ids)
    compared, out = _comparer(r, store, codes), []
    for uid, here, there, prior in zip(ids, _by_town(now_of, ids), _by_town(last_of, ids), befores, strict=True):
        if uid in full:
            yoy: _Pairs = (here, there, here, there, ())
        else:
            yoy = _pairs(here, there, uid, codes, last_year)
        mom = None
        if prior is not None:
            mom = (here, prior, here, prior, ()) if uid in full_mom else _pairs(here, prior, uid, codes, before)
        out.append(compared(yoy, mom))
    return out


def _in_all(figures_of_months: list[dict]) -> set:
    """The towns with a figure in every one of the months (each month's figures by town)."""
    return set(figures_of_months[0]).intersection(*figures_of_months[1:])


def _by_town(figures_of_months: list[dict], unit_ids: list[int]) -> list[tuple]:
    """Each town's figures of the months, in the months' order (_ABSENT where there is none): a tuple a town, read a
    month at a time."""
    return list(zip(*[[m.get(u, _ABSENT) for u in unit_ids] for m in figures_of_months], strict=True))


def compare_unit(r: Rules, store: FigureStore, unit_id: int, period: Period) -> Comparison:
    """`compare_in` of one town, as the summary compares it."""
    return compare_towns(r, store, [unit_id], period)[0]


def _comparer(r: Rules, store: FigureStore, codes: tuple[str, ...]) -> Callable[[_Pairs, _Pairs | None], Comparison]:
    """A town's comparison from its pairings with last year and (None: a span without 环比) the span before, as a
    function of the two pairings: the indicator's rules (how figures add up, when a change is a percentage) are read
    once for every town, and the figures are added up and compared as `_combine`, `_change` and `_improved` do."""
    direction, small_base, by_diff = r.direction, r.small_base, r.aggregate == AGG_MEAN
    combine = _combiner(r)

    def change(now: Value, base: Value) -> tuple[Value, Decimal | None]:
        diff = now - base
        if by_diff or base == 0 or base < small_base:
            return diff, None
        return diff, (Decimal(diff) * 100 / Decimal(base)).quantize(_TENTH, ROUND_HALF_UP)

    def compared(yoy: _Pairs, mom: _Pairs | None) -> Comparison:
        now, then, here, there, missing = yoy
        if now:
            val, last = combine(now), combine(then)
            yoy_abs, yoy_pct = change(val, last)
            judged_by = "pct" if yoy_pct is not None else "abs"
            improved = _improved(direction, val, yoy_abs)
        else:
            # nothing to compare: this year's and last year's figures as they are, without a change
            val, last = combine(here), combine(there)
            yoy_abs = yoy_pct = judged_by = improved = None
        prev = mom_abs = mom_pct = None
        mom_missing: tuple[tuple[str, str], ...] = ()
        if mom is not None:
            m_now, m_then, _here, before, m_missing = mom
            if m_now:
                prev = combine(m_then)
                mom_abs, mom_pct = change(val if m_now is now else combine(m_now), prev)
            else:
                prev = combine(before)
            if m_missing:
                mom_missing = store.named(m_missing)
        missed = store.named(missing) if missing else ()
        return Comparison(
            val,
            last,
            yoy_abs,
            yoy_pct,
            mom_abs,
            judged_by,
            improved,
            direction,
            prev,
            mom_pct,
            codes,
            missed,
            mom_missing,
        )

    return compared


def _combiner(r: Rules) -> Callable[[Sequence[Value]], Value | None]:
    """`_combine` for one indicator (None for no figures): a count's or an amount's sum spelt out, read once."""
    if r.aggregate == AGG_MEAN:  # a mean: rounded, and always compared by the difference

        def combine(vals):
            return _combine(r, vals)
    elif r.is_count:

        def combine(vals):
            return sum(map(int, vals)) if vals else None
    else:

        def combine(vals):
            return sum(map(Decimal, vals), _ZERO) if vals else None

    return combine
