"""The reports as official documents (公文, GB/T 9704-2012): the 版头 with the issuing body's mark and the document
number, 主送, 落款 and 版记; the faces, chosen by what they cover; the title broken at sensible places; and the
document numbers, taken once and never given again."""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .. import clock, policy
from ..audit.service import record
from ..errors import StaleEdit, ValidationError
from . import coverage
from .models import DocumentNumber, DocumentNumbering

ISSUER = "打击治理电信网络诈骗犯罪工作联席会议办公室"
RECIPIENTS = "各镇(街道),区打击治理电信网络诈骗犯罪工作联席会议各成员单位:"

# The faces (GB/T 9704: title in 小标宋, body in 仿宋, 一、 in 黑体, （一） in 楷体), all from Debian packages.
SERIF = "Noto Serif CJK SC"  # fonts-noto-cjk: 宋体 and 小标宋 (bold)
SANS = "Noto Sans CJK SC"  # fonts-noto-cjk: 黑体
KAI = "AR PL UKai CN"  # fonts-arphic-ukai: 楷体
# 仿宋 faces Debian packages; cwTeX 仿宋 (fonts-cwtex-fs) is a traditional-Chinese face and lacks most simplified
# characters, so it is used only when it covers every character printed. Otherwise the body is set in the serif.
FANGSONG_CANDIDATES = ("FangSong", "cwTeXFangSong")

# A4 type area 156 × 225 mm: 28 characters of 3号 (16 pt) a line; the 2号 (22 pt) title takes 20.
TITLE_CHARS = 20
TYPE_WIDTH_PT = 156 / 25.4 * 72


@functools.lru_cache(maxsize=32)
def _font_file(family: str) -> str | None:
    """The file of an installed family (exact name), or None."""
    fc = shutil.which("fc-list")
    if fc is None:
        return None
    out = subprocess.run([fc, f":family={family}", "file"], capture_output=True, text=True, timeout=30).stdout
    files = [line.split(":")[0].strip() for line in out.splitlines() if line.strip()]
    return files[0] if files else None


@functools.lru_cache(maxsize=32)
def _codepoints(path: str, family: str) -> frozenset[int]:
    return coverage.codepoints(path, family)


def missing_glyphs(family: str, text: str) -> str:
    """The characters of text the installed family has no glyph for (all of them when it is not installed)."""
    chars = sorted({c for c in text if not c.isspace()})
    path = _font_file(family)
    if path is None:
        return "".join(chars)
    have = _codepoints(path, family)
    return "".join(c for c in chars if ord(c) not in have)


def covers(family: str, text: str) -> bool:
    return missing_glyphs(family, text) == ""


@dataclass(frozen=True)
class Faces:
    """The families a document is set in: each one covers every character it prints."""

    title: str = SERIF
    body: str = SERIF
    hei: str = SANS
    kai: str = KAI

    def css(self) -> str:
        q = '"{}"'.format
        return (
            f".gw {{ font-family: {q(self.body)}, {q(SERIF)}, serif; }}\n"
            f".gw h1.title, .gw .mark {{ font-family: {q(self.title)}, serif; }}\n"
            f".gw h2, .gw .hei {{ font-family: {q(self.hei)}, sans-serif; }}\n"
            f".gw h3, .gw .kai {{ font-family: {q(self.kai)}, {q(SERIF)}, serif; }}\n"
        )


def _text_of(html: str, tag: str | None = None) -> str:
    if tag is not None:
        html = " ".join(re.findall(rf"<{tag}\b[^>]*>(.*?)</{tag}>", html, flags=re.S))
    html = re.sub(r"<style\b.*?</style>|<svg\b.*?</svg>|<head\b.*?</head>", " ", html, flags=re.S)
    import html as html_mod

    return html_mod.unescape(re.sub(r"<[^>]+>", " ", html))


def choose_faces(html: str) -> Faces:
    """仿宋 for the body when a 仿宋 face covers all the text, else the serif; 楷体 for （一） headings when it covers
    them, else the serif."""
    body = SERIF
    text = _text_of(html)
    for family in FANGSONG_CANDIDATES:
        if _font_file(family) and covers(family, text):
            body = family
            break
    kai = KAI if covers(KAI, _text_of(html, "h3")) else SERIF
    return Faces(body=body, kai=kai)


