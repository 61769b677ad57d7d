"""A plan's 主要任务 part read: its tasks in their numbering, lines wrapped by the page joined, each task's title,
text, responsibility lines (牵头/成员 units) and measures. Pure functions, like the rest of the importer."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .items import CONTINUES, ENDS, ITEM_STYLES, SENTENCE, item_style, split_title
from .numerals import cn_to_int, task_label
from .responsibility import (
    CLOSERS,
    LEAD_KEYS,
    MEMBER_KEYS,
    OPENERS,
    parse_responsibility,
    split_responsibility,
)


@dataclass
class ParsedTask:
    number: int
    title: str
    body: str
    responsibility_text: str = ""
    lead_units: list[str] = field(default_factory=list)
    member_units: list[str] = field(default_factory=list)
    includes_townships: bool = False
    measures: list[str] = field(default_factory=list)

    def to_data(self) -> dict:
        return {
            "number": self.number,
            "title": self.title,
            "body": self.body,
            "responsibility_text": self.responsibility_text,
            "lead_units": self.lead_units,
            "member_units": self.member_units,
            "includes_townships": self.includes_townships,
            "measures": self.measures,
        }


def _split_tasks(lines: list[str], warnings: list[str]) -> list[tuple[int, list[str]]]:
    """The tasks (number, lines), in the numbering style of the first one.

    A line numbered in another style is a sub-item of the task when it starts or continues a list of its own
    (1. 2. 3. inside a task numbered (一)); when its number is the next task's, it is that task, with a warning
    (plans typed by several hands mix 1、 / 2. / （3） / 第四项); anything else stays text of the task, with a
    warning, never silently.
    """
    items: list[tuple[int, list[str]]] = []
    top: str | None = None
    sub: dict[str, int] = {}  # style → last number of the current task's own list in that style
    for line in lines:
        style = item_style(line)
        if style is None:
            if items:  # text before the first task is not a task
                items[-1][1].append(line)
            continue
        m = dict(ITEM_STYLES)[style].match(line)
        number = cn_to_int(m.group(1))
        if top is None or style == top:
            top = top or style
            items.append((number, [line[m.end() :]]))
            sub = {}
            continue
        last = sub.get(style, 0)
        if number == last + 1 and (last or number == 1):
            sub[style] = number
            items[-1][1].append(line)
        elif number == len(items) + 1:
            warnings.append(
                f"任务编号的写法不一致:“{line[: m.end()].strip()}”与第一项的写法不同,"
                f"按顺序作为第{number}项任务{task_label(number)}导入,请核对。"
            )
            items.append((number, [line[m.end() :]]))
            sub = {}
        else:
            warnings.append(
                f"任务{task_label(len(items))}中有一行以“{line[: m.end()].strip()}”开头,像另一项任务的编号,"
                "但与任务顺序不符,已作为该任务的内容导入,请核对是否漏分了任务。"
            )
            items[-1][1].append(line)
    return items


def _unwrap(pars: list[str], label: str, warnings: list[str]) -> list[str]:
    """Join a line to the next when the text goes on there: a bracket left open (【责任单位:…、 / 各镇(街道)】),
    a role word with nothing after it (牵头单位: / 公安分局), a line ending in a comma or 、 (a title or a list
    wrapped by the page width), or a line of text (not a bare title) that stops mid-sentence. A title line on
    its own needs no full stop, so only a comma joins it. Each join is reported, so the
    administrator can check it."""
    out: list[str] = []
    i = 0
    while i < len(pars):
        line = pars[i]
        joined = False
        while i + 1 < len(pars) and item_style(pars[i + 1]) is None:
            nxt = pars[i + 1]
            open_brackets = sum(line.count(c) for c in OPENERS) > sum(line.count(c) for c in CLOSERS)
            role_dangling = bool(re.search(r"(?:" + "|".join(LEAD_KEYS + MEMBER_KEYS) + r")\s*[:：]?\s*$", line))
            # past a title line, a line that stops short of a full stop goes on in the next
            mid_sentence = (bool(out) or joined or "。" in line) and not line.endswith(ENDS)
            if not (open_brackets or role_dangling or mid_sentence or line.endswith(CONTINUES)):
                break
            if not open_brackets and not role_dangling and split_responsibility(nxt)[1]:
                break  # a sentence ending in a comma, then the responsibility line: two things, not one
            line, i, joined = line + nxt, i + 1, True
        if joined:
            what = "责任单位行" if split_responsibility(line)[1] else ("标题" if not out else "一段文字")
            warnings.append(f"任务{label}的{what}跨行书写,已把“{_clip(line)}”读作一行,请核对。")
        out.append(line)
        i += 1
    return out


def _clip(text: str, n: int = 40) -> str:
    return text if len(text) <= n else text[:n] + "…"


def parse_tasks(lines: list[str], warnings: list[str]) -> list[ParsedTask]:
    items = _split_tasks(lines, warnings)
    tasks: list[ParsedTask] = []
    for i, (number, pars) in enumerate(items, 1):
        label = task_label(i)
        if number != i:
            warnings.append(f"任务{label}的编号与顺序不一致,已按顺序编为第{i}项。")
        pars = _unwrap(pars, label, warnings)
        texts: list[str] = []
        resp: list[str] = []
        for par in pars:
            rest, r = split_responsibility(par)
            if rest:
                texts.append(rest)
            if r:
                resp.append(r)
        if not texts:
            warnings.append(f"任务{label}只有责任单位行,没有任务内容。")
            texts = [""]
        title, first_rest = split_title(texts[0])
        body = "\n".join(p for p in [first_rest, *texts[1:]] if p)
        if len(title) > 200:
            warnings.append(f"任务{label}的标题过长,已截取前200字,请核对。")
            title = title[:200]
        task = ParsedTask(
            number=i, title=title, body=body, responsibility_text="\n".join(resp), measures=split_measures(body)
        )
        for r in resp:
            lead, member, townships, notes = parse_responsibility(r)
            task.lead_units += [n for n in lead if n not in task.lead_units]
            task.member_units += [n for n in member if n not in task.member_units]
            task.includes_townships = task.includes_townships or townships
            warnings.extend(f"任务{label}:{n}" for n in notes)
        task.member_units = [n for n in task.member_units if n not in task.lead_units]
        tasks.append(task)
    return tasks


def split_measures(body: str) -> list[str]:
    """A task's measures: its sentences; a numbered sub-item (1. …) is one measure however many sentences."""
    out: list[str] = []
    for par in body.split("\n"):
        par = par.strip()
        if not par:
            continue
        m = next((p.match(par) for _s, p in ITEM_STYLES if p.match(par)), None)
        if m:
            out.append(par[m.end() :].strip())
            continue
        out.extend(s.strip() for s in SENTENCE.findall(par) if s.strip())
    return out
