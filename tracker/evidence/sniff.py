"""What an uploaded file is, decided by its bytes (magic numbers and, for Office files, the package's parts), never
by its name. Anything not on the list is refused with a message naming the file."""

from __future__ import annotations

import io
import zipfile

from defusedxml import ElementTree

from ..errors import ValidationError
from .models import FileKind

HEIC = "heic"  # a phone photo in HEIF: converted to JPEG before it is stored
HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"heim", b"heis", b"hevm", b"hevs", b"mif1", b"msf1"}
_CONTENT_TYPES = "[Content_Types].xml"
_CT_NS = "{http://schemas.openxmlformats.org/package/2006/content-types}"
DOCX_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
XLSX_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
MAX_CONTENT_TYPES_BYTES = 1024 * 1024  # a real [Content_Types].xml is a few kilobytes
MAX_ZIP_ENTRIES = 10_000  # a real .docx/.xlsx has tens to hundreds of parts
_EOCD = b"PK\x05\x06"

ACCEPTED = "只能上传图片(JPEG、PNG、手机拍摄的HEIC)、PDF、Word(.docx)或Excel(.xlsx)文件"


def sniff(name: str, data: bytes) -> str:
    """The file's kind (a FileKind value, or HEIC); raises ValidationError with a Chinese message otherwise."""
    if data.startswith(b"\xff\xd8\xff"):
        return FileKind.JPEG
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return FileKind.PNG
    if len(data) >= 12 and data[4:8] == b"ftyp" and data[8:12] in HEIF_BRANDS:
        return HEIC
    if data.startswith(b"%PDF-"):
        return FileKind.PDF
    if data.startswith(b"PK\x03\x04"):
        return _office(name, data)
    if data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        raise ValidationError(
            f"“{name}”是旧版Office文件(.doc/.xls)或加密文档,请另存为 .docx/.xlsx(不加密码、不含宏)后上传"
        )
    if data.startswith((b"MZ", b"\x7fELF", b"#!", b"\xca\xfe\xba\xbe", b"\xcf\xfa\xed\xfe")):
        raise ValidationError(f"“{name}”是可执行程序(按文件内容识别,与文件名无关),不能上传;{ACCEPTED}")
    raise ValidationError(f"“{name}”的内容不是可接受的类型(按文件内容识别,与文件名无关);{ACCEPTED}")


def _office(name: str, data: bytes) -> str:
    """A .docx or .xlsx by its package's main part; macro-enabled packages (.docm/.xlsm, vbaProject.bin) refused."""
    entries = _zip_entries(data)
    if entries is None:
        raise ValidationError(f"“{name}”已损坏,无法识别为Word或Excel文件")
    if entries > MAX_ZIP_ENTRIES:
        raise ValidationError(f"“{name}”内部文件过多({entries}个),不像正常的Word或Excel文件")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            names = z.namelist()
            info = z.getinfo(_CONTENT_TYPES) if _CONTENT_TYPES in names else None
            if info is None or info.file_size > MAX_CONTENT_TYPES_BYTES:
                raise ValidationError(f"“{name}”是压缩包,不是Word或Excel文件;{ACCEPTED}")
            # read(n) inflates at most n bytes, whatever the entry's header claims (ZipFile.read would inflate all)
            with z.open(info) as part:
                xml = part.read(MAX_CONTENT_TYPES_BYTES + 1)
            if len(xml) > MAX_CONTENT_TYPES_BYTES:
                raise ValidationError(f"“{name}”已损坏,无法识别为Word或Excel文件")
            root = ElementTree.fromstring(xml)
    except (zipfile.BadZipFile, ElementTree.ParseError, OSError, RuntimeError, ValueError):
        raise ValidationError(f"“{name}”已损坏,无法识别为Word或Excel文件") from None
    types = [el.get("ContentType", "") for el in root.iter() if el.tag in (f"{_CT_NS}Override", f"{_CT_NS}Default")]
    if any(n.lower().endswith("vbaproject.bin") for n in names) or any("macroEnabled" in t for t in types):
        raise ValidationError(f"“{name}”含有宏(VBA),不能上传;请另存为不含宏的 .docx/.xlsx 后上传")
    if DOCX_MAIN in types:
        return FileKind.DOCX
    if XLSX_MAIN in types:
        return FileKind.XLSX
    raise ValidationError(f"“{name}”不是Word(.docx)或Excel(.xlsx)文件;{ACCEPTED}")


def _zip_entries(data: bytes) -> int | None:
    """The entry count of the zip's end-of-central-directory record, read before zipfile builds an object for each
    entry; None when there is no such record or it defers to ZIP64 (0xFFFF)."""
    at = data.rfind(_EOCD, max(0, len(data) - 22 - 65_535))
    if at < 0 or len(data) < at + 22:
        return None
    total = int.from_bytes(data[at + 10 : at + 12], "little")
    return None if total == 0xFFFF else total
