"""The import's plausibility walk (one pass per series, plausibility() asked only when a warning is possible) warns
exactly where asking plausibility() of every figure with its 24-month window does."""

from __future__ import annotations

import random
from decimal import Decimal
from types import SimpleNamespace

import pytest

from tracker.metrics.import_history import History
from tracker.metrics.import_preview import NEW, SAME, UPDATE, SheetRow
from tracker.metrics.values import plausibility, shift_month
from tracker.periods import Period

MONTHS = [Period.month(2020 + n // 12, n % 12 + 1).code for n in range(72)]


def _indicator(ind_id: int, wan: bool):
    return SimpleNamespace(
        id=ind_id, unit_label="万元" if wan else "起", decimals=2 if wan else 0, small_base=Decimal(5) if wan else 5
    )


def _value(rng: random.Random, wan: bool, zeros: bool):
    n = rng.choice([0, 0, 1, 2, 3, 5, 8, 13, 40, 200, 9000, 12000, 4_000_000] if zeros else [13, 20, 40, 12000])
    return (Decimal(n) + Decimal(rng.randint(0, 99)) / 100) if wan and n else n


@pytest.mark.parametrize("zeros", [True, False])
@pytest.mark.parametrize("seed", range(8))
def test_the_walk_warns_where_every_window_asked_would(seed, zeros):
    rng = random.Random(seed)
    cols = [SimpleNamespace(id=i, ind=_indicator(i, wan=i % 2 == 0)) for i in (1, 2, 3, 4)]
    history, stored, rows = History(), {}, []
    for uid in (7, 8, None):
        months = sorted(rng.sample(MONTHS, 40))
        for m in months[:15]:  # stored figures before and among the file's
            for col in cols:
                if rng.random() < 0.8:
                    stored[(col.id, uid, m)] = v = _value(rng, col.ind.unit_label == "万元", zeros)
                    history.add(col.id, uid, m, v)
        for m in months[10:]:
            codes, values = [], []
            for col in cols:
                v = _value(rng, col.ind.unit_label == "万元", zeros) if rng.random() < 0.9 else None
                code = "e" if v is None else rng.choice([NEW, NEW, UPDATE, SAME])
                codes.append(code)
                values.append(v)
                if v is not None:
                    history.add(col.id, uid, m, v)
            unit = SimpleNamespace(id=uid) if uid else None
            rows.append(SheetRow(len(rows) + 2, "", m, (), unit, True, m, values, "".join(codes)))
    expected: dict[int, dict[int, str]] = {}
    for ri, r in enumerate(rows):
        for ci, col in enumerate(cols):
            if r.codes[ci] not in (NEW, UPDATE):
                continue
            figures = history.series[(col.id, r.unit_id)]
            start = shift_month(Period.parse(r.month), -24).code
            window = [figures[m] for m in sorted(figures) if start <= m < r.month]
            message = plausibility(col.ind, r.values[ci], window)
            if message:
                expected.setdefault(ri, {})[ci] = message
    assert expected  # the figures are chosen so that some are implausible
    assert history.warnings(rows, cols) == expected