# -- the title ------------------------------------------------------------------------------------------------------

# A line may end after these (a date, a period, a unit, a phrase) or start with those (what the document is).
_BREAK_AFTER = ("年", "季度", "月份", "月", "关于", "的", "诈骗", "犯罪", "镇", "街道", "局", "会议", "区")
_BREAK_BEFORE = ("工作通报", "考评通报", "通报", "考评记分卡", "记分卡", "红黄牌", "联席会议", "工作")


def _break_points(title: str) -> set[int]:
    points = set()
    for w in _BREAK_AFTER:
        for m in re.finditer(re.escape(w), title):
            points.add(m.end())
    for w in _BREAK_BEFORE:
        for m in re.finditer(re.escape(w), title):
            points.add(m.start())
    for m in re.finditer(r"\d{4}年", title):  # before a date
        points.add(m.start())
    # never inside a number or right after an opening bracket
    return {
        i
        for i in points
        if 0 < i < len(title)
        and not (title[i - 1].isdigit() and title[i].isdigit())
        and title[i - 1] not in "(（《“〔"
        and title[i] not in ")）》”〕,，。、;；:："
    }


def title_lines(title: str, width: int = TITLE_CHARS) -> list[str]:
    """The title in lines of at most `width` characters, broken only where a word ends (after a date or a unit,
    before 工作通报 …), as evenly as possible (GB/T 9704: 回行时要做到词意完整, 排列对称)."""
    title = title.strip()
    if len(title) <= width:
        return [title]
    best: list[str] | None = None
    points = sorted(_break_points(title))
    for n in (2, 3):
        for cut in _combinations(points, n - 1):
            bounds = [0, *cut, len(title)]
            lines = [title[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]
            if max(len(x) for x in lines) > width:
                continue
            if best is None or _badness(lines) < _badness(best):
                best = lines
        if best is not None:
            return best
    # no word boundary fits: full lines
    return [title[i : i + width] for i in range(0, len(title), width)]


def _combinations(points: list[int], k: int):
    from itertools import combinations

    return combinations(points, k)


def _badness(lines: list[str]) -> tuple[int, int]:
    """Fewer, more even lines; on a tie the longer line below (a trapezium)."""
    lengths = [len(x) for x in lines]
    return (max(lengths) - min(lengths), 1 if lengths[0] > lengths[-1] else 0)


# -- the mark of the issuing body -----------------------------------------------------------------------------------


def mark_size_pt(mark: str) -> float:
    """The issuing body's mark on one line of the type area: at most 30 pt, smaller for a long name."""
    return round(min(30.0, TYPE_WIDTH_PT / max(len(mark), 1) * 0.98), 1)


# -- document numbers -----------------------------------------------------------------------------------------------


DEFAULT_PREFIX = "反诈联办"  # the numbering settings' prefix and 抄送 line until the administrator sets them
DEFAULT_COPY_TO = ""


def numbering(session: Session) -> DocumentNumbering:
    """The numbering settings (row id 1), created with the defaults when missing."""
    row = session.get(DocumentNumbering, 1)
    if row is None:
        try:
            with session.begin_nested():
                row = DocumentNumbering(
                    id=1, prefix=DEFAULT_PREFIX, year=clock.today().year, next_seq=1, copy_to=DEFAULT_COPY_TO
                )
                session.add(row)
        except IntegrityError:  # created by a concurrent request in the meantime
            row = session.get(DocumentNumbering, 1)
    return row


def format_number(prefix: str, year: int, seq: int | None) -> str:
    """X反诈联办〔2026〕3号; without a sequence (a draft, not archived) the number is left blank: 〔2026〕　号."""
    blank = "\u3000"
    return f"{prefix}〔{year}〕{seq if seq is not None else blank}号"


def highest_taken(session: Session, year: int) -> int:
    return session.scalar(select(func.max(DocumentNumber.seq)).where(DocumentNumber.year == year)) or 0


def next_number(session: Session, year: int) -> int:
    """The sequence number the next archived briefing of `year` takes: the administrator's next number for that
    year, but always past every number taken (a number is never given twice)."""
    row = numbering(session)
    start = row.next_seq if row.year == year else 1
    return max(start, highest_taken(session, year) + 1)


def update_numbering(
    session: Session, actor, version: int | None, *, prefix: str, year: int, next_seq: int, copy_to: str
) -> DocumentNumbering:
    """The administrator sets the prefix, the next sequence number of a year and the 抄送 line (audited)."""
    policy.require(actor, "documents.manage")
    prefix = (prefix or "").strip()
    copy_to = " ".join((copy_to or "").split())
    if not prefix:
        raise ValidationError("请填写发文字号的机关代字(如 X反诈联办)")
    if len(prefix) > 40 or re.search(r"[〔〕\[\]()（）\d]", prefix):
        raise ValidationError("机关代字不超过40字,不含括号和数字(年份和序号由系统添加)")
    if len(copy_to) > 300:
        raise ValidationError("抄送不超过300字")
    if not isinstance(year, int) or not 2000 <= year <= 2100:
        raise ValidationError("年份须在2000至2100之间")
    if not isinstance(next_seq, int) or next_seq < 1 or next_seq > 9999:
        raise ValidationError("下一个序号须为1至9999的整数")
    taken = highest_taken(session, year)
    if next_seq <= taken:
        raise ValidationError(f"{year}年已用到第{taken}号,下一个序号须大于{taken}(文号不得重复使用)")
    row = numbering(session)
    if version is None or row.version != version:
        raise StaleEdit()
    before = row.snapshot()
    row.prefix, row.year, row.next_seq, row.copy_to = prefix, year, next_seq, copy_to
    row.updated_at = clock.now()
    record(
        session,
        actor,
        "documents.numbering",
        row,
        before=before,
        summary=f"发文字号设置:下一个文号 {format_number(prefix, year, next_seq)};抄送:{copy_to or '无'}",
    )
    return row


def number_of(session: Session, meeting_id: int | None) -> DocumentNumber | None:
    if meeting_id is None:
        return None
    return session.scalar(select(DocumentNumber).where(DocumentNumber.meeting_id == meeting_id))


def take_number(session: Session, meeting, on: date) -> DocumentNumber:
    """The meeting's document number: taken when its briefing is first archived, kept by every later version."""
    existing = number_of(session, meeting.id)
    if existing is not None:
        return existing
    row = numbering(session)
    seq = next_number(session, on.year)
    number = DocumentNumber(
        year=on.year, seq=seq, text=format_number(row.prefix, on.year, seq), meeting_id=meeting.id, taken_at=clock.now()
    )
    session.add(number)
    if row.year != on.year or row.next_seq <= seq:
        row.year, row.next_seq = on.year, seq + 1
    session.flush()
    return number


# -- what the 版头, 落款 and 版记 say --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Head:
    """版头 (mark, number), 主送, 落款 and 版记 of one document."""

    mark: str  # 发文机关标志: the district and the issuing body
    mark_pt: float
    number: str  # 发文字号; blank sequence until the meeting's briefing is archived
    numbered: bool
    recipients: str  # 主送
    signer: str  # 落款
    signed: date
    copy_to: str  # 抄送 ("" leaves the line out)
    printer: str  # 印发机关
    printed: date  # 印发日期


def head(session: Session, district: str, *, meeting=None, recipients: str = RECIPIENTS, today=None) -> Head:
    mark = f"{district}{ISSUER}"
    today = today or clock.today()
    # read only: the settings row is created by the writes that need it (taking a number, the settings page), so a
    # page or document reads the defaults it would be created with instead of inserting it on a GET
    row = session.get(DocumentNumbering, 1)
    prefix, copy_to = (DEFAULT_PREFIX, DEFAULT_COPY_TO) if row is None else (row.prefix, row.copy_to)
    taken = number_of(session, meeting.id) if meeting is not None else None
    number = taken.text if taken is not None else format_number(prefix, today.year, None)
    return Head(
        mark=mark,
        mark_pt=mark_size_pt(mark),
        number=number,
        numbered=taken is not None,
        recipients=recipients,
        signer=mark,
        signed=today,
        copy_to=copy_to,
        printer=mark,
        printed=today,
    )
