"""Charts as SVG made on the server from plain data, identical on screen and in a PDF.

Only presentation attributes (fill=, stroke=), never style= (the CSP forbids inline styles); every text escaped.
Coordinates are computed with Decimal like every other figure here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from markupsafe import Markup

from ..templating import html_text as escape  # markupsafe.escape's text, as a str

FONT = "Noto Sans CJK SC, Source Han Sans SC, Microsoft YaHei, sans-serif"
# printed documents set their charts in the serif their text is set in: a PDF then embeds one family fewer
SERIF_FONT = "Noto Serif CJK SC, Source Han Serif SC, serif"
INK, MUTED, GRID = "#1f2933", "#6b7785", "#e3e7ec"
CURRENT, PREVIOUS = "#a8201a", "#8a949e"
GOOD, BAD = "#2f7d32", "#c62828"
D = Decimal


@dataclass(frozen=True)
class Series:
    """One line of a trend chart: a label (2026年), values (None where there is none), drawn solid or dashed."""

    label: str
    values: Sequence
    colour: str = CURRENT
    dashed: bool = False


_TENTH = D("0.1")
_QUANTUM = [D(1).scaleb(-d) for d in range(10)]  # 1, 0.1, 0.01 … by decimal places


def _n(x) -> str:
    """A coordinate with one decimal place. A Decimal of one decimal place is written by str() as format "f" writes
    it (never with an exponent), without the cost of parsing a format."""
    if type(x) is int:  # a whole number: the same text without Decimal's rounding
        return f"{x}.0"
    return str(D(x).quantize(_TENTH, ROUND_HALF_UP))


def _fmt(v, decimals: int) -> str:
    if v is None:
        return "—"
    if type(v) is int and decimals == 0:  # a whole number shown whole: the same text without Decimal's rounding
        return f"{v:,}"
    q = _QUANTUM[decimals] if 0 <= decimals < len(_QUANTUM) else D(1).scaleb(-decimals)
    d = D(v).quantize(q, ROUND_HALF_UP)
    if d.adjusted() < 3 and decimals < 7:  # below 1000 str() writes the same text: no separator, no exponent
        return str(d)
    return f"{d:,.{decimals}f}"


def nice_max(v: Decimal, whole: bool = False) -> Decimal:
    """An axis top at or above v whose quarter is a round step (1, 2, 3, 4, 5, 6, 8 × 10^k, and 1.5 and 2.5 from
    15 up, so ticks of counts stay whole numbers)."""
    v = D(v)
    if v <= 0:
        return D(4)
    quarter = max(v / 4, D(1)) if whole else v / 4
    exp = D(10) ** quarter.adjusted()
    halves = (D("1.5"), D("2.5")) if exp >= 10 else ()
    steps = sorted((D(1), D(2), D(3), D(4), D(5), D(6), D(8), D(10), *halves))
    for m in steps:
        if m * exp >= quarter:
            return 4 * m * exp
    return 40 * exp  # pragma: no cover - 10 × exp always fits


def _text(x, y, s: str, size: int = 12, anchor: str = "start", fill: str = INK, weight: str | None = None) -> str:
    w = f' font-weight="{weight}"' if weight else ""
    return (
        f'<text x="{_n(x)}" y="{_n(y)}" font-size="{size}" text-anchor="{anchor}" fill="{fill}"{w}>{escape(s)}</text>'
    )


def _open(width: int, height: int, title: str, font: str = FONT) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" font-family="{escape(font)}">',
        f"<title>{escape(title)}</title>",
    ]


def _legend(series: Sequence[Series], right_edge: Decimal) -> list[str]:
    """The series' names with their line style, right-aligned at the top."""
    out = []
    lx = right_edge
    for s in reversed(series):
        tw = 12 * len(s.label) // 2 + 8
        lx -= tw + 26
        dash = ' stroke-dasharray="4 3"' if s.dashed else ""
        out.append(
            f'<line x1="{_n(lx)}" y1="14" x2="{_n(lx + 20)}" y2="14" stroke="{s.colour}" stroke-width="2"{dash}/>'
        )
        out.append(_text(lx + 24, 18, s.label, 11, fill=INK))
    return out


