"""Reading an uploaded plan document (.txt or .docx) into its text, safely: a .docx is checked before any of its XML
is parsed and streamed through defusedxml with bounds on size, entries, elements and depth."""

from __future__ import annotations

import io
import zipfile

import defusedxml.ElementTree as DefusedET
from defusedxml import DefusedXmlException

MAX_TEXT_CHARS = 300_000
# A .docx is a zip of XML parts. These bounds are checked before and while the main part is read, so a small
# upload cannot unpack into gigabytes or into millions of XML elements (a 70 KB file of empty paragraphs
# once took a gigabyte of memory through a full DOM parse).
MAX_DOCX_UNPACKED = 50 * 1024 * 1024
MAX_DOCX_ENTRIES = 1000
MAX_DOCX_RATIO = 200  # Word's XML compresses about 10:1; a run of zeros about 1000:1
MAX_DOCX_ELEMENTS = 2_000_000
MAX_BLOCK_ELEMENTS = 100_000  # one paragraph or table, the largest piece held in memory at once (about 40 MB)
MAX_XML_DEPTH = 256
MAX_SMALL_PART = 1024 * 1024  # [Content_Types].xml and _rels/.rels
W_NS = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
OFFICE_DOCUMENT = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"


class ImportTextError(ValueError):
    """The text or file cannot be read as a plan; the message is shown to the user (in Chinese)."""


class NotAPlan(ImportTextError):
    """The text has no recognisable tasks."""


class UnreadableFile(ImportTextError):
    """The upload is not a text or Word file this importer reads."""


# -- reading files -----------------------------------------------------------------------------------------------


def read_document(filename: str, data: bytes) -> str:
    """The text of an uploaded .txt (UTF-8, or GB18030) or .docx file."""
    name = (filename or "").lower().strip()
    if name.endswith(".txt"):
        return _decode_text(data)
    if name.endswith(".docx"):
        return _docx_text(data)
    if name.endswith(".doc") or name.endswith(".wps"):
        raise UnreadableFile("不支持旧版 Word(.doc/.wps)文件,请在 Word 中另存为 .docx 后上传,或直接粘贴全文。")
    raise UnreadableFile("只能上传 .txt 或 .docx 文件。")


def _decode_text(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UnreadableFile("无法识别文本文件的编码,请另存为 UTF-8 编码后重新上传。")


def _docx_text(data: bytes) -> str:
    """The text of the main document part, paragraph by paragraph (a table row becomes one line, cells
    separated by spaces). The part is streamed through defusedxml, which refuses entity declarations; each
    paragraph or table is dropped once read."""
    bad = UnreadableFile("文件不是有效的 Word(.docx)文档,请检查后重新上传。")
    if not data.startswith(b"PK\x03\x04") or not zipfile.is_zipfile(io.BytesIO(data)):
        raise bad
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            main = _checked_docx_main_part(z, bad)
            with z.open(main) as stream:
                return "\n".join(_docx_lines(stream))
    except ImportTextError:
        raise
    except DefusedXmlException as e:
        raise UnreadableFile("Word 文档含有不允许的 XML 实体或外部引用,已拒绝。请另存为新的 .docx 后重新上传。") from e
    except Exception as e:  # a damaged package: zipfile (CRC, truncation) and the XML parser raise many kinds
        raise bad from e


def _checked_docx_main_part(z: zipfile.ZipFile, bad: UnreadableFile) -> str:
    """Check the package before any XML in it is parsed; return the name of the main document part."""
    infos = z.infolist()
    if len(infos) > MAX_DOCX_ENTRIES:
        raise UnreadableFile("Word 文档结构异常(内部文件过多),已拒绝。")
    by_name = {i.filename: i for i in infos}
    if any(i.flag_bits & 0x1 for i in infos):
        raise UnreadableFile("Word 文档已加密,请取消密码保护后重新上传。")
    if any("vbaproject" in n.lower() or "vbadata" in n.lower() for n in by_name):
        raise UnreadableFile("文件含有宏,已拒绝。只能上传 .txt 或 .docx 文件,请另存为不含宏的 Word 文档(*.docx)。")
    if sum(i.file_size for i in infos) > MAX_DOCX_UNPACKED:
        raise UnreadableFile("Word 文档解压后过大,请删除其中的图片等内容后重新上传,或直接粘贴全文。")
    if any(i.file_size > 1024 * 1024 and i.file_size > MAX_DOCX_RATIO * max(i.compress_size, 1) for i in infos):
        raise UnreadableFile("Word 文档解压后体积异常(压缩比过高,疑似压缩炸弹),已拒绝。")
    types = _small_part(z, by_name, "[Content_Types].xml", bad)
    if b"macroEnabled" in types or b"vbaProject" in types:
        raise UnreadableFile("文件含有宏,已拒绝。只能上传 .txt 或 .docx 文件,请另存为不含宏的 Word 文档(*.docx)。")
    main = "word/document.xml"
    if "_rels/.rels" in by_name:
        rels = DefusedET.fromstring(_small_part(z, by_name, "_rels/.rels", bad))
        for rel in rels:
            if rel.get("Type") == OFFICE_DOCUMENT and rel.get("Target"):
                main = rel.get("Target").lstrip("/")
                break
    if main not in by_name:
        raise bad
    return main


def _small_part(z: zipfile.ZipFile, by_name: dict, name: str, bad: UnreadableFile) -> bytes:
    if name not in by_name or by_name[name].file_size > MAX_SMALL_PART:
        raise bad
    # read(n), never read(): zipfile's read() inflates an entry in one call of up to 2 GB before it cuts it to
    # the declared size; read(n) inflates n bytes at a time, then checks the CRC at the declared end
    with z.open(name) as f:
        return f.read(MAX_SMALL_PART + 1)


def _docx_lines(stream) -> list[str]:
    too_big = UnreadableFile(
        "Word 文档结构异常(XML 元素过多或嵌套过深),已拒绝。请另存为新的 .docx 后重新上传,或直接粘贴全文。"
    )
    lines: list[str] = []
    chars = elements = block_elements = 0
    stack: list = []
    for event, elem in DefusedET.iterparse(stream, events=("start", "end"), forbid_dtd=True):
        if event == "start":
            stack.append(elem)
            elements += 1
            block_elements += 1
            if elements > MAX_DOCX_ELEMENTS or block_elements > MAX_BLOCK_ELEMENTS or len(stack) > MAX_XML_DEPTH:
                raise too_big
            continue
        stack.pop()
        if not stack or len(stack) > 2:  # the root, or inside a paragraph or table still being read
            continue
        parent = stack[-1]
        if len(stack) == 2 and parent.tag == W_NS + "body":  # document > body > paragraph or table
            read = len(lines)
            if elem.tag == W_NS + "p":
                lines.append("".join(t.text or "" for t in elem.iter(W_NS + "t")))
            elif elem.tag == W_NS + "tbl":
                for row in elem.iter(W_NS + "tr"):
                    cells = ["".join(t.text or "" for t in c.iter(W_NS + "t")) for c in row.iter(W_NS + "tc")]
                    lines.append(" ".join(c for c in cells if c))
            chars += sum(len(line) + 1 for line in lines[read:])
            if chars > MAX_TEXT_CHARS:
                raise NotAPlan(f"文本过长(超过{MAX_TEXT_CHARS // 10000}万字),请只导入实施方案本身。")
        parent.remove(elem)  # read: drop it, so memory holds one paragraph or table at a time
        block_elements = 0
    return lines


# -- documents holding several plans -----------------------------------------------------------------------------
