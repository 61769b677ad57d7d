"""The characters a font covers, read from its character map alone, are exactly fontTools' getBestCmap keys."""

from __future__ import annotations

import pytest
from fontTools.fontBuilder import FontBuilder
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTCollection, TTFont

from tracker.reports import coverage, official


def _font(family: str, cmap: dict[int, str]):
    names = [".notdef", *sorted(set(cmap.values()) - {".notdef"})]
    fb = FontBuilder(1000, isTTF=True)
    fb.setupGlyphOrder(names)
    fb.setupCharacterMap(cmap)
    pen = TTGlyphPen(None)
    pen.moveTo((0, 0))
    pen.lineTo((0, 500))
    pen.lineTo((500, 0))
    pen.closePath()
    fb.setupGlyf({n: pen.glyph() for n in names})
    fb.setupHorizontalMetrics({n: (500, 0) for n in names})
    fb.setupHorizontalHeader(ascent=800, descent=-200)
    fb.setupNameTable({"familyName": family, "styleName": "Regular"})
    fb.setupOS2()
    fb.setupPost()
    return fb.font


def _expected(path) -> frozenset[int]:
    with TTFont(path) as font:
        return frozenset(font.getBestCmap())


def test_segments_with_and_without_a_glyph_array(tmp_path):
    # runs of consecutive glyphs (a delta) and scattered ones (the glyph index array), in the BMP only: format 4
    cmap = {0x41 + i: f"g{i:03}" for i in range(20)}
    cmap.update({0x4E00 + i: f"h{(7 * i) % 30:03}" for i in range(30)})
    cmap[0x4E24] = "g000"  # 两, a glyph shared with another character
    cmap[0x4E1E] = ".notdef"  # next to a run, mapped to the missing glyph: not covered
    font = _font("Test Segments", cmap)
    path = tmp_path / "seg.ttf"
    font.save(path)
    assert font["cmap"].getcmap(3, 1).format == 4
    assert coverage.codepoints(str(path), "Test Segments") == _expected(path) == frozenset(cmap) - {0x4E1E}


def test_groups_beyond_the_basic_plane(tmp_path):
    cmap = {0x41: "a", 0x42: "b", 0x20000: "c", 0x20001: "d", 0x2A6D6: "e"}
    font = _font("Test Groups", cmap)
    path = tmp_path / "groups.ttf"
    font.save(path)
    assert font["cmap"].getcmap(3, 10).format == 12
    assert coverage.codepoints(str(path), "Test Groups") == _expected(path) == frozenset(cmap)


def test_a_collection_member_is_chosen_by_its_family_name(tmp_path):
    first = _font("Test First", {0x41: "a"})
    second = _font("Test Second", {0x42: "b", 0x4E24: "c"})
    coll = TTCollection()
    coll.fonts = [first, second]
    path = tmp_path / "pair.ttc"
    coll.save(path)
    assert coverage.codepoints(str(path), "Test Second") == frozenset({0x42, 0x4E24})
    assert coverage.codepoints(str(path), "Test First") == frozenset({0x41})
    assert coverage.codepoints(str(path), "Not In It") == frozenset({0x41})  # the first member, as before


def test_a_file_it_cannot_read_goes_to_fonttools(tmp_path):
    path = tmp_path / "broken.ttf"
    path.write_bytes(b"not a font at all")
    with pytest.raises(Exception):  # noqa: B017 - fontTools' own error, whatever its class
        coverage.codepoints(str(path), "Broken")


@pytest.mark.parametrize("family", [official.KAI, official.SERIF, official.SANS])
def test_the_installed_faces_read_as_fonttools_reads_them(family):
    path = official._font_file(family)
    if path is None:
        pytest.skip(f"{family} is not installed")
    assert coverage.codepoints(path, family) == coverage._fonttools_codepoints(path, family)
