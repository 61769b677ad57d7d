"""Reading a plan (实施方案) from its own document text: its parts, tasks, responsibility lines and measures.

Pure functions: no Flask, no database. The result is the plan's data-file form (seed/plan.json), which
`tracker.plans.import_service` matches against the district's units and `tracker.plans.service.load_plan`
turns into a plan. Text taken from the document stays verbatim; only its structure is recognised.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .documents import MAX_TEXT_CHARS, NotAPlan
from .items import CN_NUM, ITEM_STYLES, item_style, split_title
from .numerals import cn_to_int
from .task_text import ParsedTask, parse_tasks

GOAL_ITEM = re.compile(rf"^({CN_NUM})是\s*")
GOAL_INLINE = re.compile(rf"(?:^|(?<=[。；;]))\s*({CN_NUM})是")

SECTION_KEYWORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("guiding", ("指导思想", "总体要求", "总体思路")),
    ("goals", ("工作目标", "主要目标", "总体目标", "目标任务")),
    (
        "tasks",
        ("主要任务", "重点任务", "工作任务", "主要措施", "工作措施", "具体措施", "重点工作", "工作重点", "任务分工"),
    ),
    ("requirements", ("工作要求", "保障措施", "组织保障", "工作保障", "有关要求", "组织实施", "组织领导")),
)
SECTION_LABELS = {"guiding": "指导思想", "goals": "工作目标", "tasks": "主要任务", "requirements": "工作要求"}

SECTION_HEADING_LINE = re.compile(r"^(.{0,60}?)\s*(篇\s*[0-9一二三四五六七八九十]+)\s*$")
TITLE_WORDS = ("方案", "计划", "意见", "办法", "措施", "要点")


@dataclass
class Item:
    """A numbered part: a goal, a task or a requirement."""

    number: int
    title: str
    body: str


@dataclass
class ParsedPlan:
    """What was recognised; `to_data()` is the plan's data-file form."""

    title: str | None
    year: int | None
    district: str
    preamble: str = ""
    guiding_ideology: str = ""
    goals: list[Item] = field(default_factory=list)
    tasks: list[ParsedTask] = field(default_factory=list)
    requirements: list[Item] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def to_data(self) -> dict:
        return {
            "title": self.title,
            "year": self.year,
            "district": self.district,
            "preamble": self.preamble,
            "guiding_ideology": self.guiding_ideology,
            "goals": [{"number": g.number, "title": g.title, "body": g.body} for g in self.goals],
            "tasks": [t.to_data() for t in self.tasks],
            "requirements": [{"number": r.number, "title": r.title, "body": r.body} for r in self.requirements],
        }


def sections(text: str) -> list[tuple[str, str]]:
    """The parts of a file that holds several documents, by their heading lines ending in 篇N: (篇N, text)."""
    out: list[tuple[str, str]] = []
    current: str | None = None
    buf: list[str] = []
    for line in _lines(text):
        m = SECTION_HEADING_LINE.match(line)
        if m and "。" not in line:
            if current is not None:
                out.append((current, "\n".join(buf)))
            current, buf = re.sub(r"\s+", "", m.group(2)), []
        elif current is not None:
            buf.append(line)
    if current is not None:
        out.append((current, "\n".join(buf)))
    return out


def select_section(text: str, name: str) -> str:
    """The text of one document of a collection, e.g. 篇2."""
    wanted = re.sub(r"\s+", "", name or "")
    if wanted.isdigit():
        wanted = "篇" + wanted
    parts = sections(text)
    for key, body in parts:
        if key == wanted or 0 < cn_to_int(key[1:]) == cn_to_int(wanted[1:]):
            return body
    found = "、".join(k for k, _ in parts)
    raise NotAPlan(f"文中没有“{name}”。" + (f"可选的篇章:{found}。" if found else "该文本没有分篇。"))


# -- the plan ----------------------------------------------------------------------------------------------------


