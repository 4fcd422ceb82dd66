"""What a file is, told by its content: the container (magic bytes, OLE streams, HTML
sniffing; :func:`detect_format`) and, for text, its encoding (BOM, UTF-8, else
charset-normalizer with the GBK family read as gb18030)."""

from __future__ import annotations

import io as _stdio
import os
import re
import zipfile
from pathlib import Path

import charset_normalizer
import msoffcrypto
import msoffcrypto.exceptions

from tianxin_analysis.errors import InputFileError

FORMATS = ("xlsx", "xls", "xls-encrypted", "xlsx-encrypted", "html", "csv")


_EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".xlsb", ".et", ".ett"}
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = b"PK\x03\x04"
_BINARY_MAGICS = {
    b"\x89PNG": "PNG image",
    b"\xff\xd8\xff": "JPEG image",
    b"GIF8": "GIF image",
    b"%PDF": "PDF document",
    b"BM": "BMP image",
}
_GBK_FAMILY = {"gb2312", "gbk", "gb18030", "hz", "hz_gb_2312", "cp936", "euc_cn"}


def _read_bytes(path: Path) -> bytes:
    """The whole file's bytes; a missing path, a folder or an empty file is an
    ``InputFileError``."""
    if not path.exists():
        raise InputFileError("文件不存在", "file not found", file=str(path))
    if path.is_dir():
        raise InputFileError(
            "路径是文件夹，不是文件", "path is a folder, not a file", file=str(path)
        )
    data = path.read_bytes()
    if not data:
        raise InputFileError(
            "文件为空 (0 字节)",
            "file is empty (0 bytes)",
            file=str(path),
            expected="xlsx / xls / HTML / CSV 表格 (a spreadsheet, HTML table or CSV)",
        )
    return data


# The format of a text file is told by this many bytes at its start (and its name).
_HEAD_BYTES = 65536


def _looks_like_html(data: bytes) -> bool:
    """True when the first bytes (BOM and blanks skipped) open an HTML document or table."""
    head = data[:_HEAD_BYTES].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    # Office "HTML-as-xls" exports and web-system downloads start with a doctype, <html>,
    # a comment, or go straight to <table>.
    return bool(re.search(rb"<(html|table|!doctype\s+html)\b", head))


def _sniff(data: bytes, path: Path) -> str:
    """The container format of ``data``: "xlsx", "xls", "html", "csv", or "<format>-encrypted"
    (magic bytes first, then text); a damaged or unknown container is an ``InputFileError``."""
    name = str(path)
    suffix = path.suffix.lower()
    if data.startswith(_OLE_MAGIC):
        return _sniff_ole(data, name)
    if data.startswith(_ZIP_MAGIC):
        return _sniff_zip(data, name)
    for magic, what in _BINARY_MAGICS.items():
        if data.startswith(magic):
            raise InputFileError(
                "文件内容不是表格",
                "file content is not a spreadsheet",
                file=name,
                found=what,
                expected="xlsx / xls / HTML / CSV",
            )
    if _looks_like_html(data):
        return "html"
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputFileError(
            "无法识别的二进制文件",
            "unrecognised binary file",
            file=name,
            found=data[:8].hex(),
            expected="xlsx / xls / HTML / CSV",
        )
    if suffix in _EXCEL_SUFFIXES:
        # Plain text under an Excel name is almost always an error page or a wrong download.
        raise InputFileError(
            "文件扩展名是 Excel，但内容是纯文本",
            "file has an Excel extension but holds plain text",
            file=name,
            found=_decode_text(data, name)[0][:60],
            expected="Excel 工作簿 (Excel workbook)",
        )
    return "csv"


def _sniff_ole(data: bytes, name: str) -> str:
    """The format of an OLE compound file: "xls", "xls-encrypted" or "xlsx-encrypted"; any
    other Office document or a damaged container is an ``InputFileError``."""
    try:
        office = msoffcrypto.OfficeFile(_stdio.BytesIO(data))
    except Exception as exc:  # olefile raises assorted errors on damaged containers
        raise InputFileError(
            "OLE 复合文档已损坏或不是 Excel 文件",
            "OLE compound file is damaged or not an Excel workbook",
            file=name,
            found=type(exc).__name__,
            expected="Excel 97-2003 工作簿 (.xls)",
        ) from exc
    kind = type(office).__name__
    if kind == "OOXMLFile":  # an OLE box holding EncryptionInfo: an encrypted xlsx
        return "xlsx-encrypted"
    if kind == "Xls97File":
        try:
            encrypted = office.is_encrypted()
        except Exception as exc:
            raise InputFileError(
                "xls 文件已损坏",
                "xls file is damaged",
                file=name,
                found=type(exc).__name__,
            ) from exc
        return "xls-encrypted" if encrypted else "xls"
    raise InputFileError(
        "这是其他 Office 文档，不是 Excel 工作簿",
        "this is another Office document, not an Excel workbook",
        file=name,
        found=kind,
        expected="xlsx / xls",
    )


def _sniff_zip(data: bytes, name: str) -> str:
    """The format of a zip: "xlsx" when it holds a workbook part; a damaged zip or another
    archive is an ``InputFileError``."""
    try:
        with zipfile.ZipFile(_stdio.BytesIO(data)) as zf:
            names = set(zf.namelist())
    except (zipfile.BadZipFile, EOFError, ValueError) as exc:
        raise InputFileError(
            "xlsx 文件已损坏或不完整 (压缩包无法打开，可能下载中断)",
            "xlsx file is damaged or truncated (zip container cannot be opened)",
            file=name,
            found=str(exc),
            expected="完整的 xlsx 工作簿 (a complete xlsx workbook)",
        ) from exc
    if "xl/workbook.xml" in names or "xl/workbook.bin" in names:
        return "xlsx"
    raise InputFileError(
        "压缩包不是 Excel 工作簿",
        "zip archive is not an Excel workbook",
        file=name,
        found=sorted(names)[:5],
        expected="包含 xl/workbook.xml 的 xlsx (xlsx with xl/workbook.xml)",
    )


def detect_format(path: str | os.PathLike[str]) -> str:
    """Return the container of ``path`` by content: one of :data:`FORMATS`.

    Raises :class:`InputFileError` for missing, empty, damaged or non-spreadsheet files.
    """
    p = Path(path)
    return _sniff(_read_bytes(p), p)


def _decode_text(data: bytes, name: str) -> tuple[str, str]:
    """Decode bytes to text; return ``(text, encoding)``.

    BOMs and valid UTF-8 are unambiguous and checked first. Otherwise charset-normalizer
    guesses; any GBK-family guess decodes as gb18030, the superset that also holds the rare
    characters of enterprise names.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "utf-16"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    matches = charset_normalizer.from_bytes(data)
    encodings = [m.encoding for m in matches]
    if any(e.replace("-", "_").lower() in _GBK_FAMILY for e in encodings):
        encoding = "gb18030"
    elif encodings:
        encoding = encodings[0]
    else:
        encoding = "gb18030"  # Chinese exports are the only non-UTF-8 text we receive
    try:
        return data.decode(encoding), encoding
    except (UnicodeDecodeError, LookupError) as exc:
        raise InputFileError(
            "无法识别文本编码",
            "cannot determine the text encoding",
            file=name,
            found=encoding,
            expected="UTF-8 / GBK / GB18030",
        ) from exc
