"""Which characters an installed font has a glyph for, read from its character map alone.

fontTools' getBestCmap names the glyph of every character (the 楷体 face maps 24,000 of them), which took about a
third of a second of CPU per document, and reading a collection's names through fontTools loads its OpenType table
classes. The question here is only which characters are mapped, so the font file's table directory, its names and
its best Unicode subtable (in getBestCmap's order) are read as they are stored: segments (format 4) or groups
(formats 12 and 13). A file or subtable of another kind is left to fontTools."""

from __future__ import annotations

import array
import struct
import sys

# fontTools' getBestCmap order: (platform, encoding) of the subtable to read, best first
PREFERENCES = ((3, 10), (0, 6), (0, 4), (3, 1), (0, 3), (0, 2), (0, 1), (0, 0))
SFNT_VERSIONS = (b"\x00\x01\x00\x00", b"OTTO", b"true")
FAMILY_NAME_IDS = (1, 16)  # family, typographic family


class NotReadable(ValueError):
    """Not a font file (or subtable) this module reads; fontTools is asked instead."""


def codepoints(path: str, family: str) -> frozenset[int]:
    """The code points the font maps to a glyph other than .notdef (getBestCmap's keys); in a collection, the first
    member named `family`, else the first member."""
    try:
        with open(path, "rb") as f:
            tables = _member_tables(f, family)
            if "cmap" not in tables:
                raise NotReadable("no cmap")
            return _cmap_codepoints(_read(f, tables["cmap"]))
    except (NotReadable, struct.error):
        return _fonttools_codepoints(path, family)


def _fonttools_codepoints(path: str, family: str) -> frozenset[int]:
    from fontTools.ttLib import TTCollection, TTFont

    if path.lower().endswith((".ttc", ".otc")):
        with TTCollection(path) as coll:
            chosen = coll.fonts[0]
            for f in coll.fonts:
                if family in {n.toUnicode() for n in f["name"].names if n.nameID in FAMILY_NAME_IDS}:
                    chosen = f
                    break
            return frozenset(chosen.getBestCmap() or ())
    with TTFont(path) as f:
        return frozenset(f.getBestCmap() or ())


def _read(f, where: tuple[int, int]) -> bytes:
    f.seek(where[0])
    data = f.read(where[1])
    if len(data) != where[1]:
        raise NotReadable("table cut off")
    return data


def _directory(f, offset: int) -> dict[str, tuple[int, int]]:
    """The table directory at `offset`: tag -> (offset, length) in the file."""
    f.seek(offset)
    head = f.read(12)
    if len(head) < 12 or head[:4] not in SFNT_VERSIONS:
        raise NotReadable("not an sfnt")
    count = struct.unpack_from(">H", head, 4)[0]
    records = f.read(16 * count)
    out = {}
    for i in range(count):
        tag, _checksum, at, length = struct.unpack_from(">4sLLL", records, 16 * i)
        out[tag.decode("latin-1")] = (at, length)
    return out


def _member_tables(f, family: str) -> dict[str, tuple[int, int]]:
    """The table directory of the font, or of the collection's member named `family` (else its first member)."""
    head = f.read(12)
    if head[:4] != b"ttcf":
        return _directory(f, 0)
    count = struct.unpack_from(">L", head, 8)[0]
    offsets = struct.unpack(f">{count}L", f.read(4 * count))
    members = [_directory(f, at) for at in offsets]
    for tables in members:
        if "name" in tables and family in _family_names(_read(f, tables["name"])):
            return tables
    return members[0]


def _family_names(data: bytes) -> set[str]:
    """The family names (IDs 1 and 16) a name table gives in Unicode or Windows encodings, and Mac Roman."""
    _fmt, count, strings = struct.unpack_from(">HHH", data, 0)
    names = set()
    for i in range(count):
        platform, encoding, _lang, name_id, length, at = struct.unpack_from(">6H", data, 6 + 12 * i)
        if name_id not in FAMILY_NAME_IDS:
            continue
        raw = data[strings + at : strings + at + length]
        if platform in (0, 3):
            names.add(raw.decode("utf-16-be", errors="replace"))
        elif platform == 1 and encoding == 0:
            names.add(raw.decode("mac_roman", errors="replace"))
    return names