def parse_plan(
    text: str, *, title: str | None = None, year: int | None = None, district: str = "", section: str | None = None
) -> ParsedPlan:
    """Recognise a plan in its text. Raises NotAPlan with a Chinese message when there is none."""
    if text is None or not text.strip():
        raise NotAPlan("文本为空,请粘贴实施方案全文或上传文件。")
    if len(text) > MAX_TEXT_CHARS:
        raise NotAPlan(f"文本过长(超过{MAX_TEXT_CHARS // 10000}万字),请只导入实施方案本身。")
    notes: list[str] = []
    if section:
        text = select_section(text, section)
    elif len(sections(text)) > 1:
        text, note = _only_plan_section(text, title=title, year=year, district=district)
        notes.append(note)
    plan = _parse(_lines(text), title=title, year=year, district=district)
    plan.warnings[:0] = notes
    return plan


def _only_plan_section(text: str, **kw) -> tuple[str, str]:
    plans = []
    for key, body in sections(text):
        try:
            _parse(_lines(body), **kw)
        except NotAPlan:
            continue
        plans.append((key, body))
    keys = "、".join(k for k, _ in sections(text))
    if not plans:
        raise NotAPlan(f"文中有多篇({keys}),但都不是实施方案:没有找到“主要任务”及编号的任务。")
    if len(plans) > 1:
        raise NotAPlan(f"文中有多篇实施方案({'、'.join(k for k, _ in plans)}),请在“篇章”中填写要导入的一篇。")
    return plans[0][1], f"文中有多篇({keys}),已选取其中唯一的实施方案“{plans[0][0]}”。"


def _parse(lines: list[str], *, title: str | None, year: int | None, district: str) -> ParsedPlan:
    warnings: list[str] = []
    found_title, lines = _take_title(lines, warnings)
    title = (title or "").strip() or found_title
    if year is None and title:
        m = re.search(r"(20\d\d)\s*年", title)
        year = int(m.group(1)) if m else None
    buckets: dict[str, list[str]] = {"preamble": [], "guiding": [], "goals": [], "tasks": [], "requirements": []}
    current = "preamble"
    seen: set[str] = set()
    task_style: str | None = None
    for line in lines:
        heading = _section_heading(line)
        if heading and heading[0] is None and current == "tasks" and task_style in (None, "dun_cn"):
            heading = None  # "一、强化……" inside 主要任务 written in the 一、 style is a task, not a part
        if heading:
            kind, rest, label = heading
            current = kind or "other"
            if kind:
                seen.add(kind)
            else:
                warnings.append(f"未识别的部分“{label}”没有导入,请核对。")
            if rest and current != "other":
                buckets[current].append(rest)
            continue
        if current == "tasks" and task_style is None:
            task_style = item_style(line)
        if current != "other":
            buckets[current].append(line)

    if "tasks" in seen:
        task_lines, preamble = buckets["tasks"], buckets["preamble"]
    else:  # no 主要任务 heading: a plan that is a list of tasks with responsibility lines
        leading, _ = _split_items(buckets["preamble"])
        task_lines, preamble = buckets["preamble"][len(leading) :], leading
    tasks = parse_tasks(task_lines, warnings)
    if not tasks or ("tasks" not in seen and not any(t.responsibility_text for t in tasks)):
        raise NotAPlan(
            "没有识别出实施方案:未找到“主要任务”部分及编号的任务(如“(一)……”“1.……”)。请确认粘贴的是实施方案全文。"
        )
    plan = ParsedPlan(
        title=title,
        year=year,
        district=district or "",
        preamble="\n".join(preamble),
        guiding_ideology="\n".join(buckets["guiding"]),
        goals=_parse_goals(buckets["goals"]),
        tasks=tasks,
        requirements=_parse_items(buckets["requirements"], "工作要求"),
        warnings=warnings,
    )
    return plan


def _lines(text: str) -> list[str]:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\ufeff", "")
    return [s for s in (re.sub(r"^[\s\u3000]+|[\s\u3000]+$", "", line) for line in text.split("\n")) if s]


