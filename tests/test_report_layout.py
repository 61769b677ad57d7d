"""Every page of every PDF of the demo district fits the type area: rendered to PNG, the strip right of the type
area holds no ink, and the CJK font is embedded."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from tracker.assessment import cards
from tracker.meetings.models import Meeting
from tracker.org import service as org
from tracker.periods import Period
from tracker.plans.service import active_plan
from tracker.reports import builders, pdf, service
from tracker.seed import load_base, load_demo

from .conftest import PASSWORD, get_unit, get_user

Q3 = Period.parse("2026-Q3")
STATIC = Path(__file__).resolve().parent.parent / "static"
DPI = 50
# print.css: A4, 18 mm left and right margins, so the type area ends 18 mm before the paper's right edge
RIGHT_MARGIN_MM = 18
# a cell border drawn on the type area's edge spreads half its width outside, and antialiasing one pixel more:
# at 50 dpi one pixel is 25.4 / 50 = 0.508 mm, so the strip checked starts 1 mm (two pixels) past the edge
TOLERANCE_MM = 1.0
INK = 200  # a grey level below this (0 black, 255 white) is ink
LONG_NAME = "高新技术产业开发区管理委员会"  # 14 characters, more than any demo unit
LONG_TOKEN = "https://example.com/" + "a" * 90  # no break opportunity in 110 characters


pytestmark = pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils not installed")


@pytest.fixture
def demo(app, session, frozen):
    """The demo district as `flask --app tracker seed --demo` loads it on 2026-10-20, with one town renamed to a
    long name and one card whose reason holds a long unbreakable token."""
    frozen(2026, 10, 20, 9)
    load_base(session)
    load_demo(session, PASSWORD, today=date(2026, 10, 20))
    session.commit()
    frozen(2026, 10, 20, 9)
    town = get_unit(session, "青石镇")
    org.update_unit(
        session, get_user(session, "admin"), town.id, town.version, name=LONG_NAME, aliases="", is_active=True
    )
    cards.issue_card(
        session,
        get_user(session, "reviewer"),
        unit_id=get_unit(session, "白沙镇").id,
        colour="yellow",
        period="2026-Q3",
        reason="详见 " + LONG_TOKEN,
    )
    session.commit()
    return town


def _pdfs(session, app, town) -> dict[str, bytes]:
    district = app.config["DISTRICT_NAME"]
    plan = active_plan(session)
    q3_meetings = [m for m in session.scalars(select(Meeting)) if service.meeting_period(m) == Q3]
    assert q3_meetings, "the demo holds a meeting for the third quarter"
    out = {
        "briefing": service.to_pdf("briefing", service.briefing_data(session, Q3)),
        "briefing-meeting": service.to_pdf("briefing", service.briefing_data(session, Q3, q3_meetings[-1])),
        "cards": service.to_pdf("cards", builders.card_report(session, Q3, district)),
    }
    for unit in (town, get_unit(session, "公安分局")):
        out[f"scorecard-{unit.id}"] = service.to_pdf("scorecard", builders.scorecard(session, plan, unit, Q3, district))
    return out


def _ink_beyond_right_margin(png) -> list[tuple[int, int]]:
    """Pixels with ink right of the type area (portrait or landscape A4 alike)."""
    img = Image.open(png).convert("L")
    width, height = img.size
    paper_mm = 297 if width > height else 210
    px_per_mm = width / paper_mm
    x0 = int((paper_mm - RIGHT_MARGIN_MM + TOLERANCE_MM) * px_per_mm + 0.999)
    pixels = img.load()
    return [(x, y) for x in range(x0, width) for y in range(height) if pixels[x, y] < INK]


def test_every_pdf_page_fits_the_type_area_and_embeds_the_cjk_font(demo, session, app, tmp_path):
    pdfs = _pdfs(session, app, demo)
    pages, overflowing = 0, []
    for name, body in pdfs.items():
        path = tmp_path / f"{name}.pdf"
        path.write_bytes(body)
        fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
        embedded_cjk = [line for line in fonts.splitlines() if "CJK" in line and re.search(r"\byes\b", line)]
        assert embedded_cjk, f"{name}: no CJK font embedded\n{fonts}"
        subprocess.run(["pdftoppm", "-png", "-r", str(DPI), str(path), str(tmp_path / name)], check=True)
        pngs = sorted(tmp_path.glob(f"{name}-*.png"))
        assert pngs, name
        for png in pngs:
            pages += 1
            ink = _ink_beyond_right_margin(png)
            if ink:
                overflowing.append(f"{png.name}: {len(ink)} pixels, first at {ink[0]}")
    # briefing, briefing of the meeting, card report, two scorecards: each at least two pages
    print(f"{pages} pages of {len(pdfs)} PDFs checked, {len(overflowing)} with ink beyond the right margin")
    assert pages >= 10
    assert overflowing == []


def test_the_check_sees_a_table_wider_than_the_page(tmp_path):
    """The same check on a table with a column that cannot shrink finds ink past the margin: it is no blind check."""
    cells = "".join(f'<td style="white-space: nowrap">第{i}列数值一二三四五六七八九十</td>' for i in range(6))
    html = (
        '<html><head><link rel="stylesheet" href="/static/report.css"><link rel="stylesheet" '
        'href="/static/print.css"></head><body><div class="report"><table><tr>'
        + cells
        + "</tr></table></div></body></html>"
    )
    body, _ = pdf.render_pdf(html, STATIC)
    path = tmp_path / "wide.pdf"
    path.write_bytes(body)
    subprocess.run(["pdftoppm", "-png", "-r", str(DPI), str(path), str(tmp_path / "wide")], check=True)
    assert _ink_beyond_right_margin(sorted(tmp_path.glob("wide-*.png"))[0])
