"""Images made safe to keep and show: size read from the header and refused before any decoding when too large
(decompression bombs), then decoded (scaled down to MAX_STORED_SIDE), turned upright by its EXIF orientation, and
re-encoded without any metadata (no EXIF, no GPS position, no text chunks), with a JPEG thumbnail.

HEIC photos from phones are read through pillow-heif and stored as JPEG.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from ..errors import ValidationError
from .models import FileKind
from .sniff import HEIC

try:  # HEIC support is optional: without it a HEIC photo is refused with advice
    from pillow_heif import register_heif_opener

    register_heif_opener()
    HEIC_SUPPORTED = True
except ImportError:  # pragma: no cover - the package is in requirements.txt
    HEIC_SUPPORTED = False

MAX_PIXELS = 64_000_000  # 6400万像素: above any phone camera's normal photo, far below a bomb's 9亿
MAX_SIDE = 20_000
THUMB_SIDE = 320
MAX_STORED_SIDE = 3000  # a larger photo is stored scaled down to this on its longest side (9 MP at 4:3)
ORIENTATION = 0x0112
# EXIF orientation -> the turn that makes the pixels upright (as ImageOps.exif_transpose)
_TURNS = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
JPEG_QUALITY = 88
_LIMIT = f"超过上限(最长边{MAX_SIDE}像素、共{MAX_PIXELS // 10_000}万像素),未予处理;请缩小后上传"


@dataclass(frozen=True)
class CleanImage:
    data: bytes
    kind: str  # FileKind.JPEG or FileKind.PNG
    width: int
    height: int
    thumbnail: bytes  # JPEG, longest side THUMB_SIDE at most


def clean(name: str, data: bytes, kind: str) -> CleanImage:
    """Re-encode an uploaded JPEG, PNG or HEIC; ValidationError when it is too large or not a readable image.

    Memory stays near one decoded copy: a JPEG is decoded at 1/2, 1/4 or 1/8 scale when that still covers
    MAX_STORED_SIDE, the photo is scaled down in place before its pixels are copied, and turned upright last."""
    if kind == HEIC and not HEIC_SUPPORTED:
        raise ValidationError(f"“{name}”是HEIC格式,服务器暂不支持;请在手机相机设置中选择“兼容性最佳”(JPEG)后重拍或转换")
    with warnings.catch_warnings():
        # the size is checked below before decoding; Pillow's own bomb warning must not turn into an error first
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            try:
                im = Image.open(io.BytesIO(data))  # reads the header only
            except Image.DecompressionBombError:  # Pillow's own header check: twice its default limit or more
                raise ValidationError(f"“{name}”的尺寸{_LIMIT}") from None
            width, height = im.size
            if width * height > MAX_PIXELS or max(width, height) > MAX_SIDE:
                raise ValidationError(f"“{name}”的尺寸为{width}×{height}像素,{_LIMIT}")
            orientation = im.getexif().get(ORIENTATION, 1)
            icc = im.info.get("icc_profile")
            if im.format == "JPEG":
                im.draft(im.mode, _fit(im.size, MAX_STORED_SIDE))
            im.load()
            if max(im.size) > MAX_STORED_SIDE:
                im.thumbnail((MAX_STORED_SIDE, MAX_STORED_SIDE), Image.Resampling.BICUBIC)
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
            raise ValidationError(f"“{name}”不是完整可读的图片,可能已损坏") from None
    stored_kind = FileKind.PNG if kind == FileKind.PNG else FileKind.JPEG
    fresh = _pixels_only(im, stored_kind)
    im.close()
    del im
    if orientation in _TURNS:
        fresh = fresh.transpose(_TURNS[orientation])
    out = io.BytesIO()
    if stored_kind == FileKind.PNG:
        fresh.save(out, format="PNG", **({"icc_profile": icc} if icc else {}))
    else:
        fresh.save(out, format="JPEG", quality=JPEG_QUALITY, **({"icc_profile": icc} if icc else {}))
    return CleanImage(out.getvalue(), stored_kind, fresh.width, fresh.height, thumbnail(fresh))


def _fit(size: tuple[int, int], side: int) -> tuple[int, int]:
    """The size of `size` scaled to fit a side × side box (never larger than it is)."""
    w, h = size
    scale = min(1.0, side / max(w, h))
    return max(1, round(w * scale)), max(1, round(h * scale))


def _pixels_only(im: Image.Image, kind: str) -> Image.Image:
    """A new image holding the pixels and nothing else of the upload (no EXIF, XMP, text or other info)."""
    if kind == FileKind.JPEG:
        mode = "RGB" if im.mode not in ("L", "RGB") else im.mode
    else:
        mode = im.mode if im.mode in ("1", "L", "LA", "RGB", "RGBA", "P", "I;16") else "RGBA"
    src = im.convert(mode) if im.mode != mode else im
    fresh = Image.new(mode, src.size)
    if mode == "P":
        fresh.putpalette(src.getpalette() or [])
        if "transparency" in src.info:
            fresh.info["transparency"] = src.info["transparency"]
    fresh.paste(src, (0, 0))
    return fresh


def thumbnail(im: Image.Image) -> bytes:
    """A JPEG of at most THUMB_SIDE on its longest side; transparency on white."""
    small = im.copy()
    small.thumbnail((THUMB_SIDE, THUMB_SIDE))
    if small.mode in ("RGBA", "LA", "P"):
        rgba = small.convert("RGBA")
        small = Image.new("RGB", rgba.size, "white")
        small.paste(rgba, mask=rgba.getchannel("A"))
    elif small.mode != "RGB":
        small = small.convert("RGB")
    out = io.BytesIO()
    small.save(out, format="JPEG", quality=80)
    return out.getvalue()