def _line(s: Series, labels: Sequence[str], x, y, decimals: int, unit: str) -> list[str]:
    """One series: its line, broken where a month has no figure, and a dot a month with the figure as its tip. `x`:
    a month's coordinate as text (by index), `y` a figure's; each point's are written once for both."""
    out = []
    dash = ' stroke-dasharray="4 3"' if s.dashed else ""
    points = [(i, v, x(i), y(v)) for i, v in enumerate(s.values) if v is not None]
    if points:
        path = [
            f"{'L' if k and points[k - 1][0] == i - 1 else 'M'}{px} {py}" for k, (i, _v, px, py) in enumerate(points)
        ]
        out.append(f'<path d="{" ".join(path)}" fill="none" stroke="{s.colour}" stroke-width="2"{dash}/>')
    for i, v, px, py in points:
        tip = f"{s.label}{labels[i] if i < len(labels) else ''}:{_fmt(v, decimals)}{unit}"
        out.append(f'<circle cx="{px}" cy="{py}" r="3" fill="{s.colour}"><title>{escape(tip)}</title></circle>')
    return out


def trend_chart(
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    unit: str = "",
    decimals: int = 0,
    width: int = 520,
    height: int = 230,
    font: str = FONT,
) -> Markup:
    """Lines over months (this year against last year); gaps where a month has no figure."""
    left, right, top, bottom = 48, 16, 44, 28
    plot_w, plot_h = D(width - left - right), D(height - top - bottom)
    out = _open(width, height, title, font)
    out.append(_text(left, 18, title, 14, weight="bold"))
    values = [D(v) for s in series for v in s.values if v is not None]
    if not values:
        out.append(_text(width / 2, top + plot_h / 2, "暂无数据", 13, "middle", MUTED))
        out.append("</svg>")
        return Markup("".join(out))  # nosec B704  # every text in the SVG went through escape()
    top_value = nice_max(max(values), whole=decimals == 0)
    n = max(len(labels), 1)
    step = plot_w / n

    def x(i: int) -> Decimal:
        return left + step * i + step / 2

    def y(v) -> Decimal:
        return top + plot_h - plot_h * D(v) / top_value

    for k in range(5):  # gridlines and y labels
        tick = top_value * k / 4
        yy = y(tick)
        out.append(
            f'<line x1="{left}" y1="{_n(yy)}" x2="{width - right}" y2="{_n(yy)}" stroke="{GRID}" stroke-width="1"/>'
        )
        out.append(
            _text(left - 6, yy + 4, _fmt(tick, decimals if tick != tick.to_integral_value() else 0), 10, "end", MUTED)
        )
    if unit:
        out.append(_text(left - 6, top - 10, unit, 10, "end", MUTED))
    for i, lab in enumerate(labels):
        out.append(_text(x(i), height - 9, lab, 10, "middle", MUTED))
    out += _legend(series, D(width - right))
    xs: dict[int, str] = {}  # a month's coordinate, the same for every series

    def px(i: int) -> str:
        if (found := xs.get(i)) is None:
            found = xs[i] = _n(x(i))
        return found

    for s in series:
        out += _line(s, labels, px, lambda v: _n(y(v)), decimals, unit)
    out.append("</svg>")
    return Markup("".join(out))  # nosec B704  # every text in the SVG went through escape()


@dataclass(frozen=True, slots=True)  # slots: a chart a town indicator, a bar a town
class Bar:
    """One row of a bar chart: a label, this span's value and last year's (either may be None)."""

    label: str
    value: object
    previous: object = None
    state: str = "none"  # good | bad | none: colours the change text
    highlight: bool = False


