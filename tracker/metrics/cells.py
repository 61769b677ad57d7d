"""The figures, changes and 两降两升 arrows as HTML, the same on every metrics page (`templates/metrics/_macros.html`
exports them under their macro names). Written in Python rather than as Jinja macros: the overview's town table
writes about twenty of them per town, and a macro call costs several times the markup it writes. Better or worse is
said in words (向好 / 未向好) next to the colour, never by the colour alone."""

from __future__ import annotations

from markupsafe import Markup, escape

from ..templating import number
from .summary import VERDICT_LABELS

_MUTED = Markup('<span class="muted">—</span>')
_NO_LAST_YEAR = Markup('<span class="nodata">无同期数据</span>')
_NOT_COMPARABLE = Markup('<span class="nodata" title="本期与去年同期没有同一单位、同一月份的数据">无可比数据</span>')
_WORDS = {"good": "向好", "bad": "未向好", "none": "无可比数据"}


# Every piece of HTML below is a literal template filled by `Markup.format`, which escapes each value it is given
# (Markup values, such as another cell, are kept as they are).


def num(value, ind, unit: bool = True) -> Markup:
    """A figure with its unit, or — without one."""
    if value is None:
        return _MUTED
    text = escape(number(value, ind.decimals))
    return Markup('{}<span class="unit">{}</span>').format(text, ind.unit_label) if unit else text


def signed(v, ind) -> Markup:
    return Markup("{}{}").format("+" if v > 0 else "", number(v, ind.decimals))


def judgement(c) -> Markup:
    if c and c.state in ("good", "bad"):
        return Markup('<span class="judge {}">{}</span>').format(c.state, _WORDS[c.state])
    return Markup("")


def yoy(c, ind, word: bool = True) -> Markup:
    """The year-on-year change: a percentage, or the difference (a small base), with its judgement."""
    if c is None or c.value is None:
        return _MUTED
    if c.last_year is None:
        return _NO_LAST_YEAR
    if c.yoy_abs is None:
        return _NOT_COMPARABLE
    said = judgement(c) if word else Markup("")
    if c.yoy_abs == 0:
        return Markup('<span class="chg {}">持平{}</span>').format(c.state, said)
    if c.judged_by == "pct":
        sign = "+" if c.yoy_pct > 0 else ""
        return Markup('<span class="chg {}">{}{}%{}</span>').format(c.state, sign, c.yoy_pct, said)
    return Markup('<span class="chg {}" title="去年同期基数小于{},按差值比较">{}{}{}</span>').format(
        c.state, ind.small_base, signed(c.yoy_abs, ind), ind.unit_label, said
    )


def mom(c, ind) -> Markup:
    """The change against the period before: a percentage, or the difference."""
    if c is None or c.mom_abs is None:
        return _MUTED
    if c.mom_pct is not None:
        return Markup("{}{}%").format("+" if c.mom_pct > 0 else "", c.mom_pct)
    return Markup("{}{}").format(signed(c.mom_abs, ind), ind.unit_label)


def arrow(c, ind) -> Markup:
    state = c.state if c else "none"
    return Markup('<span class="arrow {}" title="{}同比{}">{}</span>{}').format(
        state, ind.name, _WORDS[state], c.arrow if c else "–", judgement(c)
    )


def verdict(state: str, comps: dict, core) -> Markup:
    """The verdict (达成, 未达成, 数据不全) and the four core indicators' arrows."""
    title = Markup(' title="有指标缺本期或去年同期数据,暂不能判断"') if state == "incomplete" else Markup("")
    arrows = Markup("").join(
        Markup('<span class="arrowitem">{}{}</span>').format(ind.name[:2], arrow(comps.get(ind.code), ind))
        for ind in core
    )
    return Markup(
        '<span class="verdict {}"{}>{}</span>\n'
        '<span class="arrows"><span class="visually-hidden">四项指标:</span>{}</span>'
    ).format(state, title, VERDICT_LABELS[state], arrows)


def template_helpers() -> dict:
    """What `_macros.html` exports under the macros' names."""
    return {"metric_cells": {f.__name__: f for f in (num, signed, judgement, yoy, mom, arrow, verdict)}}
