"""Files for the attachment tests: real photos with EXIF and GPS, documents, and hostile files made by hand."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

from PIL import Image
from werkzeug.datastructures import FileStorage

GPS = {1: "N", 2: (30.0, 15.0, 12.5), 3: "E", 4: (120.0, 5.0, 1.0)}


def photo(width: int = 60, height: int = 40, colour: str = "red", orientation: int | None = 6) -> bytes:
    """A JPEG as a phone writes it: EXIF with the camera's make, a GPS position and (default) orientation 6
    (the pixels are stored turned: shown upright they are `height` wide and `width` high)."""
    im = Image.new("RGB", (width, height), colour)
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation
    exif[0x010F] = "PhoneMaker"
    exif.get_ifd(0x8825).update(GPS)
    out = io.BytesIO()
    im.save(out, "JPEG", exif=exif)
    return out.getvalue()


def png(width: int = 30, height: int = 20) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (width, height), (0, 128, 0, 200)).save(out, "PNG")
    return out.getvalue()


def heic(width: int = 48, height: int = 32) -> bytes:
    from pillow_heif import from_pillow

    out = io.BytesIO()
    from_pillow(Image.new("RGB", (width, height), "blue")).save(out, quality=80)
    return out.getvalue()


def png_bomb(width: int = 30_000, height: int = 30_000) -> bytes:
    """A PNG whose header claims width × height pixels (decoded: 2.7 GB of RGB) with a few bytes of data."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 1024))
        + chunk(b"IEND", b"")
    )


PDF_WITH_JS = (
    b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R /OpenAction << /S /JavaScript /JS (app.alert\\(1\\)) >> >>\n"
    b"endobj\n2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
)

EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + b"PE\x00\x00" + b"\x00" * 200


def pdf(text: str = "1") -> bytes:
    return b"%PDF-1.4\n% " + text.encode() + b"\n%%EOF\n"


def docx() -> bytes:
    from docx import Document

    d = Document()
    d.add_paragraph("青石镇反诈宣传活动记录")
    out = io.BytesIO()
    d.save(out)
    return out.getvalue()


def xlsx() -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    wb.active["A1"] = "宣传场次"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def xlsm_as_xlsx() -> bytes:
    """An Excel workbook with macros (the .xlsm content type and a vbaProject.bin), as a renamed .xlsx carries it."""
    src = zipfile.ZipFile(io.BytesIO(xlsx()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "[Content_Types].xml":
                data = data.replace(
                    b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
                    b"application/vnd.ms-excel.sheet.macroEnabled.main+xml",
                )
            z.writestr(info, data)
        z.writestr("xl/vbaProject.bin", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100)
    return out.getvalue()


def many_entries_docx(entries: int = 10_001) -> bytes:
    """A zip of `entries` empty parts with a Word content-types part: a central directory to exhaust memory."""
    out = io.BytesIO()
    src = zipfile.ZipFile(io.BytesIO(docx()))
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("[Content_Types].xml", src.read("[Content_Types].xml"))
        for i in range(entries - 1):
            z.writestr(f"p/{i}", b"")
    return out.getvalue()


def understated_content_types() -> bytes:
    """A package whose [Content_Types].xml says 1 KB in its header but inflates to 50 MB."""
    body = b"<Types>" + b" " * (50 * 1024 * 1024) + b"</Types>"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", body)
    data = bytearray(out.getvalue())
    # the uncompressed size in the local header (offset 22) and in the central directory entry (offset 24)
    data[22:26] = (1024).to_bytes(4, "little")
    cd = data.rfind(b"PK\x01\x02")
    data[cd + 24 : cd + 28] = (1024).to_bytes(4, "little")
    return bytes(data)


def upload(data: bytes, name: str) -> FileStorage:
    return FileStorage(io.BytesIO(data), filename=name)
