"""Numbered items in a plan's text: the markers a part, a task or a measure is numbered with, and a part's title."""

from __future__ import annotations

import re

from .responsibility import CLOSERS

CN_NUM = "[一二三四五六七八九十百零]+"

# Item markers, in the order they are tried: (一) / （一）, (1) / （1）, 一、, 1. / 1、 / 1), 第四项 / 第4条
ITEM_STYLES: tuple[tuple[str, re.Pattern], ...] = (
    ("paren_cn", re.compile(rf"^[（(]\s*({CN_NUM})\s*[)）]\s*")),
    ("paren_arabic", re.compile(r"^[（(]\s*(\d{1,3})\s*[)）]\s*")),
    ("dun_cn", re.compile(rf"^({CN_NUM})\s*[、．.]\s*")),
    ("arabic", re.compile(r"^(\d{1,3})\s*(?:[、．.](?!\d)|[)）])\s*")),
    ("ordinal", re.compile(rf"^第\s*({CN_NUM}|\d{{1,3}})\s*[项条]\s*[、:：.．,，]?\s*")),
)
# How a line ends when the sentence goes on in the next one (a title or a list wrapped by the page width).
CONTINUES = ("，", ",", "、", "及", "和", "与")
# How a paragraph of a task's text ends when it is complete.
ENDS = ("。", "！", "？", "!", "?", "；", ";", "：", ":", "”", "’", '"', *CLOSERS)
SENTENCE = re.compile(r"[^。！？!?]*[。！？!?]+[”’\"'」』)）]*|[^。！？!?]+$")


def item_style(line: str) -> str | None:
    for style, pattern in ITEM_STYLES:
        if pattern.match(line):
            return style
    return None


def split_title(text: str) -> tuple[str, str]:
    """The first sentence is the title; a short title may end with a colon instead."""
    stop = text.find("。")
    colon = min((i for i in (text.find("："), text.find(":")) if i >= 0), default=-1)
    if 0 < colon <= 40 and (stop < 0 or colon < stop):
        stop = colon
    if stop < 0:
        return text.rstrip(";；,，"), ""
    return text[:stop].strip(), text[stop + 1 :].strip()
