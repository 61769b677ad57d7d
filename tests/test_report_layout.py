"""Every page of every PDF of the demo district is laid out as an official document (GB/T 9704-2012): rendered to
PNG, no ink outside the 156 × 225 mm type area but the page number ("— N —" below it, odd pages right, even pages
left), the 版头 (the red mark, the document number, the red line as wide as the type area) on the first page, and
the CJK fonts embedded."""

from __future__ import annotations

import re
import shutil
import subprocess
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

from .conftest import get_unit, get_user

Q3 = Period.parse("2026-Q3")
STATIC = Path(__file__).resolve().parent.parent / "static"
DPI = 50
# print.css: A4, type area 156 × 225 mm, 37 mm from the top and 28 mm from the left (binding) edge, so it ends
# 210 - 28 - 156 = 26 mm before the right edge and 297 - 37 - 225 = 35 mm above the bottom
RIGHT_MARGIN_MM = 26
LEFT_MARGIN_MM = 28
TOP_MARGIN_MM = 37
BOTTOM_MARGIN_MM = 35
# a cell border drawn on the type area's edge spreads half its width outside, and antialiasing one pixel more:
# at 50 dpi one pixel is 25.4 / 50 = 0.508 mm, so the strip checked starts 1 mm (two pixels) past the edge
TOLERANCE_MM = 1.0
INK = 200  # a grey level below this (0 black, 255 white) is ink
LONG_NAME = "高新技术产业开发区管理委员会"  # 14 characters, more than any demo unit
LONG_TOKEN = "https://example.com/" + "a" * 90  # no break opportunity in 110 characters


pytestmark = pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils not installed")


@pytest.fixture
def demo(app, session, frozen, demo_districts):
    """The demo district as `flask --app tracker seed --demo` loads it on 2026-10-20 (seeded once per run), with one
    town renamed to a long name and one card whose reason holds a long unbreakable token."""
    demo_districts.install(app, (2026, 10, 20, 9))
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


def _outside_type_area(png) -> tuple[list, tuple[float, float] | None]:
    """(boxes of ink outside the type area other than the page number's band, the band's ink from-to in mm)."""
    img = Image.open(png).convert("L")
    width, height = img.size
    mm = width / 210
    ink = img.point(lambda v: 255 if v < INK else 0)
    left = int((LEFT_MARGIN_MM - TOLERANCE_MM) * mm)
    right = int((210 - RIGHT_MARGIN_MM + TOLERANCE_MM) * mm + 0.999)
    top = int((TOP_MARGIN_MM - TOLERANCE_MM) * mm)
    bottom = int((297 - BOTTOM_MARGIN_MM + TOLERANCE_MM) * mm + 0.999)
    # the page number: 7 mm below the type area, a 4号 (14 pt ≈ 5 mm) line, within the type area's width
    band = (int((297 - BOTTOM_MARGIN_MM + 5) * mm), int((297 - BOTTOM_MARGIN_MM + 16) * mm))
    regions = [
        (0, 0, width, top),  # above
        (0, 0, left, height),  # left
        (right, 0, width, height),  # right
        (0, bottom, width, band[0]),  # between the type area and the number
        (0, band[1], width, height),  # below the number
    ]
    stray = [box for box in regions if ink.crop(box).getbbox()]
    found = ink.crop((left, band[0], right, band[1])).getbbox()
    number = ((left + found[0]) / mm, (left + found[2]) / mm) if found else None
    return stray, number


def _red_rows(png, until_mm: float) -> list[float]:
    """Per pixel row of the top `until_mm`, how many mm of it are red."""
    img = Image.open(png).convert("RGB")
    w, _h = img.size
    mm = w / 210
    red = img.split()
    r, g, b = (c.crop((0, 0, w, int(until_mm * mm))) for c in red)
    # red, or the pink of a thin red line antialiased at 50 dpi
    mask_r = r.point(lambda v: 255 if v > 180 else 0)
    mask_g = g.point(lambda v: 255 if v < 150 else 0)
    mask_b = b.point(lambda v: 255 if v < 150 else 0)
    from PIL import ImageChops

    mask = ImageChops.multiply(ImageChops.multiply(mask_r, mask_g), mask_b)
    rows = []
    for y in range(mask.height):
        line = mask.crop((0, y, w, y + 1))
        rows.append(line.histogram()[255] / mm)
    return rows


def test_every_page_is_an_official_document_page(demo, session, app, tmp_path):
    """No ink outside the type area except the page number, which stands right on odd pages and left on even ones;
    the first page carries the red mark, the number line and the red line across the type area."""
    pdfs = _pdfs(session, app, demo)
    checked, problems = 0, []
    for name, body in pdfs.items():
        path = tmp_path / f"{name}.pdf"
        path.write_bytes(body)
        subprocess.run(["pdftoppm", "-png", "-r", str(DPI), str(path), str(tmp_path / f"o-{name}")], check=True)
        pngs = sorted(tmp_path.glob(f"o-{name}-*.png"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))
        for page, png in enumerate(pngs, start=1):
            checked += 1
            stray, number = _outside_type_area(png)
            if stray:
                problems.append(f"{png.name}: ink outside the type area in {stray}")
            if number is None:
                problems.append(f"{png.name}: no page number")
            # the type area's middle is 28 + 78 = 106 mm from the left edge
            elif page % 2 and number[0] < 106:
                problems.append(f"{png.name}: odd page's number not on the right ({number[0]:.0f} mm)")
            elif not page % 2 and number[1] > 106:
                problems.append(f"{png.name}: even page's number not on the left ({number[1]:.0f} mm)")
        text = subprocess.run(
            ["pdftotext", "-f", "1", "-l", "1", str(path), "-"], capture_output=True, text=True, check=True
        ).stdout
        assert "开发区打击治理电信网络诈骗犯罪工作联席会议办公室" in text, name
        assert "反诈联办〔2026〕" in text, name
        assert "—1—" in re.sub(r"\s+", "", text), name
        reds = _red_rows(pngs[0], 100)
        assert any(reds), f"{name}: no red 版头"
        # the red line: one row red across at least 150 of the type area's 156 mm
        assert max(reds) >= 150, f"{name}: the red line spans {max(reds):.0f} mm"
    print(f"{checked} pages checked")
    assert checked >= 10
    assert problems == []


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