def _take_title(lines: list[str], warnings: list[str]) -> tuple[str | None, list[str]]:
    """The line naming the document (…实施方案) before the first part; a covering notice before it is left out.

    A notice (关于印发《X》的通知) with no title line of its own after it gives X.
    """
    head: list[int] = []
    for i, line in enumerate(lines):
        if _section_heading(line) is not None or item_style(line) is not None:
            break
        head.append(i)
    titles = [i for i in head if _is_title(lines[i])]
    if not titles:
        return None, lines
    k = titles[-1]
    title = lines[k]
    quoted = re.fullmatch(r"关于印发\s*《(.+)》\s*的通知", title)
    if quoted:
        title = quoted.group(1)
    if k > 0:
        warnings.append(f"标题“{title}”之前的{k}行文字(如印发通知)没有导入。")
    return title, lines[k + 1 :]


def _is_title(line: str) -> bool:
    return (
        len(line) <= 80
        and "。" not in line
        and not line.endswith((":", "："))
        and not re.search(r"[,，]", line)
        and any(w in line for w in TITLE_WORDS)
    )


def _section_heading(line: str) -> tuple[str | None, str, str] | None:
    """(kind, or None for a part this importer does not know; text after the heading on its line; the line)."""
    m = ITEM_STYLES[2][1].match(line)  # 一、
    rest = line[m.end() :] if m else line.strip("【】[]〖〗 ")
    for kind, words in SECTION_KEYWORDS:
        for w in words:
            if not rest.startswith(w):
                continue
            after = rest[len(w) :]
            if not after.strip(" :：。.") or re.match(r"^\s*[:：]", after) or (m and re.match(r"^\s*[。.]", after)):
                return kind, after.lstrip(" :：。.").strip(), line
    if m and len(rest) <= 20 and "。" not in rest.rstrip("。") and not re.search(r"[,，;；]", rest):
        return None, "", line
    return None


def _split_items(lines: list[str], style: str | None = None) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Lines before the first item, and the items (number, lines) of the first item style found."""
    leading: list[str] = []
    items: list[tuple[int, list[str]]] = []
    pattern = dict(ITEM_STYLES).get(style) if style else None
    for line in lines:
        if pattern is None:
            style = item_style(line)
            pattern = dict(ITEM_STYLES).get(style) if style else None
        m = pattern.match(line) if pattern else None
        if m:
            items.append((cn_to_int(m.group(1)), [line[m.end() :]]))
        elif items:
            items[-1][1].append(line)
        else:
            leading.append(line)
    return leading, items


def _parse_items(lines: list[str], default_title: str) -> list[Item]:
    leading, items = _split_items(lines)
    if not items:
        text = "\n".join(lines)
        return [Item(1, default_title, text)] if text else []
    out = []
    if leading:
        out.append(Item(0, default_title, "\n".join(leading)))
    for _number, par in items:
        title, rest = split_title(par[0])
        out.append(Item(0, title, "\n".join([rest, *par[1:]]).strip()))
    for i, item in enumerate(out, 1):
        item.number = i
    return out


def _parse_goals(lines: list[str]) -> list[Item]:
    """一是…二是…, one a line or several in one paragraph; otherwise numbered items."""
    pieces: list[str] = []
    for line in lines:
        starts = [m.start(1) for m in GOAL_INLINE.finditer(line)]
        if not starts:
            if pieces:
                pieces[-1] += "\n" + line
            else:
                pieces.append(line)
            continue
        if starts[0] > 0:
            head = line[: starts[0]].strip()
            if pieces:
                pieces[-1] += "\n" + head
            else:
                pieces.append(head)
        for a, b in zip(starts, [*starts[1:], len(line)], strict=True):
            pieces.append(line[a:b].strip())
    if not any(GOAL_ITEM.match(p) for p in pieces):
        return _parse_items(lines, "工作目标")
    goals: list[Item] = []
    for p in pieces:
        m = GOAL_ITEM.match(p)
        if not m:
            goals.append(Item(0, "工作目标", p))
            continue
        title, body = _goal_title(p[m.end() :])
        goals.append(Item(0, title, body))
    for i, g in enumerate(goals, 1):
        g.number = i
    return goals


def _goal_title(text: str) -> tuple[str, str]:
    """一是健全组织体系。… → 健全组织体系; a goal whose first sentence is long is named by its first clause."""
    title, body = split_title(text)
    if len(title) <= 30:
        return title, body
    m = re.search(r"[,，;；]", text)
    if m and m.start() <= 30:
        return text[: m.start()], text[m.end() :].strip()
    return title, body