def bar_chart(
    title: str,
    bars: Sequence[Bar],
    unit: str = "",
    decimals: int = 0,
    width: int = 520,
    current_label: str = "本期",
    previous_label: str = "去年同期",
    font: str = FONT,
) -> Markup:
    """Horizontal bars, one per town: this span's value, and last year's as a thin grey bar beneath."""
    left, right, top, row_h = 86, 90, 40, 30
    height = top + row_h * max(len(bars), 1) + 12
    out = _open(width, height, title, font)
    out.append(_text(8, 18, title, 14, weight="bold"))
    plot_w = D(width - left - right)
    values = [D(v) for b in bars for v in (b.value, b.previous) if v is not None]
    # legend
    out.append(f'<rect x="{width - 190}" y="8" width="12" height="10" fill="{CURRENT}"/>')
    out.append(_text(width - 174, 17, current_label, 11))
    out.append(f'<rect x="{width - 110}" y="11" width="12" height="5" fill="{PREVIOUS}"/>')
    out.append(_text(width - 94, 17, previous_label, 11))
    if not values:
        out.append(_text(width / 2, top + 20, "暂无数据", 13, "middle", MUTED))
        out.append("</svg>")
        return Markup("".join(out))  # nosec B704  # every text in the SVG went through escape()
    top_value = nice_max(max(values), whole=decimals == 0)
    labels = (escape(current_label), escape(previous_label), escape(unit))
    out.extend(_bar_rows(bars, (left, top, row_h, plot_w, top_value), decimals, labels))
    out.append(f'<line x1="{left}" y1="{top - 4}" x2="{left}" y2="{height - 10}" stroke="{MUTED}" stroke-width="1"/>')
    out.append("</svg>")
    return Markup("".join(out))  # nosec B704  # every text in the SVG went through escape()


def _bar_rows(bars: Sequence[Bar], frame: tuple, decimals: int, labels: tuple) -> list[str]:
    """`bar_chart`'s rows: each town's name, this span's bar and figure (or 无数据), and last year's thin bar.
    `frame`: left edge, top, row height, plot width and the axis' top value; `labels`: the two spans' names and the
    unit, escaped."""
    left, top, row_h, plot_w, top_value = frame
    # escaping is character by character, so a title is its parts escaped once each; a figure as _fmt writes it
    # (digits, separators, a sign or —) has nothing to escape; a width quantized to one decimal place is written
    # by str() as format "f" would write it
    now_label, then_label, unit_text = labels
    now_tip, then_tip = f"{now_label}:", f"{then_label}:"
    colours, d_left = {"good": GOOD, "bad": BAD}, D(left)
    quantize, half_up = D.quantize, ROUND_HALF_UP  # _n of a Decimal, spelt out: two coordinates a bar
    out: list[str] = []
    for i, b in enumerate(bars):
        y0 = top + row_h * i  # whole numbers: _n writes them as Decimal would
        label = escape(b.label)
        weight = ' font-weight="bold"' if b.highlight else ""
        out.append(
            f'<text x="{left - 8}.0" y="{y0 + 15}.0" font-size="12" text-anchor="end" fill="{INK}"{weight}>'
            f"{label}</text>"
        )
        if b.value is not None:
            w = plot_w * D(b.value) / top_value
            shown = f"{_fmt(b.value, decimals)}{unit_text}"
            out.append(
                f'<rect x="{left}" y="{y0 + 4}.0" width="{quantize(w, _TENTH, half_up)!s}" height="14" '
                f'fill="{CURRENT}"><title>{label}{now_tip}{shown}</title></rect>'
                f'<text x="{quantize(d_left + w + 6, _TENTH, half_up)!s}" y="{y0 + 15}.0" font-size="11" '
                f'text-anchor="start" fill="{colours.get(b.state, INK)}">{shown}</text>'
            )
        else:
            out.append(
                f'<text x="{left + 4}.0" y="{y0 + 15}.0" font-size="11" text-anchor="start" fill="{MUTED}">'
                "无数据</text>"
            )
        if b.previous is not None:
            w = plot_w * D(b.previous) / top_value
            out.append(
                f'<rect x="{left}" y="{y0 + 20}.0" width="{quantize(w, _TENTH, half_up)!s}" height="5" '
                f'fill="{PREVIOUS}"><title>{label}{then_tip}{_fmt(b.previous, decimals)}{unit_text}</title></rect>'
            )
    return out
