"""Responsibility lines of a plan's tasks (【责任单位:X,成员单位:Y、Z,各镇(街道)】, 牵头单位：X；配合单位：Y …): which
units lead, which take part, and whether every town and street (各镇(街道)) is named."""

from __future__ import annotations

import re

TOWNSHIPS = "各镇(街道)"
OPENERS = "(（【[［〔"
CLOSERS = ")）】]］〕"
LEAD_KEYS = ("牵头单位", "牵头部门", "主责单位", "责任单位", "责任部门")
MEMBER_KEYS = ("成员单位", "配合单位", "配合部门", "协办单位", "协办部门", "参与单位")
ROLE_KEY = re.compile(r"(" + "|".join(LEAD_KEYS + MEMBER_KEYS) + r")\s*[:：]?\s*")
# 各镇(街道), 各镇（街道）, 各乡镇(街道), 各镇街, 各镇、街道, 各街镇, 各镇(区、街道) …
TOWNSHIP_RE = re.compile(
    r"各(?:乡)?镇\s*(?:[（(]\s*(?:区\s*[、,，]\s*)?街道?\s*[)）]|[、,，/]\s*街道|街道?|区)?|各街道(?:[、,，/]\s*镇)?|各街镇"
)
LEAD_MARK = re.compile(r"\s*[（(]\s*(?:总?牵头|主责)\s*[)）]\s*$|(?<=.)(?:牵头|主责)$")
MEMBER_MARK = re.compile(r"\s*[（(]\s*(?:配合|协办|参与|成员)\s*[)）]\s*$|(?<=.)(?:配合|协办|参与)$")
LIST_SEPARATORS = re.compile(r"[、，,；;/\s]+")


def split_responsibility(paragraph: str) -> tuple[str, str]:
    """Split a paragraph into its text and its responsibility line (【责任单位:…】 or 牵头单位:…), if any."""
    s = paragraph.strip()
    if s and s[-1] in CLOSERS:
        depth, k = 0, None
        for i in range(len(s) - 1, -1, -1):
            if s[i] in CLOSERS:
                depth += 1
            elif s[i] in OPENERS:
                depth -= 1
                if depth == 0:
                    k = i
                    break
        if k is not None and _is_responsibility(s[k + 1 : -1]):
            return s[:k].rstrip(), s[k:]
    m = re.search(r"(?:^|(?<=[。；;.]))\s*(?:" + "|".join(LEAD_KEYS + MEMBER_KEYS) + r")\s*[:：]", s)
    if m:
        return s[: m.start()].rstrip(), s[m.start() :].strip()
    return s, ""


def _is_responsibility(inner: str) -> bool:
    inner = inner.strip()
    if ROLE_KEY.match(inner):
        return True
    return len(inner) <= 150 and bool(re.search(r"(?<=.)(?:牵头|配合|协办)(?:[)）]|[、,，;；\s]|$)", inner))


def parse_responsibility(text: str) -> tuple[list[str], list[str], bool, list[str]]:
    """Lead units, member units, whether 各镇(街道) is named, and notes, from one responsibility line.

    Forms: 【责任单位:X,成员单位:Y、Z,各镇(街道)】; 牵头单位：X；配合单位：Y; 责任单位：X（牵头）、Y;
    协办单位; X牵头,Y配合. A name given twice counts once; a lead is never also a member.
    """
    s = text.strip()
    while len(s) >= 2 and s[0] in OPENERS and s[-1] in CLOSERS:
        s = s[1:-1].strip()
    s = s.rstrip("。.；;")
    keys = list(ROLE_KEY.finditer(s))
    segments: list[tuple[str | None, str]] = []  # (key word or None, the list after it)
    if not keys or s[: keys[0].start()].strip(" ,，;；"):
        segments.append((None, s[: keys[0].start()] if keys else s))
    for i, m in enumerate(keys):
        segments.append((m.group(1), s[m.end() : keys[i + 1].start() if i + 1 < len(keys) else None]))
    has_member_segment = any(key in MEMBER_KEYS for key, _ in segments)
    leads: list[str] = []
    members: list[str] = []
    townships = False
    notes: list[str] = []
    for key, seg in segments:
        items = _list_items(seg)
        named = [n for n, _ in items if n != TOWNSHIPS]
        marked_lead = any(mark == "lead" for _n, mark in items)
        for name, mark in items:
            if name == TOWNSHIPS:
                townships = True
                if mark == "lead" or (key in LEAD_KEYS and not named):
                    notes.append("各镇(街道)列为牵头单位,按成员单位导入(每个镇、街道都参与),请核对牵头单位。")
                continue
            if mark == "lead":
                target = leads
            elif mark == "member" or key is None or key in MEMBER_KEYS or marked_lead:
                target = members
            elif has_member_segment or len(named) == 1 or key in ("牵头单位", "牵头部门", "主责单位"):
                target = leads
            else:  # 责任单位：A、B、C with nothing marked: the first named leads, by the usual convention
                target = leads if name == named[0] else members
                if name == named[1]:
                    notes.append(f"责任单位未标明牵头,按惯例以排在第一位的{named[0]}为牵头单位,请核对。")
            if name not in target:
                target.append(name)
    members = [n for n in members if n not in leads]
    return leads, members, townships, notes


def split_units(text: str) -> tuple[list[str], bool]:
    """Names in a list typed by a person (separated by 、，, or spaces), and whether 各镇(街道) is among them."""
    names: list[str] = []
    townships = False
    for name, _mark in _list_items(text or ""):
        if name == TOWNSHIPS:
            townships = True
        elif name not in names:
            names.append(name)
    return names, townships


def _list_items(segment: str) -> list[tuple[str, str | None]]:
    """(name, "lead" | "member" | None) for each name of a list; 各镇(街道) and its variants become TOWNSHIPS."""
    segment = TOWNSHIP_RE.sub(TOWNSHIPS, segment)
    out: list[tuple[str, str | None]] = []
    for raw in LIST_SEPARATORS.split(segment):
        name = raw.strip(" :：.。“”\"'‘’")
        mark = None
        if LEAD_MARK.search(name):
            name, mark = LEAD_MARK.sub("", name), "lead"
        elif MEMBER_MARK.search(name):
            name, mark = MEMBER_MARK.sub("", name), "member"
        name = re.sub(r"等(?:单位|部门)?$", "", re.sub(r"^由", "", name)).strip(" :：")
        if len(name) < 2:
            continue
        out.append((name, mark))
    return out