def _cmap_codepoints(data: bytes) -> frozenset[int]:
    found = _best_subtable(data)
    if found is None:
        return frozenset()
    fmt, offset, length = found
    if fmt == 4:
        return _format4(data, offset, length)
    if fmt in (12, 13):
        return _format12(data, offset, length, step=fmt == 12)
    raise NotReadable(f"cmap format {fmt}")


def _best_subtable(data: bytes) -> tuple[int, int, int] | None:
    """(format, offset, length) of the first subtable of the most preferred (platform, encoding), or None.

    Subtables whose header is cut off or that say they are empty are passed over (fontTools skips the empty ones)."""
    if len(data) < 4:
        return None
    _version, count = struct.unpack_from(">HH", data, 0)
    first: dict[tuple[int, int], tuple[int, int, int]] = {}
    for i in range(count):
        if 4 + (i + 1) * 8 > len(data):
            return None
        platform, encoding, offset = struct.unpack_from(">HHL", data, 4 + i * 8)
        if offset + 8 > len(data):
            continue
        fmt = struct.unpack_from(">H", data, offset)[0]
        if fmt in (8, 10, 12, 13):
            length = struct.unpack_from(">L", data, offset + 4)[0]
        elif fmt in (14, 15):
            length = struct.unpack_from(">L", data, offset + 2)[0]
        else:
            length = struct.unpack_from(">H", data, offset + 2)[0]
        if length and offset + length <= len(data):
            first.setdefault((platform, encoding), (fmt, offset, length))
    return next((first[key] for key in PREFERENCES if key in first), None)


def _words(data: bytes, start: int, end: int) -> array.array:
    words = array.array("H")
    words.frombytes(data[start : start + (end - start) // 2 * 2])
    if sys.byteorder != "big":
        words.byteswap()
    return words


def _format4(data: bytes, offset: int, length: int) -> frozenset[int]:
    """Segments of start, end, delta and range offset; the last one (0xFFFF) is left out, as fontTools does."""
    seg_count = struct.unpack_from(">H", data, offset + 6)[0] // 2
    words = _words(data, offset + 14, offset + length)
    end_code = words[:seg_count]
    start_code = words[seg_count + 1 : 2 * seg_count + 1]  # after the reserved pad
    id_delta = words[2 * seg_count + 1 : 3 * seg_count + 1]
    range_offset = words[3 * seg_count + 1 : 4 * seg_count + 1]
    glyph_ids = words[4 * seg_count + 1 :]
    mapped: set[int] = set()
    for i in range(seg_count - 1):
        start, end, delta, rng = start_code[i], end_code[i], id_delta[i], range_offset[i]
        if rng == 0:
            notdef = (-delta) & 0xFFFF  # the one character of the segment that lands on glyph 0
            mapped.update(c for c in range(start, end + 1) if c != notdef)
            continue
        partial = rng // 2 - start + i - seg_count
        for c in range(start, end + 1):
            index = c + partial
            if not 0 <= index < len(glyph_ids):
                raise NotReadable(f"cmap format 4: glyph index {index} out of range in segment {i}")
            if glyph_ids[index] != 0 and (glyph_ids[index] + delta) & 0xFFFF != 0:
                mapped.add(c)
    return frozenset(mapped)


def _format12(data: bytes, offset: int, length: int, step: bool) -> frozenset[int]:
    """Groups of start, end and glyph, clamped and skipped as fontTools (and HarfBuzz) do; a group starting at
    glyph 0 maps nothing in format 13 and all but its first character in format 12."""
    groups_count = struct.unpack_from(">L", data, offset + 12)[0] if length >= 16 else 0
    groups = array.array("I")
    groups.frombytes(data[offset + 16 : offset + 16 + min(groups_count, (length - 16) // 12) * 12])
    if sys.byteorder != "big":
        groups.byteswap()
    mapped: set[int] = set()
    last_end = 0
    for start, end, glyph in zip(*[iter(groups)] * 3, strict=False):
        end = min(end, 0x10FFFF)
        if start > end or start < last_end:
            continue
        last_end = end
        if glyph == 0:
            if not step:
                continue
            start += 1
        mapped.update(range(start, end + 1))
    return frozenset(mapped)
