"""Chinese numerals as a plan writes them: 一 … 九百九十九, and tasks labelled (一), (二) …"""

from __future__ import annotations


def task_label(n: int) -> str:
    """(一), (二) … as the plan numbers its tasks."""
    return f"({cn_number(n)})"


CN_DIGITS = "零一二三四五六七八九"


def cn_number(n: int) -> str:
    """1 → 一, 10 → 十, 15 → 十五, 42 → 四十二, 100 → 一百, 105 → 一百零五, 110 → 一百一十; from 1000, digits."""
    if n < 0 or n >= 1000:
        return str(n)
    if n <= 10:
        return "十" if n == 10 else CN_DIGITS[n]
    if n < 20:
        return "十" + CN_DIGITS[n - 10]
    if n < 100:
        return CN_DIGITS[n // 10] + "十" + (CN_DIGITS[n % 10] if n % 10 else "")
    hundreds, rest = divmod(n, 100)
    head = CN_DIGITS[hundreds] + "百"
    if rest == 0:
        return head
    if rest < 10:
        return head + "零" + CN_DIGITS[rest]
    return head + ("一" + cn_number(rest) if rest < 20 else cn_number(rest))


def cn_to_int(s: str) -> int:
    """The value of 一 … 九百九十九 (or of digits); 0 for anything else."""
    s = (s or "").strip()
    if s.isdigit():
        return int(s)
    digits = {c: i for i, c in enumerate(CN_DIGITS)}
    if not s or any(c not in digits and c not in "十百" for c in s):
        return 0
    total = 0
    if "百" in s:
        hundreds, _, s = s.partition("百")
        if len(hundreds) != 1 or hundreds not in digits or hundreds == "零":
            return 0
        total = digits[hundreds] * 100
        s = s[1:] if s.startswith("零") else s
        if not s:
            return total
    if "十" not in s:
        return total + digits[s[0]] if len(s) == 1 else 0
    tens, _, ones = s.partition("十")
    if len(tens) > 1 or len(ones) > 1:
        return 0
    return total + (digits.get(tens, 1) if tens else 1) * 10 + (digits.get(ones, 0) if ones else 0)
