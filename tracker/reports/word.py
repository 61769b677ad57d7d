"""The Word version of a report: the printed HTML (the same data object, the same sections) walked into a .docx with
Word's own heading styles, tables and pictures, and the official document's page setup. Only the archived PDF is
the record: the Word file is a draft to edit and says 草稿 in its properties."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import lxml.html
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

from . import official
from .pdf import render_pdf

RED = RGBColor(0xE6, 0x00, 0x12)
BLACK = RGBColor(0, 0, 0)
DRAFT = "草稿"


def _fonts(target, family: str) -> None:
    """Name the family for Latin and East Asian text of a style or a run."""
    target.font.name = family
    rpr = target.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.append(fonts)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attr), family)
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):  # a theme font would win
        fonts.attrib.pop(qn(attr), None)


def _border(paragraph, side: str, size_eighths: int, color: str = "000000") -> None:
    ppr = paragraph._p.get_or_add_pPr()
    borders = ppr.find(qn("w:pBdr"))
    if borders is None:
        borders = OxmlElement("w:pBdr")
        ppr.append(borders)
    el = OxmlElement(f"w:{side}")
    el.set(qn("w:val"), "single")
    el.set(qn("w:sz"), str(size_eighths))
    el.set(qn("w:space"), "1")
    el.set(qn("w:color"), color)
    borders.append(el)


def _page_number(paragraph) -> None:
    """— PAGE — as a field, so Word and WPS number the pages."""
    paragraph.add_run("— ")
    run = paragraph.add_run()
    for kind, text in (("begin", None), (None, "PAGE"), ("end", None)):
        if kind:
            fld = OxmlElement("w:fldChar")
            fld.set(qn("w:fldCharType"), kind)
            run._r.append(fld)
        else:
            instr = OxmlElement("w:instrText")
            instr.set(qn("xml:space"), "preserve")
            instr.text = text
            run._r.append(instr)
    paragraph.add_run(" —")
    for r in paragraph.runs:
        r.font.size = Pt(14)
        _fonts(r, official.SERIF)


def _setup(doc, faces: official.Faces) -> None:
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    section.footer_distance = Mm(35 - 7 - 5)
    doc.settings.odd_and_even_pages_header_footer = True
    odd = section.footer.paragraphs[0]
    odd.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    odd.paragraph_format.right_indent = Pt(14)
    _page_number(odd)
    even = section.even_page_footer.paragraphs[0]
    even.alignment = WD_ALIGN_PARAGRAPH.LEFT
    even.paragraph_format.left_indent = Pt(14)
    _page_number(even)
    normal = doc.styles["Normal"]
    _fonts(normal, faces.body)
    normal.font.size = Pt(16)
    normal.paragraph_format.line_spacing = Pt(28.9)
    normal.paragraph_format.space_after = Pt(0)
    for name, family, bold in (
        ("Title", faces.title, True),
        ("Heading 1", faces.hei, False),
        ("Heading 2", faces.kai, False),
    ):
        style = doc.styles[name]
        _fonts(style, family)
        style.font.size = Pt(22 if name == "Title" else 16)
        style.font.bold = bold
        style.font.italic = False
        style.font.color.rgb = BLACK
        style.paragraph_format.space_before = Pt(0)
        style.paragraph_format.space_after = Pt(0)
        style.paragraph_format.line_spacing = Pt(28.9 if name != "Title" else 36)
        # the title style draws a rule under itself in Word's default template: not in an official document
        ppr = style.element.get_or_add_pPr()
        for b in ppr.findall(qn("w:pBdr")):
            ppr.remove(b)


def _text(el) -> str:
    return " ".join(el.text_content().split())


def _classes(el) -> set[str]:
    return set((el.get("class") or "").split())


def chart_png(svg: str, static_dir: Path, width_mm: float = 75) -> bytes | None:
    """A chart as PNG (for Word): the SVG laid out by WeasyPrint, rasterised by pdftoppm at 200 dpi."""
    if shutil.which("pdftoppm") is None:
        return None
    m = re.search(r'viewBox="0 0 ([\d.]+) ([\d.]+)"', svg) or re.search(r'width="([\d.]+)" height="([\d.]+)"', svg)
    ratio = float(m.group(2)) / float(m.group(1)) if m else 0.6
    height_mm = width_mm * ratio
    html = (
        f"<html><head><style>@page {{ size: {width_mm}mm {height_mm}mm; margin: 0 }} body {{ margin: 0 }}"
        f" svg {{ width: {width_mm}mm; height: {height_mm}mm; display: block }}</style></head><body>{svg}</body></html>"
    )
    pdf, _ = render_pdf(html, static_dir)
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "chart.pdf"
        src.write_bytes(pdf)
        subprocess.run(
            ["pdftoppm", "-png", "-r", "200", "-singlefile", str(src), str(Path(tmp) / "chart")], check=True, timeout=60
        )
        return (Path(tmp) / "chart.png").read_bytes()


class _Writer:
    def __init__(self, doc, static_dir: Path):
        self.doc = doc
        self.static_dir = static_dir

    def para(
        self,
        text: str,
        *,
        align=None,
        indent: bool = False,
        size: float | None = None,
        bold: bool = False,
        color=None,
        style: str | None = None,
    ):
        p = self.doc.add_paragraph(style=style)
        if text:
            run = p.add_run(text)
            if size:
                run.font.size = Pt(size)
            run.bold = bold or None
            if color is not None:
                run.font.color.rgb = color
        if align is not None:
            p.alignment = align
        if indent:
            p.paragraph_format.first_line_indent = Pt(32)
        return p

    def block(self, el) -> None:
        tag = el.tag if isinstance(el.tag, str) else ""
        cls = _classes(el)
        if tag in ("style", "script", "head") or not tag:
            return
        if "masthead" in cls:
            self.masthead(el)
        elif tag == "h1":
            self.title(el)
        elif tag in ("h2", "h3"):
            style = "Heading 1" if tag == "h2" else "Heading 2"
            self.doc.add_paragraph(_text(el), style=style).paragraph_format.first_line_indent = Pt(32)
        elif tag == "table":
            self.table(el)
        elif tag == "svg":
            png = chart_png(lxml.html.tostring(el, encoding="unicode"), self.static_dir)
            if png is not None:
                self.doc.add_picture(io.BytesIO(png), width=Mm(75))
        elif "signoff" in cls:
            for line in el:
                p = self.para(_text(line), align=WD_ALIGN_PARAGRAPH.RIGHT)
                p.paragraph_format.right_indent = Pt(32)
        elif "colophon" in cls:
            self.colophon(el)
        elif tag in ("p", "li"):
            small = "small" in cls or "legend" in cls
            self.para(_text(el), indent=not small and tag == "p", size=12 if small else None)
        elif tag in ("ul", "ol"):
            for li in el:
                if isinstance(li.tag, str):
                    self.para("· " + _text(li), size=12)
        else:
            self.container(el, tag, cls)

    def container(self, el, tag: str, cls: set) -> None:
        """A block of blocks, or a leaf or note holding text directly (one paragraph of its text)."""
        children = [c for c in el if isinstance(c.tag, str)]
        if not children:
            if _text(el):
                self.para(_text(el), size=12)
            return
        if (el.text or "").strip() and tag not in ("section", "body", "div") or "changed-note" in cls:
            self.para(_text(el), size=12)
            return
        for c in children:
            self.block(c)

    def masthead(self, el) -> None:
        """版头: the issuing body's mark in red, the document number, and the red line under it."""
        mark = el.find_class("mark")[0]
        size = float(re.search(r"([\d.]+)pt", mark.get("style", "font-size: 22pt")).group(1))
        p = self.para(_text(mark), align=WD_ALIGN_PARAGRAPH.CENTER, size=size, bold=True, color=RED)
        _fonts(p.runs[0], official.SERIF)
        p.paragraph_format.space_before = Pt(74)  # the mark 35 mm below the type area's top
        self.para("")
        number = self.para(el.find_class("docno")[0].text_content().strip(), align=WD_ALIGN_PARAGRAPH.CENTER)
        _border(number, "bottom", 12, "E60012")  # the red line under the number, across the type area
        self.para("")

    def title(self, el) -> None:
        """The title, centred, broken where the HTML breaks it."""
        lines = [t.strip() for t in el.itertext() if t.strip()]
        p = self.doc.add_paragraph(style="Title")
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        for i, line in enumerate(lines):
            run = p.add_run(line)
            if i < len(lines) - 1:
                run.add_break(WD_BREAK.LINE)
        self.para("")

    def colophon(self, el) -> None:
        """版记: 抄送, then 印发机关 left and 印发日期 right, between the rules."""
        self.para("")
        parts = list(el)
        for i, part in enumerate(parts):
            text = "\t".join(_text(s) for s in part) if len(part) else _text(part)
            p = self.para(text, size=14 if "cc" in _classes(part) else 12)
            p.paragraph_format.left_indent = Pt(14)
            p.paragraph_format.right_indent = Pt(14)
            if i == 0:
                _border(p, "top", 8)
            _border(p, "bottom", 8 if i == len(parts) - 1 else 6)
            if len(part) > 1:  # 印发机关 left, 印发日期 right
                p.paragraph_format.tab_stops.add_tab_stop(Mm(156) - Pt(28), alignment=2)

    def table(self, el) -> None:
        rows = [tr for tr in el.iter("tr")]
        if not rows:
            return
        width = max(sum(int(c.get("colspan", "1")) for c in tr if c.tag in ("td", "th")) for tr in rows)
        table = self.doc.add_table(rows=0, cols=width)
        table.style = "Table Grid"
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        size = 9 if "wide" in _classes(el) else 10.5
        for tr in rows:
            cells = [c for c in tr if c.tag in ("td", "th")]
            row = table.add_row().cells
            for i, c in enumerate(cells[:width]):
                p = row[i].paragraphs[0]
                run = p.add_run(_text(c))
                run.font.size = Pt(size)
                run.bold = c.tag == "th" or None
                p.paragraph_format.line_spacing = 1.15
                if "num" in _classes(c):
                    p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        header = rows[0].getparent().tag == "thead"
        if header:  # the header row repeats on every page
            trpr = table.rows[0]._tr.get_or_add_trPr()
            el_h = OxmlElement("w:tblHeader")
            el_h.set(qn("w:val"), "true")
            trpr.append(el_h)


def to_docx(html: str, title: str, static_dir: Path) -> bytes:
    """The report's print HTML as a Word document (a draft)."""
    tree = lxml.html.document_fromstring(html)
    faces = official.choose_faces(html)
    doc = Document()
    _setup(doc, faces)
    props = doc.core_properties
    props.title = f"{title}({DRAFT})"
    props.subject = title
    props.content_status = DRAFT
    props.category = DRAFT
    props.keywords = DRAFT
    props.comments = "草稿:仅供编辑,存档的PDF为正式文本。"
    props.author = official.ISSUER
    writer = _Writer(doc, static_dir)
    body = tree.find_class("report")[0]
    for child in body:
        writer.block(child)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
