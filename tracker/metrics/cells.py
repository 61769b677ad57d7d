"""The figures, changes and 两降两升 arrows as HTML, the same on every metrics page (`templates/metrics/_macros.html`
exports them under their macro names). Written in Python rather than as Jinja macros: the overview's town table
writes about twenty of them per town, and a macro call costs several times the markup it writes. Better or worse is
said in words (向好 / 未向好) next to the colour, never by the colour alone."""

from __future__ import annotations

from markupsafe import Markup

from ..templating import html_text, number
from .summary import VERDICT_LABELS

_MUTED = Markup('<span class="muted">—</span>')
_NO_LAST_YEAR = Markup('<span class="nodata">无同期数据</span>')
_NOT_COMPARABLE = Markup('<span class="nodata" title="本期与去年同期没有同一单位、同一月份的数据">无可比数据</span>')
_WORDS = {"good": "向好", "bad": "未向好", "none": "无可比数据"}
_JUDGED = ("good", "bad")


# Every value put into the HTML below goes through `html_text` (escape's text, keeping Markup values such as another
# cell as they are): the same text `Markup.format` gives, without its formatter's cost on the town table's cells.
_e = html_text


def _html(text: str) -> Markup:
    """Markup of a template below whose every value went through _e."""
    return Markup(text)  # nosec B704  # the callers escape every value they put into the text


def num(value, ind, unit: bool = True) -> Markup:
    """A figure with its unit, or — without one."""
    if value is None:
        return _MUTED
    text = _e(number(value, ind.decimals))
    return _html(f'{text}<span class="unit">{_e(ind.unit_label)}</span>' if unit else text)


def signed(v, ind) -> Markup:
    return _html(f"{'+' if v > 0 else ''}{_e(number(v, ind.decimals))}")


def judgement(c) -> Markup:
    if c and (state := c.state) in ("good", "bad"):
        return _html(f'<span class="judge {state}">{_WORDS[state]}</span>')
    return Markup("")


def yoy(c, ind, word: bool = True) -> Markup:
    """The year-on-year change: a percentage, or the difference (a small base), with its judgement."""
    return _html(_yoy_text(c, ind, word))


def _yoy_text(c, ind, word: bool = True) -> str:
    """`yoy` as text. A state (good, bad, none) and a percentage (a Decimal's digits) have nothing to escape."""
    if c is None or c.value is None:
        return _MUTED
    if c.last_year is None:
        return _NO_LAST_YEAR
    if c.yoy_abs is None:
        return _NOT_COMPARABLE
    state = c.state
    said = f'<span class="judge {state}">{_WORDS[state]}</span>' if word and state in _JUDGED else ""
    if c.yoy_abs == 0:
        return f'<span class="chg {state}">持平{said}</span>'
    if c.judged_by == "pct":
        pct = c.yoy_pct
        return f'<span class="chg {state}">{"+" if pct > 0 else ""}{pct}%{said}</span>'
    return (
        f'<span class="chg {state}" title="去年同期基数小于{_e(ind.small_base)},按差值比较">'
        f"{signed(c.yoy_abs, ind)}{_e(ind.unit_label)}{said}</span>"
    )


def mom(c, ind) -> Markup:
    """The change against the period before: a percentage, or the difference."""
    if c is None or c.mom_abs is None:
        return _MUTED
    if (pct := c.mom_pct) is not None:
        return _html(f"{'+' if pct > 0 else ''}{_e(pct)}%")
    return _html(f"{signed(c.mom_abs, ind)}{_e(ind.unit_label)}")


def arrow(c, ind) -> Markup:
    state = c.state if c else "none"
    return _html(
        f'<span class="arrow {_e(state)}" title="{_e(ind.name)}同比{_WORDS[state]}">{_e(c.arrow if c else "–")}</span>'
        f"{judgement(c)}"
    )


def verdict(state: str, comps: dict, core) -> Markup:
    """The verdict (达成, 未达成, 数据不全) and the four core indicators' arrows."""
    return _html(_verdict_text(state, "".join(_arrow_item(ind, comps.get(ind.code)) for ind in core)))


def _arrow_item(ind, c) -> str:
    return f'<span class="arrowitem">{_e(ind.name[:2])}{arrow(c, ind)}</span>'


def _verdict_text(state: str, arrows: str) -> str:
    title = ' title="有指标缺本期或去年同期数据,暂不能判断"' if state == "incomplete" else ""
    return (
        f'<span class="verdict {_e(state)}"{title}>{_e(VERDICT_LABELS[state])}</span>\n'
        f'<span class="arrows"><span class="visually-hidden">四项指标:</span>{arrows}</span>'
    )


def _verdicts(core):
    """`verdict` for many towns: a function of (verdict, comparisons) writing each distinct verdict, and each
    indicator's arrow of a state and direction, once (an arrow's HTML follows from those alone)."""
    codes = [ind.code for ind in core]
    items: dict[tuple, str] = {}
    verdicts: dict[tuple, str] = {}

    def shown(state: str, comps: dict) -> str:
        marks = [(c.state, c.arrow) if (c := comps.get(code)) is not None else None for code in codes]
        key = (state, *marks)
        found = verdicts.get(key)
        if found is None:
            parts = []
            for ind, code, mark in zip(core, codes, marks, strict=True):
                if (item := items.get((code, mark))) is None:
                    item = items[(code, mark)] = _arrow_item(ind, comps.get(code))
                parts.append(item)
            found = verdicts[key] = _verdict_text(state, "".join(parts))
        return found

    return shown


def town_rows(s, town_href) -> Markup:
    """The overview's town table, a row per town in the combined ranking's order: rank, the town linked by
    town_href(unit_id), its verdict, and per town indicator its figure and year-on-year change, each cell with
    the value its column sorts by.

    What is the same for every town is written once: each indicator's unit, and each verdict and arrow
    (`_verdicts`). A figure, as `number` writes it or as a sort value (an int's or a Decimal's digits), has nothing
    to escape."""
    verdict_of = _verdicts(s.core)
    columns = [
        (ind.code, ind, ind.decimals, f'<span class="unit">{_e(ind.unit_label)}</span>') for ind in s.town_indicators
    ]
    out = []
    for u in s.ranked():
        comps = u.comparisons
        shown = verdict_of(u.verdict, comps)
        rank = u.rank
        out.append(
            f'  <tr>\n    <td class="num" data-value="{rank}">{rank}</td>\n'
            f'    <td><a href="{_e(town_href(u.unit.id))}">{_e(u.unit.name)}</a></td>\n'
            f'    <td data-value="{u.improved_count}">{shown}</td>\n'
        )
        for code, ind, decimals, unit in columns:
            c = comps[code]
            v = c.value
            change = c.yoy_pct if c.yoy_pct is not None else c.yoy_abs
            out.append(
                f'    <td class="num" data-value="{"" if v is None else v}">'
                f"{_MUTED if v is None else number(v, decimals) + unit}</td>\n"
                f'    <td class="num" data-value="{"" if change is None else change}">{_yoy_text(c, ind)}</td>\n'
            )
        out.append("  </tr>\n")
    return _html("".join(out))


def template_helpers() -> dict:
    """What `_macros.html` exports under the macros' names."""
    cells = (num, signed, judgement, yoy, mom, arrow, verdict, town_rows)
    return {"metric_cells": {f.__name__: f for f in cells}}
